package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// registry is a fake OCI registry for the memory tests, on loopback: a tag
// list of generated pages (Link: rel="next", as the distribution spec
// pages), a Helm manifest and config blob for any tag, made when first
// asked for, and blob GETs redirected to a second host, as Docker Hub
// redirects them to its CDN. Manifests and blobs are generated again for
// every answer instead of being stored, so that the fake's own memory does
// not grow with what it serves: the heap the tests measure is the client's.
type registry struct {
	srv, cdn *httptest.Server

	mu       sync.Mutex
	pages    [][]byte          // tag list pages, JSON
	manifest map[string]string // tag -> manifest digest
	gen      map[string]func() []byte
	pad      int         // bytes of padding annotation per manifest
	onPage   func(i int) // called before a tag list page is served
	made     int         // manifests made, for their created times
	sampled  bool        // sample the heap at each tag list page and HEAD
	peak     uint64      // the largest HeapAlloc seen by sample
	counts   map[string]int
}

func newRegistry(t testing.TB) *registry {
	r := &registry{manifest: map[string]string{}, gen: map[string]func() []byte{}, counts: map[string]int{}}
	r.cdn = httptest.NewServer(http.HandlerFunc(r.serveCDN))
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	t.Cleanup(r.cdn.Close)
	return r
}

func (r *registry) host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// setTags serves tags as pages of perPage.
func (r *registry) setTags(tags []string, perPage int) {
	var pages [][]byte
	for i := 0; i < len(tags) || i == 0; i += perPage {
		b, _ := json.Marshal(map[string]any{"name": "x", "tags": tags[i:min(i+perPage, len(tags))]})
		pages = append(pages, b)
	}
	r.mu.Lock()
	r.pages = pages
	r.mu.Unlock()
}

func (r *registry) count(what string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[what]
}

// sample records the heap in use, after a collection, as the client
// holds it between two pages or while it resolves the versions it kept.
func (r *registry) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	r.mu.Lock()
	r.peak = max(r.peak, m.HeapAlloc)
	r.mu.Unlock()
}

func (r *registry) add(b func() []byte) string {
	sum := sha256.Sum256(b())
	d := "sha256:" + hex.EncodeToString(sum[:])
	r.gen[d] = b
	return d
}

// digestOf makes the manifest and config of a tag when first asked for.
// r.mu is held.
func (r *registry) digestOf(tag string) string {
	if d, ok := r.manifest[tag]; ok {
		return d
	}
	config := func() []byte {
		b, _ := json.Marshal(map[string]any{"apiVersion": "v2", "name": "x", "version": strings.ReplaceAll(tag, "_", "+"), "appVersion": "app-" + tag})
		return b
	}
	cd := r.add(config)
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.made) * time.Hour).Format(time.RFC3339)
	r.made++
	pad := r.pad
	manifest := func() []byte {
		b, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": mediaManifest,
			"config": map[string]any{"mediaType": mediaConfig, "digest": cd, "size": len(config())},
			"layers": []map[string]any{{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": "sha256:" + strings.Repeat("0", 64), "size": 1}},
			"annotations": map[string]string{annoCreated: created, "org.opencontainers.image.version": tag,
				"org.example.padding": strings.Repeat("p", pad)},
		})
		return b
	}
	d := r.add(manifest)
	r.manifest[tag] = d
	return d
}

func (r *registry) serve(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/v2/x/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	kind, ref, _ := strings.Cut(rest, "/")
	r.mu.Lock()
	r.counts[req.Method+" "+kind]++
	r.mu.Unlock()
	switch kind {
	case "tags":
		i, _ := strconv.Atoi(req.URL.Query().Get("page"))
		r.mu.Lock()
		sampled, onPage, pages := r.sampled, r.onPage, r.pages
		r.mu.Unlock()
		if sampled {
			r.sample()
		}
		if onPage != nil {
			onPage(i)
		}
		if i >= len(pages) {
			http.NotFound(w, req)
			return
		}
		if i+1 < len(pages) {
			w.Header().Set("Link", fmt.Sprintf(`</v2/x/tags/list?n=1000&page=%d>; rel="next"`, i+1))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(pages[i])
	case "manifests":
		r.mu.Lock()
		sampled := r.sampled
		r.mu.Unlock()
		if sampled && req.Method == http.MethodHead {
			r.sample() // the versions being read, and whatever the listing left
		}
		r.mu.Lock()
		d := ref
		if !strings.HasPrefix(ref, "sha256:") {
			d = r.digestOf(ref)
		}
		gen := r.gen[d]
		r.mu.Unlock()
		if gen == nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Content-Type", mediaManifest)
		if req.Method == http.MethodGet {
			w.Write(gen())
		}
	case "blobs":
		http.Redirect(w, req, r.cdn.URL+"/blob/"+ref, http.StatusTemporaryRedirect)
	default:
		http.NotFound(w, req)
	}
}

func (r *registry) serveCDN(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	gen := r.gen[strings.TrimPrefix(req.URL.Path, "/blob/")]
	r.mu.Unlock()
	if gen == nil {
		http.NotFound(w, req)
		return
	}
	w.Write(gen())
}

// semverTags returns n distinct short semver tags in no particular order
// (M.m.p with M < 97, m < 1000), every 1000th replaced by a signature tag.
func semverTags(n int) []string {
	tags := make([]string, n)
	for g := range n {
		if g%1000 == 999 {
			tags[g] = fmt.Sprintf("sha256-%064d.sig", g)
			continue
		}
		tags[g] = fmt.Sprintf("%d.%d.%d", g%97, (g/97)%1000, g/97000)
	}
	return tags
}
