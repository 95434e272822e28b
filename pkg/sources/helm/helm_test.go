package helm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

var t0 = time.Date(2026, 8, 22, 12, 0, 0, 0, time.UTC)

type env struct {
	helm  *fakes.Helm
	clock *fakes.Clock
	src   *Source
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	clock := fakes.NewClock(t0)
	cfg.HTTPClient = h.Client()
	cfg.Now = clock.Now
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 15 * time.Minute
	}
	return &env{helm: h, clock: clock, src: New(cfg)}
}

func TestChartVersionsFromFake(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		folder, chart string
		count         int
		newestApp     string
	}{
		{"otwld__ollama-helm", "ollama", 164, "0.32.15"},
		{"otwld__ollama-helm@2025-09-17", "ollama", 115, "0.11.11"},
		{"NVIDIA__gpu-operator", "gpu-operator", 59, "v26.7.0"},
		{"amikos-tech__chromadb-chart/", "chromadb", 23, "1.5.3"}, // trailing slash
		{"vllm-project__production-stack@2026-01-28", "vllm-stack", 20, ""},
	} {
		vs, notices, err := e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: e.helm.RepoURL(tc.folder), Name: tc.chart})
		if err != nil || len(notices) != 0 {
			t.Fatalf("%s: %v %v", tc.folder, err, notices)
		}
		if len(vs) != tc.count || vs[0].AppVersion != tc.newestApp {
			t.Errorf("%s: %d versions, newest appVersion %q; want %d, %q", tc.folder, len(vs), vs[0].AppVersion, tc.count, tc.newestApp)
		}
	}
	if got := e.helm.RequestsTo("/amikos-tech__chromadb-chart/index.yaml"); got != 1 {
		t.Errorf("%d requests for the chromadb index", got)
	}
}

func TestRevalidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	ref := sources.ChartRef{Repository: e.helm.RepoURL("otwld__ollama-helm"), Name: "ollama"}
	first, _, err := e.src.ChartVersions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	parses := e.src.parses.Load()

	e.clock.Advance(10 * time.Minute)
	if _, _, err := e.src.ChartVersions(ctx, ref); err != nil || e.helm.Requests() != 1 {
		t.Fatalf("within the TTL: %d requests, %v", e.helm.Requests(), err)
	}

	e.clock.Advance(10 * time.Minute)
	again, _, err := e.src.ChartVersions(ctx, ref)
	if err != nil || e.helm.Requests() != 2 || e.helm.NotModified() != 1 {
		t.Fatalf("after the TTL: %d requests, %d 304s, %v", e.helm.Requests(), e.helm.NotModified(), err)
	}
	if e.src.parses.Load() != parses || len(again) != len(first) || again[0] != first[0] {
		t.Fatalf("304 re-parsed or changed the data")
	}

	// A changed index is downloaded and parsed again.
	e.helm.Replace("otwld__ollama-helm", []byte("apiVersion: v1\nentries:\n  ollama:\n  - version: 2.0.0\n    appVersion: 0.40.0\n"))
	e.clock.Advance(16 * time.Minute)
	vs, _, err := e.src.ChartVersions(ctx, ref)
	if err != nil || len(vs) != 1 || vs[0].AppVersion != "0.40.0" {
		t.Fatalf("after Replace: %+v, %v", vs, err)
	}
}

func TestIfModifiedSinceOnly(t *testing.T) {
	t.Parallel()
	// A server that only knows Last-Modified.
	var mu sync.Mutex
	var conditional, total int
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		total++
		h := http.Header{"Last-Modified": {modified.Format(http.TimeFormat)}}
		if ims := r.Header.Get("If-Modified-Since"); ims != "" {
			conditional++
			return &http.Response{StatusCode: http.StatusNotModified, Header: h, Body: http.NoBody}, nil
		}
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader("entries:\n  a:\n  - version: 1.0.0\n"))}, nil
	})
	clock := fakes.NewClock(t0)
	src := New(Config{HTTPClient: &http.Client{Transport: rt}, CacheTTL: time.Minute, Now: clock.Now})
	ref := sources.ChartRef{Repository: "https://charts.example.com/x", Name: "a"}
	for range 2 {
		vs, _, err := src.ChartVersions(context.Background(), ref)
		if err != nil || len(vs) != 1 {
			t.Fatal(vs, err)
		}
		clock.Advance(2 * time.Minute)
	}
	if total != 2 || conditional != 1 {
		t.Fatalf("%d requests, %d conditional", total, conditional)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOneFetchPerRepository(t *testing.T) {
	t.Parallel()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	h.Replace("multi", []byte("apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n  b:\n  - version: 2.0.0\n  c:\n  - version: 3.0.0\n"))
	repo := h.RepoURL("multi")
	src := New(Config{HTTPClient: h.Client(), CacheTTL: time.Hour, Charts: []sources.ChartRef{{Repository: repo, Name: "a"}, {Repository: repo + "/", Name: "b"}}})
	ctx := context.Background()
	for _, name := range []string{"a", "b", "a"} {
		vs, _, err := src.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: name})
		if err != nil || len(vs) != 1 {
			t.Fatalf("%s: %v %v", name, vs, err)
		}
	}
	if h.Requests() != 1 {
		t.Fatalf("%d requests for charts known up front, want 1", h.Requests())
	}
	// A chart not known up front costs one more download, then all three are served.
	for _, name := range []string{"c", "a", "b", "c"} {
		if _, _, err := src.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if h.Requests() != 2 {
		t.Fatalf("%d requests, want 2", h.Requests())
	}
	if src.cache.Len() != 1 {
		t.Fatalf("%d cache entries, want the old name set retired", src.cache.Len())
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	gate := e.helm.Hold()
	ref := sources.ChartRef{Repository: e.helm.RepoURL("NVIDIA__gpu-operator"), Name: "gpu-operator"}
	const n = 16
	err := gate.Burst(n, func() error {
		vs, _, err := e.src.ChartVersions(context.Background(), ref)
		if err == nil && len(vs) != 59 {
			err = errors.New("wrong count")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.helm.Requests() != 1 {
		t.Fatalf("%d requests for %d concurrent calls", e.helm.Requests(), n)
	}
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{MaxIndexBytes: 100 << 10}) // ollama's index is 160 KB
	_, _, err := e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: e.helm.RepoURL("otwld__ollama-helm"), Name: "ollama"})
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "/otwld__ollama-helm/index.yaml is larger than the limit of 102400 bytes") {
		t.Fatalf("err = %v", err)
	}
	// Within the limit the same source works.
	if _, _, err := e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: e.helm.RepoURL("vllm-project__production-stack"), Name: "vllm-stack"}); err != nil {
		t.Fatal(err)
	}

	// A body longer than its Content-Length claims is still cut off, in
	// both the streaming and the full-decode path.
	for name, body := range map[string]string{
		"stream": "entries:\n  a:\n" + strings.Repeat("  - version: 1.0.0\n", 5_000),
		"json":   `{"entries":{"a":[` + strings.Repeat(`{"version":"1.0.0"},`, 5_000) + `{}]}}`,
	} {
		rt := roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, ContentLength: 10, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
		})
		src := New(Config{HTTPClient: &http.Client{Transport: rt}, MaxIndexBytes: 50_000})
		_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "https://charts.example.com", Name: "a"})
		if err == nil || err.Error() != "https://charts.example.com/index.yaml is larger than the limit of 50000 bytes (raise the index size limit in the datasource settings)" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestAliasBombFromRepository(t *testing.T) {
	t.Parallel()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	src := New(Config{HTTPClient: h.Client()})
	i := 0
	for name, doc := range aliasBombs() {
		folder := "bomb" + itoa(i)
		i++
		h.Replace(folder, []byte(doc))
		_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL(folder), Name: "bomb"})
		if err == nil || !strings.Contains(err.Error(), folder+"/index.yaml") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestCrossChartAliasRefetchesWhole(t *testing.T) {
	t.Parallel()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	h.Replace("anchors", []byte("entries:\n  b:\n  - &e\n    version: 1.0.0\n    appVersion: \"3.1\"\n  a:\n  - *e\n"))
	src := New(Config{HTTPClient: h.Client()})
	vs, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL("anchors"), Name: "a"})
	if err != nil || len(vs) != 1 || vs[0].AppVersion != "3.1" {
		t.Fatalf("%+v, %v", vs, err)
	}
	if h.Requests() != 2 {
		t.Fatalf("%d requests, want 2 (stream, then whole)", h.Requests())
	}
}

func TestChartNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	repo := e.helm.RepoURL("otwld__ollama-helm")
	_, _, err := e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: repo, Name: "llama"})
	if err == nil || err.Error() != "chart llama not found in "+repo+"/index.yaml" {
		t.Fatalf("err = %v", err)
	}
	_, _, err = e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: e.helm.RepoURL("no-such-repo"), Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "GET "+e.helm.URL()+"/no-such-repo/index.yaml: HTTP 404") {
		t.Fatalf("missing repository: err = %v", err)
	}
	for _, bad := range []string{"oci://ghcr.io/x", "ftp://x", "not a url"} {
		if _, _, err := e.src.ChartVersions(context.Background(), sources.ChartRef{Repository: bad, Name: "x"}); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestStaleOnErrorAndIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	ollama := sources.ChartRef{Repository: e.helm.RepoURL("otwld__ollama-helm"), Name: "ollama"}
	chroma := sources.ChartRef{Repository: e.helm.RepoURL("amikos-tech__chromadb-chart"), Name: "chromadb"}
	good, _, err := e.src.ChartVersions(ctx, ollama)
	if err != nil {
		t.Fatal(err)
	}
	e.helm.Fail("otwld__ollama-helm", http.StatusBadGateway)
	e.helm.Fail("amikos-tech__chromadb-chart", http.StatusInternalServerError)
	e.clock.Advance(time.Hour)
	vs, notices, err := e.src.ChartVersions(ctx, ollama)
	if err != nil || len(vs) != len(good) || len(notices) != 1 {
		t.Fatalf("stale: %d versions, %v, %v", len(vs), notices, err)
	}
	for _, want := range []string{"serving data fetched at " + t0.Format(time.RFC3339), "refresh failed", "HTTP 502", "otwld__ollama-helm/index.yaml"} {
		if !strings.Contains(string(notices[0]), want) {
			t.Errorf("notice %q lacks %q", notices[0], want)
		}
	}
	if _, _, err := e.src.ChartVersions(ctx, chroma); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("never-fetched failing repo: err = %v", err)
	}
	e.helm.Fail("amikos-tech__chromadb-chart", 0)
	e.clock.Advance(cache.DefaultFailureTTL) // the failure is remembered that long
	if vs, notices, err := e.src.ChartVersions(ctx, chroma); err != nil || len(notices) != 0 || len(vs) != 23 {
		t.Fatalf("healed repo: %d, %v, %v", len(vs), notices, err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	h.Hold() // never released: the request can only end by the time limit
	src := New(Config{HTTPClient: h.Client(), Timeout: 50 * time.Millisecond})
	_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL("otwld__ollama-helm"), Name: "ollama"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewNameKeepsOldDataOnFailure(t *testing.T) {
	t.Parallel()
	h := fakes.NewHelm(t, fakes.FixturesDir())
	h.Replace("multi", []byte("entries:\n  a:\n  - version: 1.0.0\n  b:\n  - version: 2.0.0\n"))
	repo := h.RepoURL("multi")
	src := New(Config{HTTPClient: h.Client(), CacheTTL: time.Hour})
	ctx := context.Background()
	if _, _, err := src.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	h.Fail("multi", http.StatusServiceUnavailable)
	// b was never fetched: an error. a is still served, with a notice.
	if _, _, err := src.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: "b"}); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("b: err = %v", err)
	}
	vs, notices, err := src.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: "a"})
	if err != nil || len(vs) != 1 || len(notices) != 1 || !strings.Contains(string(notices[0]), "HTTP 503") {
		t.Fatalf("a: %v, %v, %v", vs, notices, err)
	}
}
