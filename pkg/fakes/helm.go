package fakes

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helm is a fake server of Helm HTTP repositories built from the fixtures.
//
// Every file of a fixture folder that has an index.yaml is served at
// /<folder>/<file>, so RepoURL("otwld__ollama-helm") is a repository whose
// index is /otwld__ollama-helm/index.yaml. A snapshot file index-<V>.yaml is
// also mounted as the index of the folder variant <folder>@<V>:
// RepoURL("vllm-project__production-stack@2026-01-28") serves
// index-2026-01-28.yaml as its index.yaml.
//
// Responses carry ETag and Last-Modified and answer 304 to If-None-Match
// (or, without it, If-Modified-Since).
type Helm struct {
	srv *httptest.Server

	mu      sync.Mutex
	files   map[string]*helmFile // key: "/folder/file"
	failing map[string]int       // folder -> status
	version int

	counters
	holder
}

type helmFile struct {
	content  []byte
	etag     string
	modified time.Time
}

// helmEpoch is the Last-Modified of the fixture files; every Replace moves it
// on by an hour.
var helmEpoch = time.Date(2026, 8, 22, 0, 0, 0, 0, time.UTC)

// NewHelm starts a fake Helm repository server for every folder of
// fixturesDir that has an index.yaml. The server is closed when the test ends.
func NewHelm(t testing.TB, fixturesDir string) *Helm {
	t.Helper()
	h := &Helm{files: map[string]*helmFile{}, failing: map[string]int{}}
	dirs, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatalf("fakes.NewHelm: %v", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(fixturesDir, d.Name(), "index.yaml")); err != nil {
			continue
		}
		files, err := os.ReadDir(filepath.Join(fixturesDir, d.Name()))
		if err != nil {
			t.Fatalf("fakes.NewHelm: %v", err)
		}
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(fixturesDir, d.Name(), f.Name()))
			if err != nil {
				t.Fatalf("fakes.NewHelm: %v", err)
			}
			h.put("/"+d.Name()+"/"+f.Name(), b)
			if v, ok := strings.CutPrefix(f.Name(), "index-"); ok && strings.HasSuffix(v, ".yaml") {
				h.put("/"+d.Name()+"@"+strings.TrimSuffix(v, ".yaml")+"/index.yaml", b)
			}
		}
	}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.releaseGate()
		h.srv.Close()
	})
	return h
}

// put stores a file; called with h.mu held or before serving.
func (h *Helm) put(path string, content []byte) {
	sum := sha256.Sum256(content)
	h.files[path] = &helmFile{
		content:  content,
		etag:     `"` + hex.EncodeToString(sum[:16]) + `"`,
		modified: helmEpoch.Add(time.Duration(h.version) * time.Hour),
	}
}

// Moved starts a second server (closed when the test ends) that answers
// every request with 301 to the same path on this one, as GitHub Pages does
// for a renamed organisation or a repository moved behind a CDN. Its base URL
// is returned; Lagwatch must follow the redirect to this server's host.
func (h *Helm) Moved(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.count("moved " + r.URL.Path)
		http.Redirect(w, r, h.srv.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// URL is the server's base URL.
func (h *Helm) URL() string { return h.srv.URL }

// RepoURL is the repository URL of a fixture folder or folder variant
// (folder@V), without a trailing slash.
func (h *Helm) RepoURL(folder string) string { return h.srv.URL + "/" + folder }

// Client returns an HTTP client for the server.
func (h *Helm) Client() *http.Client { return h.srv.Client() }

// Repos lists the served repository folders, variants included, sorted.
func (h *Helm) Repos() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for p := range h.files {
		if folder, ok := strings.CutSuffix(strings.TrimPrefix(p, "/"), "/index.yaml"); ok {
			out = append(out, folder)
		}
	}
	sort.Strings(out)
	return out
}

// Index returns the index.yaml currently served for folder (nil if none).
func (h *Helm) Index(folder string) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.files["/"+folder+"/index.yaml"]; f != nil {
		return f.content
	}
	return nil
}

// Replace serves content as the index.yaml of folder from now on (creating
// the repository when it does not exist), with a new ETag and Last-Modified.
func (h *Helm) Replace(folder string, content []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.version++
	h.put("/"+folder+"/index.yaml", content)
}

// Fail makes every request below folder answer HTTP status; 0 heals it.
func (h *Helm) Fail(folder string, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if status == 0 {
		delete(h.failing, folder)
		return
	}
	h.failing[folder] = status
}

func (h *Helm) serve(w http.ResponseWriter, r *http.Request) {
	h.count(r.URL.Path)
	h.admit(r)

	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	folder, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if st := h.failing[folder]; st != 0 {
		http.Error(w, http.StatusText(st), st)
		return
	}
	f := h.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("ETag", f.etag)
	hd.Set("Last-Modified", f.modified.Format(http.TimeFormat))
	hd.Set("Cache-Control", "max-age=600")
	if notModified(r, f) {
		h.countNotModified()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "application/x-yaml")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.content)
}

func notModified(r *http.Request, f *helmFile) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatch(inm, f.etag)
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !f.modified.After(t)
	}
	return false
}
