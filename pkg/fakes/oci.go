package fakes

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
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
//   - GET /v2/NAME/blobs/DIGEST: 307 to a separate CDN server (as Docker Hub
//     redirects to production.cloudflare.docker.com and GHCR to
//     pkg-containers.githubusercontent.com), which serves the config blob
//     ({"name","version","appVersion"}, and "home", "sources" when the
//     version has them) without auth. A request that
//     reaches the CDN with an Authorization header is refused with 403 and
//     fails the test: the registry's token must never leave its host.
//
// NewOCITLS serves the same over https under Docker Hub's layout of names:
// the registry on registry-1.docker.test, its token realm on another host
// of its registrable domain (auth.docker.test), blobs on a CDN of another
// domain (cdn.blobs.test).
//
// Besides version tags every chart has "latest" and a cosign signature tag
// "sha256-<hex>.sig", which are not versions.
type OCI struct {
	srv     *httptest.Server
	auth    *httptest.Server // the token realm's server (srv itself over http)
	cdn     *httptest.Server
	rt      *http.Transport // NewOCITLS: resolves the fake names to the servers, trusts their certificate
	host    string          // the registry as in oci://HOST/…
	cdnAuth int             // CDN requests that came with Authorization

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

// NewOCI starts a fake registry with no charts, and its CDN, on loopback
// over http; they close when the test ends.
func NewOCI(t testing.TB) *OCI {
	t.Helper()
	o := newOCI(t)
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	o.auth = o.srv
	o.cdn = httptest.NewServer(http.HandlerFunc(o.serveCDN))
	o.host = strings.TrimPrefix(o.srv.URL, "http://")
	t.Cleanup(o.close(t))
	return o
}

// NewOCITLS starts the registry, its token service and its CDN over https
// on the names of the OCITLS… constants (see OCI). Reach them with
// Transport, which maps the names to the loopback listeners: no name is
// ever resolved by DNS.
func NewOCITLS(t testing.TB) *OCI {
	t.Helper()
	o := newOCI(t)
	cert, pool := selfSigned(t, OCITLSRegistry, OCITLSAuth, OCITLSCDN)
	start := func(h http.HandlerFunc) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.StartTLS()
		return s
	}
	o.srv, o.auth, o.cdn = start(o.serve), start(o.serve), start(o.serveCDN)
	addrs := map[string]string{}
	for name, s := range map[string]*httptest.Server{OCITLSRegistry: o.srv, OCITLSAuth: o.auth, OCITLSCDN: o.cdn} {
		port := s.Listener.Addr().(*net.TCPAddr).Port
		addrs[net.JoinHostPort(name, strconv.Itoa(port))] = s.Listener.Addr().String()
	}
	o.host = o.named(o.srv)
	d := &net.Dialer{}
	o.rt = &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			target, ok := addrs[addr]
			if !ok {
				return nil, fmt.Errorf("fakes: %s is not a fake registry name", addr) // never resolved, never dialled
			}
			return d.DialContext(ctx, network, target)
		},
	}
	t.Cleanup(o.close(t))
	return o
}

// The names NewOCITLS serves: Docker Hub's layout on the reserved .test TLD.
const (
	OCITLSRegistry = "registry-1.docker.test"
	OCITLSAuth     = "auth.docker.test"
	OCITLSCDN      = "cdn.blobs.test"
)

func newOCI(t testing.TB) *OCI {
	return &OCI{charts: map[string][]OCIVersion{}, blobs: map[string][]byte{}, manifests: map[string]map[string]string{},
		logins: map[string][2]string{}, tokens: map[string]string{}}
}

// named is the URL base of a server of NewOCITLS by its fake name.
func (o *OCI) named(s *httptest.Server) string {
	port := strconv.Itoa(s.Listener.Addr().(*net.TCPAddr).Port)
	switch s {
	case o.srv:
		return net.JoinHostPort(OCITLSRegistry, port)
	case o.auth:
		return net.JoinHostPort(OCITLSAuth, port)
	}
	return net.JoinHostPort(OCITLSCDN, port)
}

func (o *OCI) close(t testing.TB) func() {
	return func() {
		o.srv.Close()
		o.auth.Close()
		o.cdn.Close()
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.cdnAuth > 0 {
			t.Errorf("fakes.OCI: the CDN received %d requests with an Authorization header: the registry's token left its host", o.cdnAuth)
		}
	}
}

// base is the URL of one of the servers as clients see it.
func (o *OCI) base(s *httptest.Server) string {
	if o.rt == nil {
		return s.URL
	}
	return "https://" + o.named(s)
}

// Host is the registry's host:port, as in oci://HOST/….
func (o *OCI) Host() string { return o.host }

// CDNHost is the host:port of the CDN blobs are redirected to.
func (o *OCI) CDNHost() string {
	if o.rt == nil {
		return strings.TrimPrefix(o.cdn.URL, "http://")
	}
	return o.named(o.cdn)
}

// Transport is the transport that reaches a NewOCITLS registry by its
// names (nil for NewOCI, which is reached directly on loopback).
func (o *OCI) Transport() *http.Transport { return o.rt }

// Client is an HTTP client for the server.
func (o *OCI) Client() *http.Client {
	if o.rt != nil {
		return &http.Client{Transport: o.rt}
	}
	return o.srv.Client()
}

// CDNAuthorizations is how many requests reached the CDN with an
// Authorization header (refused; the test fails when it ends).
func (o *OCI) CDNAuthorizations() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cdnAuth
}

// serveCDN serves blobs by digest without auth at /blobs/DIGEST.
func (o *OCI) serveCDN(w http.ResponseWriter, r *http.Request) {
	o.count("GET cdn blob")
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		o.cdnAuth++
		http.Error(w, "Authorization sent to the CDN", http.StatusForbidden)
		return
	}
	body, ok := o.blobs[strings.TrimPrefix(r.URL.Path, "/blobs/")]
	if !ok || r.URL.Query().Get("sig") == "" {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(body)
}

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
	if r.URL.Path == "/token" && (o.auth == o.srv || r.Host == o.named(o.auth)) {
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
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake-registry",scope="repository:%s:pull"`, o.base(o.auth), name))
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
		if _, ok := o.blobs[ref]; !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		// like Docker Hub: a signed, short-lived URL on the CDN
		http.Redirect(w, r, o.base(o.cdn)+"/blobs/"+ref+"?sig=fake&expires=600", http.StatusTemporaryRedirect)
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
