package oci

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Blobs come from the CDN the registry redirects to, without the
// registry's token (the fake refuses and reports one), and are counted as
// redirected.
func TestBlobsThroughCDN(t *testing.T) {
	e := newEnv(t, Config{})
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(4, t0))
	vs, _ := e.get(t)
	c := e.src.Counts()
	if len(vs) != 4 || c.Blobs != 4 || c.Redirected != 4 || e.reg.RequestsTo("GET cdn blob") != 4 || e.reg.CDNAuthorizations() != 0 {
		t.Fatalf("%d versions, counts %+v, CDN requests %d (%d with Authorization)", len(vs), c, e.reg.RequestsTo("GET cdn blob"), e.reg.CDNAuthorizations())
	}
	if got := allowFor2(e.reg).Followed()[e.reg.CDNHost()]; got != 4 {
		t.Fatalf("followed to the CDN %d times, want 4 (%v)", got, allowFor2(e.reg).Followed())
	}
}

func allowFor2(reg *fakes.OCI) *sources.AllowHosts { return allowLists(reg) }

// Docker Hub's layout over https: the registry on registry-1.docker.test,
// the token realm on auth.docker.test (another host of the same registrable
// domain), blobs on a CDN of another domain.
func TestDockerHubLayout(t *testing.T) {
	reg := fakes.NewOCITLS(t)
	reg.Put("bitnamicharts/redis", fakes.RedisVersions(t))
	src, err := New(Config{HTTPClient: clientFor(reg), AllowHost: allowFor(reg)})
	if err != nil {
		t.Fatal(err)
	}
	vs, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + reg.Host() + "/bitnamicharts", Name: "redis"})
	if err != nil {
		t.Fatal(err)
	}
	c := src.Counts()
	if len(vs) == 0 || c.Tokens == 0 || c.Redirected != c.Blobs || reg.RequestsTo("GET token") != c.Tokens {
		t.Fatalf("%d versions, counts %+v, token requests %d", len(vs), c, reg.RequestsTo("GET token"))
	}
	if !strings.HasPrefix(reg.Host(), fakes.OCITLSRegistry+":") || !strings.HasPrefix(reg.CDNHost(), fakes.OCITLSCDN+":") {
		t.Fatalf("hosts %s, %s", reg.Host(), reg.CDNHost())
	}
}

// hostile is a registry on loopback that answers every /v2/ request with
// 401 and the given challenge, and records what the plugin sends it.
type hostile struct {
	srv   *httptest.Server
	mu    sync.Mutex
	auths []string
	paths []string
}

func newHostile(t *testing.T, challenge func(h *hostile) string, extra http.HandlerFunc) *hostile {
	h := &hostile{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.auths = append(h.auths, r.Header.Get("Authorization"))
		h.paths = append(h.paths, r.URL.Path)
		h.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/v2/") {
			extra(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", challenge(h))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostile) host() string { return strings.TrimPrefix(h.srv.URL, "http://") }

// dialRecorder is a transport that dials only loopback and records every
// address it is asked to dial.
type dialRecorder struct {
	mu     sync.Mutex
	dialed []string
}

func (d *dialRecorder) transport() *http.Transport {
	var nd net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.mu.Lock()
		d.dialed = append(d.dialed, addr)
		d.mu.Unlock()
		if host, _, _ := net.SplitHostPort(addr); net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
			return nil, fmt.Errorf("test: %s is not on loopback", addr)
		}
		return nd.DialContext(ctx, network, addr)
	}}
}

func hostileSource(t *testing.T, h *hostile, rec *dialRecorder, cfg Config) *Source {
	allow := sources.NewAllowHosts(rec.transport(), h.host())
	cfg.HTTPClient = &http.Client{Transport: allow, CheckRedirect: sources.CheckRedirect}
	cfg.AllowHost = allow.Allow
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// A realm on the cloud metadata address is refused without any request,
// whatever the settings say; so is a realm on another registrable domain.
func TestHostileRealmRefused(t *testing.T) {
	for _, tc := range []struct {
		name, realm string
		tokenHosts  []string
		want        string
	}{
		{"metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/ROLE", nil, "which is neither its host nor on its domain"},
		{"metadata named in the settings", "http://169.254.169.254/latest/meta-data/iam/security-credentials/ROLE", []string{"169.254.169.254"}, "did not issue a token"},
		{"another domain", "http://auth.attacker.test/token", nil, "which is neither its host nor on its domain; if you trust it, add \"auth.attacker.test\" to OCI token hosts in the datasource settings"},
		{"not a URL", "file:///etc/passwd", nil, "is not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostile(t, func(*hostile) string { return `Bearer realm="` + tc.realm + `",service="x"` }, http.NotFound)
			rec := &dialRecorder{}
			src := hostileSource(t, h, rec, Config{TokenHosts: tc.tokenHosts})
			_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + h.host() + "/charts", Name: "redis"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, a := range rec.dialed {
				if a != h.host() {
					t.Fatalf("dialled %s (all: %v)", a, rec.dialed)
				}
			}
			if src.Counts().Tokens != 0 {
				t.Fatalf("token requests: %d", src.Counts().Tokens)
			}
		})
	}
}

// The realm must be https unless the registry itself is on loopback over
// http; a realm with another case of "token" is not a token.
func TestRealmScheme(t *testing.T) {
	src, _ := New(Config{})
	if _, err := src.realmAllowed("registry-1.docker.io", "http://auth.docker.io/token"); err == nil || !strings.Contains(err.Error(), "over plain http") {
		t.Errorf("http realm of an https registry: %v", err)
	}
	for realm, ok := range map[string]bool{
		"https://auth.docker.io/token":                  true,
		"https://registry-1.docker.io:8443/token":       true,
		"https://docker.io/token":                       true,
		"https://auth.docker.io.evil.test/token":        false,
		"https://evildocker.io/token":                   false,
		"https://169.254.169.254/token":                 false,
		"https://user:pw@auth.docker.io/token":          false,
		"https://pkg-containers.githubusercontent.com/": false,
	} {
		_, err := src.realmAllowed("registry-1.docker.io", realm)
		if ok != (err == nil) {
			t.Errorf("realm %s of registry-1.docker.io: %v", realm, err)
		}
	}
	// ghcr.io and quay.io use their own host; a named host is allowed.
	named, _ := New(Config{TokenHosts: []string{"auth.example.net:8443"}})
	if _, err := named.realmAllowed("ghcr.io", "https://auth.example.net:8443/token"); err != nil {
		t.Errorf("named token host: %v", err)
	}
	if _, err := named.realmAllowed("ghcr.io", "https://auth.example.net/token"); err == nil {
		t.Errorf("named token host on another port was allowed")
	}
}

// {"Token": …} is what a cloud metadata service answers: it is no token,
// and nothing is sent to the registry with it.
func TestTokenFieldCase(t *testing.T) {
	var realmURL string
	h := newHostile(t, func(*hostile) string { return `Bearer realm="` + realmURL + `"` }, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"AKIA","SecretAccessKey":"secret","Token":"cloud-secret","Access_Token":"x","Expires_In":"1"}`))
	})
	realmURL = h.srv.URL + "/token"
	src := hostileSource(t, h, &dialRecorder{}, Config{})
	_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + h.host() + "/charts", Name: "redis"})
	if err == nil || !strings.Contains(err.Error(), "did not issue a token") || strings.Contains(err.Error(), "cloud-secret") {
		t.Fatalf("err = %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.auths {
		if strings.Contains(a, "cloud-secret") {
			t.Fatalf("the metadata token was sent to the registry: %q", a)
		}
	}
}

// Every way the token service fails gives the same message: an open port
// cannot be told from a closed one, nor one status from another.
func TestTokenFailuresLookAlike(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	answers := map[string]http.HandlerFunc{
		"500":         func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		"404":         http.NotFound,
		"401":         func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) },
		"html":        func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>SSH-2.0-OpenSSH</html>")) },
		"empty token": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"token":""}`)) },
		"closed port": nil,
	}
	var messages []string
	for name, answer := range answers {
		var realmURL string
		h := newHostile(t, func(*hostile) string { return `Bearer realm="` + realmURL + `"` }, answer)
		realmURL = h.srv.URL + "/token"
		if answer == nil {
			realmURL = "http://" + closedAddr + "/token"
		}
		src := hostileSource(t, h, &dialRecorder{}, Config{})
		_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + h.host() + "/charts", Name: "redis"})
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		msg := strings.ReplaceAll(err.Error(), h.host(), "REGISTRY")
		msg = strings.ReplaceAll(msg, closedAddr, "REGISTRY")
		messages = append(messages, msg)
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Fatalf("messages differ:\n%s\n%s", messages[0], m)
		}
	}
	if !strings.Contains(messages[0], "registry REGISTRY: its token service at REGISTRY did not issue a token for charts/redis; if the chart is private, the registry needs credentials") {
		t.Fatalf("message: %s", messages[0])
	}
}

// Retry-After beyond what a Duration holds blocks for the cap (6 h), not
// for a negative time.
func TestRetryAfterOverflow(t *testing.T) {
	for _, ra := range []string{"10000000000", "99999999999999999999999"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", ra)
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		clock := fakes.NewClock(t0)
		src, _ := New(Config{HTTPClient: srv.Client(), Now: clock.Now})
		ref := sources.ChartRef{Repository: "oci://" + strings.TrimPrefix(srv.URL, "http://") + "/charts", Name: "redis"}
		_, _, err := src.ChartVersions(context.Background(), ref)
		want := t0.Add(maxRetryAfter).UTC().Format(time.RFC3339)
		if err == nil || !strings.Contains(err.Error(), "no requests until "+want) {
			t.Fatalf("Retry-After %s: %v, want blocked until %s", ra, err, want)
		}
		clock.Advance(maxRetryAfter - time.Minute)
		if _, err := src.do(context.Background(), strings.TrimPrefix(srv.URL, "http://"), "charts/redis", http.MethodGet, srv.URL+"/v2/", "*/*"); err == nil || !strings.Contains(err.Error(), "asked for no requests until "+want) {
			t.Fatalf("Retry-After %s: a request 5h59m later was not held back: %v", ra, err)
		}
		srv.Close()
	}
}

// The token answer's life is clamped.
func TestDecodeToken(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`{"token":"a","expires_in":300}`:         300 * time.Second,
		`{"access_token":"a"}`:                   time.Minute,
		`{"token":"a","expires_in":1e300}`:       maxTokenLife,
		`{"token":"a","expires_in":-1e300}`:      time.Minute,
		`{"token":"","access_token":"b"}`:        time.Minute,
		`{"token":"a","expires_in":10000000000}`: maxTokenLife,
	} {
		_, life, err := DecodeToken([]byte(in))
		if err != nil || life != want {
			t.Errorf("%s: life %s, %v; want %s", in, life, err, want)
		}
	}
	for _, in := range []string{`{"Token":"a"}`, `{"TOKEN":"a"}`, `{"token":"a b"}`, `{"token":"a\r\nX: y"}`, `{"token":5}`, `[]`, `{"token":"a","expires_in":"300"}`} {
		if v, _, err := DecodeToken([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %q", in, v)
		}
	}
}
