package fakes

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

// OCIVersion is one chart version a fake registry serves.
type OCIVersion struct {
	Version    string
	AppVersion string
	Created    time.Time // zero: the manifest has no created annotation
	Home       string    // Chart.yaml home, in the config blob when set
	Sources    []string  // Chart.yaml sources, in the config blob when set
}

// OCI is a fake OCI registry serving Helm charts the way Docker Hub, GHCR
// and Quay do:
//
//   - GET /v2/ and every other /v2/ path without a valid token: 401 with
//     WWW-Authenticate: Bearer realm="<server>/token",service="fake-registry".
//   - GET /token?service=&scope=repository:NAME:pull: an anonymous token, or,
//     for repositories made private with RequireLogin, one only with the
//     right basic-auth credentials (401 otherwise). expires_in 300.
//   - GET /v2/NAME/tags/list?n=&last=: tags in lexical order, n per page
//     (default 100), with Link: <…>; rel="next".
//   - HEAD and GET /v2/NAME/manifests/REF (tag or digest): an OCI image
//     manifest with the Helm config media type, the created annotation when
//     the version has a time, and Docker-Content-Digest. Only GET is counted
//     as a pull; with SetPullLimit, ratelimit-limit and ratelimit-remaining
//     announce the budget as Docker Hub does ("100;w=21600").
//   - GET /v2/NAME/blobs/DIGEST: the config blob ({"name","version","appVersion"}
//     and "home", "sources" when the version has them).
//
// Besides version tags every chart has "latest" and a cosign signature tag
// "sha256-<hex>.sig", which are not versions.
type OCI struct {
	srv *httptest.Server

	mu        sync.Mutex
	charts    map[string][]OCIVersion // repository name -> versions
	blobs     map[string][]byte       // digest -> content
	manifests map[string]map[string]string
	logins    map[string][2]string // repository -> required user, password
	tokens    map[string]string    // token -> repository
	limited   time.Duration        // Retry-After of a 429 answer to manifest GETs, 0 = none
	corrupt   bool                 // send manifests that do not match their digest
	pulls     int
	pullLimit int // announced in ratelimit-limit when > 0

	counters
}

// NewOCI starts a fake registry with no charts; it closes when the test ends.
func NewOCI(t testing.TB) *OCI {
	t.Helper()
	o := &OCI{charts: map[string][]OCIVersion{}, blobs: map[string][]byte{}, manifests: map[string]map[string]string{},
		logins: map[string][2]string{}, tokens: map[string]string{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

// Host is the registry's host:port, as in oci://HOST/….
func (o *OCI) Host() string { return strings.TrimPrefix(o.srv.URL, "http://") }

// Client is an HTTP client for the server.
func (o *OCI) Client() *http.Client { return o.srv.Client() }

// Put serves versions as the chart repository name (replacing what it had).
func (o *OCI) Put(name string, versions []OCIVersion) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.charts[name] = append([]OCIVersion(nil), versions...)
	tags := map[string]string{}
	for _, v := range versions {
		cfg := map[string]any{"name": name[strings.LastIndex(name, "/")+1:], "version": v.Version, "appVersion": v.AppVersion, "apiVersion": "v2"}
		if v.Home != "" {
			cfg["home"] = v.Home
		}
		if len(v.Sources) > 0 {
			cfg["sources"] = v.Sources
		}
		config, _ := json.Marshal(cfg)
		cd := o.store(config)
		manifest := map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": cd, "size": len(config)},
			"layers": []map[string]any{{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": "sha256:" + strings.Repeat("0", 64), "size": 1}},
		}
		if !v.Created.IsZero() {
			manifest["annotations"] = map[string]string{"org.opencontainers.image.created": v.Created.UTC().Format(time.RFC3339Nano), "org.opencontainers.image.version": v.Version}
		}
		mb, _ := json.Marshal(manifest)
		tags[strings.ReplaceAll(v.Version, "+", "_")] = o.store(mb)
	}
	if len(versions) > 0 {
		tags["latest"] = tags[strings.ReplaceAll(versions[len(versions)-1].Version, "+", "_")]
		tags["sha256-"+strings.Repeat("ab", 32)+".sig"] = tags["latest"]
	}
	o.manifests[name] = tags
}

func (o *OCI) store(b []byte) string {
	sum := sha256.Sum256(b)
	d := "sha256:" + hex.EncodeToString(sum[:])
	o.blobs[d] = b
	return d
}

// RequireLogin makes name private: tokens only for these credentials.
func (o *OCI) RequireLogin(name, user, password string) {
	o.mu.Lock()
	o.logins[name] = [2]string{user, password}
	o.mu.Unlock()
}

// SetPullLimit announces a pull budget of n per 6 hours (Docker Hub's
// anonymous one is 100); the pulls already made count against it.
func (o *OCI) SetPullLimit(n int) {
	o.mu.Lock()
	o.pullLimit = n
	o.mu.Unlock()
}

// Limit makes manifest GETs answer 429 with this Retry-After (0 heals).
func (o *OCI) Limit(retryAfter time.Duration) {
	o.mu.Lock()
	o.limited = retryAfter
	o.mu.Unlock()
}

// Corrupt makes manifests GETs send bytes that do not match their digest.
func (o *OCI) Corrupt(on bool) {
	o.mu.Lock()
	o.corrupt = on
	o.mu.Unlock()
}

// ManifestGETs counts manifest GETs (Docker Hub's pulls); Requests counts
// every request by method and kind: "HEAD manifest", "GET manifest",
// "GET blob", "GET tags", "GET token".
func (o *OCI) ManifestGETs() int { return o.RequestsTo("GET manifest") }

func (o *OCI) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		o.count("GET token")
		o.token(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, kind, ref := splitV2(rest)
	o.mu.Lock()
	defer o.mu.Unlock()
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if name == "" || o.tokens[auth] != name {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake-registry",scope="repository:%s:pull"`, o.srv.URL, name))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	tags, known := o.manifests[name]
	if !known {
		http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	switch kind {
	case "tags":
		o.count("GET tags")
		o.tagList(w, r, name, tags)
	case "manifests":
		o.count(r.Method + " manifest")
		digest := ref
		if !strings.HasPrefix(ref, "sha256:") {
			digest = tags[ref]
		}
		body, ok := o.blobs[digest]
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodGet && o.limited > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(o.limited.Seconds())))
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS"}]}`, http.StatusTooManyRequests)
			return
		}
		if r.Method == http.MethodGet {
			o.pulls++
			if o.corrupt {
				body = append([]byte(" "), body...)
			}
		}
		if o.pullLimit > 0 {
			w.Header().Set("RateLimit-Limit", fmt.Sprintf("%d;w=21600", o.pullLimit))
			w.Header().Set("RateLimit-Remaining", fmt.Sprintf("%d;w=21600", max(o.pullLimit-o.pulls, 0)))
		}
		w.Header().Set("Docker-Content-Digest", digest)
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	case "blobs":
		o.count("GET blob")
		body, ok := o.blobs[ref]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

// splitV2 splits NAME/tags/list, NAME/manifests/REF, NAME/blobs/DIGEST.
func splitV2(rest string) (name, kind, ref string) {
	if n, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return n, "tags", ""
	}
	for _, k := range []string{"/manifests/", "/blobs/"} {
		if i := strings.LastIndex(rest, k); i > 0 {
			return rest[:i], strings.Trim(k, "/"), rest[i+len(k):]
		}
	}
	return "", "", ""
}

func (o *OCI) tagList(w http.ResponseWriter, r *http.Request, name string, tags map[string]string) {
	var all []string
	for t := range tags {
		all = append(all, t)
	}
	sort.Strings(all)
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 || n > 100 {
		n = 100 // like Docker Hub, whatever was asked
	}
	last := r.URL.Query().Get("last")
	i := sort.SearchStrings(all, last)
	if last != "" && i < len(all) && all[i] == last {
		i++
	}
	page := all[i:min(i+n, len(all))]
	if i+n < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, name, n, page[len(page)-1]))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "tags": page})
}

func (o *OCI) token(w http.ResponseWriter, r *http.Request) {
	scope := r.URL.Query().Get("scope")
	name := strings.TrimSuffix(strings.TrimPrefix(scope, "repository:"), ":pull")
	o.mu.Lock()
	defer o.mu.Unlock()
	if login, private := o.logins[name]; private {
		user, pass, ok := r.BasicAuth()
		if !ok || user != login[0] || pass != login[1] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	tok := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s-%d", name, len(o.tokens))))
	o.tokens[tok] = name
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

// RedisVersions reads the real Bitnami Redis chart history of the fixtures
// (testdata/fixtures/real/bitnami__charts-redis/chart.tsv), oldest first.
func RedisVersions(t testing.TB) []OCIVersion {
	t.Helper()
	f, err := os.Open(filepath.Join(FixturesDir(), "bitnami__charts-redis", "chart.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []OCIVersion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || cols[0] == "version" {
			continue
		}
		at, err := time.Parse(time.RFC3339, cols[2])
		if err != nil {
			t.Fatalf("chart.tsv: %v", err)
		}
		out = append(out, OCIVersion{Version: cols[0], AppVersion: cols[1], Created: at})
	}
	return out
}

// SyntheticVersions makes n chart versions 1.0.0, 1.0.1, … a day apart,
// shipping app versions 5.0.0, 5.0.1, … (labelled synthetic: for budget tests).
func SyntheticVersions(n int, from time.Time) []OCIVersion {
	out := make([]OCIVersion, n)
	for i := range out {
		v := semver.New(1, uint64(i/100), uint64(i%100), "", "")
		out[i] = OCIVersion{Version: v.String(), AppVersion: fmt.Sprintf("5.%d.%d", i/100, i%100), Created: from.Add(time.Duration(i) * 24 * time.Hour)}
	}
	return out
}
