package prometheus

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var gpuRef = sources.DeployedRef{Query: fakes.GPUOperatorQuery, Label: "version"}

func newSource(t *testing.T, url string, cfg Config) *Source {
	t.Helper()
	cfg.URL = url
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func deployedAt(t *testing.T, samples []sources.DeployedSample, at string) string {
	t.Helper()
	d, _ := engine.NewDeployed(samples)
	if v := d.At(ts(at)); v != nil {
		return v.String()
	}
	return ""
}

// A range query gives the history, an instant query the value at the
// range's end; both read the label of every series, and consecutive samples
// of the same versions are kept once.
func TestInstantAndRange(t *testing.T) {
	p := fakes.NewPrometheus(t)
	p.Set(gpuRef.Query, fakes.GPUOperatorDeployed...)
	s := newSource(t, p.URL(), Config{CacheTTL: time.Minute})
	ctx := context.Background()

	samples, notices, err := s.Deployed(ctx, gpuRef, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
	if err != nil || len(notices) != 0 || p.RequestsTo("/api/v1/query") != 1 || p.RequestsTo("/api/v1/query_range") != 1 {
		t.Fatalf("%v %q %v (%d instant, %d range requests)", samples, notices, err, p.RequestsTo("/api/v1/query"), p.RequestsTo("/api/v1/query_range"))
	}
	if got := deployedAt(t, samples, "2025-09-30T00:00:00Z"); got != "25.3.3" {
		t.Errorf("deployed at the range end = %q", got)
	}
	// 500 steps, but the versions change three times (25.3.1; both within
	// the lookback; 25.3.3) and the instant sample repeats the last.
	if len(samples) > 4 {
		t.Errorf("%d samples: repeats of the same versions are kept", len(samples))
	}
	for at, want := range map[string]string{
		"2025-09-01T00:00:00Z": "25.3.1", "2025-09-11T23:00:00Z": "25.3.1",
		// Within the lookback after 25.3.1 stopped, both are seen: the lowest counts.
		"2025-09-12T00:02:00Z": "25.3.1",
		"2025-09-13T00:00:00Z": "25.3.3", "2025-09-30T00:00:00Z": "25.3.3",
	} {
		if got := deployedAt(t, samples, at); got != want {
			t.Errorf("deployed at %s = %q, want %q", at, got, want)
		}
	}
	if got := deployedAt(t, samples, "2025-08-31T00:00:00Z"); got != "" {
		t.Errorf("before the range: %q, want unknown", got)
	}
}

// Answers are cached for the TTL; another time range is another key, and
// only the newest few keys of a query are kept.
func TestCache(t *testing.T) {
	p := fakes.NewPrometheus(t)
	p.Set(gpuRef.Query, fakes.GPUOperatorDeployed...)
	s := newSource(t, p.URL(), Config{CacheTTL: time.Hour})
	ctx := context.Background()
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:10Z")
	for range 3 {
		if _, _, err := s.Deployed(ctx, gpuRef, from, to); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Requests(); n != 2 {
		t.Errorf("3 identical queries sent %d requests, want 2 (one range, one instant)", n)
	}
	// A query a few seconds later falls in the same minute: still cached.
	if _, _, err := s.Deployed(ctx, gpuRef, from, to.Add(20*time.Second)); err != nil || p.Requests() != 2 {
		t.Errorf("same minute: %d requests, %v", p.Requests(), err)
	}
	if s.cache.TTL() != MaxCacheTTL {
		t.Errorf("TTL = %s: answers move with time and are kept at most %s", s.cache.TTL(), MaxCacheTTL)
	}
	// Concurrent queries of many time ranges (any Viewer can send them),
	// and failures: the cache stays bounded.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = s.Deployed(ctx, gpuRef, from, to.Add(-time.Duration(i)*time.Hour))
		}()
	}
	wg.Wait()
	if n := s.cache.Len() + s.cache.Failures(); n > keysPerQuery {
		t.Errorf("%d cached answers after 200 time ranges; at most %d", n, keysPerQuery)
	}
	p.Close()
	for i := range 50 {
		if _, _, err := s.Deployed(ctx, gpuRef, from, to.Add(-time.Duration(300+i)*time.Hour)); err == nil {
			t.Fatal("Prometheus is down")
		}
	}
	if n := s.cache.Len() + s.cache.Failures(); n > keysPerQuery {
		t.Errorf("%d cached answers and failures after 50 failing time ranges; at most %d", n, keysPerQuery)
	}
}

// A range ending in the future (a forecast dashboard) reads the value now.
func TestRangeInTheFuture(t *testing.T) {
	p := fakes.NewPrometheus(t)
	p.Set(gpuRef.Query, fakes.GPUOperatorDeployed...)
	now := ts("2025-09-30T00:00:00Z")
	s := newSource(t, p.URL(), Config{Now: func() time.Time { return now }})
	samples, _, err := s.Deployed(context.Background(), gpuRef, now.Add(-24*time.Hour), now.Add(30*24*time.Hour))
	if err != nil || deployedAt(t, samples, "2025-09-30T00:00:00Z") != "25.3.3" {
		t.Errorf("%v %v", samples, err)
	}
}

// One of the two queries failing leaves the other's answer, with a notice.
func TestHalfFailure(t *testing.T) {
	for _, failing := range []string{"/api/v1/query_range", "/api/v1/query"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == failing {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`)
				return
			}
			if r.URL.Path == "/api/v1/query" {
				fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"version":"1.2.0"},"value":[1759190400,"1"]}]}}`)
				return
			}
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"version":"1.1.0"},"values":[[1759104000,"1"]]}]}}`)
		}))
		s := newSource(t, srv.URL, Config{})
		samples, notices, err := s.Deployed(context.Background(), sources.DeployedRef{Query: "x_build_info", Label: "version"}, ts("2025-09-29T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if err != nil || len(samples) != 1 || len(notices) != 1 || !strings.Contains(string(notices[0]), "query timed out") {
			t.Errorf("%s failing: %v %q %v", failing, samples, notices, err)
		}
		srv.Close()
	}
}

// Answers too large to be a deployed version are refused before they cost
// memory: too many series, too many samples.
func TestDecodeLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range maxSeries + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"metric":{"version":"1.0.%d","pod":"p%d"},"value":[1759190400,"1"]}`, i, i)
	}
	b.WriteString(`]}}`)
	if _, err := Decode(200, []byte(b.String()), sources.DeployedRef{Query: "kube_pod_container_info", Label: "version"}, ""); err == nil || !strings.Contains(err.Error(), "more than the limit of 100") || !strings.Contains(err.Error(), "max by (version)") {
		t.Errorf("too many series: %v", err)
	}
	b.Reset()
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i := range 2 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"metric":{"version":"1.0.%d"},"values":[`, i)
		for k := range maxPoints/2 + 1 {
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `[%d,"1"]`, 1700000000+k)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	if _, err := Decode(200, []byte(b.String()), sources.DeployedRef{Query: "q", Label: "version"}, ""); err == nil || !strings.Contains(err.Error(), "more than 100000 samples") {
		t.Errorf("too many samples: %v", err)
	}
}

func TestStep(t *testing.T) {
	for _, tc := range []struct {
		span time.Duration
		want time.Duration
	}{
		{time.Hour, time.Minute},
		{6 * time.Hour, time.Minute},
		{24 * time.Hour, 3 * time.Minute},
		{365 * 24 * time.Hour, 1052 * time.Minute},
		// The longest spans: (span + MaxSteps - 1) overflowed into a
		// negative step, which became one minute over centuries.
		{math.MaxInt64, 307446 * time.Minute},
		{math.MaxInt64 - 1, 307446 * time.Minute},
	} {
		from := ts("2025-01-01T00:00:00Z")
		got := Step(from, from.Add(tc.span))
		if got != tc.want || tc.span/got > MaxSteps {
			t.Errorf("Step(%s) = %s, want %s", tc.span, got, tc.want)
		}
	}
}

// The failures a user meets, each named in the words of the settings.
func TestFailures(t *testing.T) {
	ctx := context.Background()
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")

	t.Run("no series", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		s := newSource(t, p.URL(), Config{})
		samples, notices, err := s.Deployed(ctx, sources.DeployedRef{Query: "nginx_build_info", Label: "version"}, from, to)
		if err != nil || len(samples) != 0 || len(notices) != 1 || !strings.Contains(string(notices[0]), `"nginx_build_info" returned no series`) {
			t.Errorf("%v %q %v", samples, notices, err)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		p.Reject("max by (version (x)", "1:20: parse error: unclosed left parenthesis")
		s := newSource(t, p.URL(), Config{})
		_, _, err := s.Deployed(ctx, sources.DeployedRef{Query: "max by (version (x)", Label: "version"}, from, to)
		if err == nil || !strings.Contains(err.Error(), `rejected the query "max by (version (x)"`) || !strings.Contains(err.Error(), "unclosed left parenthesis") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("down", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		s := newSource(t, p.URL(), Config{})
		p.Close()
		_, _, err := s.Deployed(ctx, gpuRef, from, to)
		if err == nil || !strings.Contains(err.Error(), "unreachable") || fakes.GoTypeIn(err.Error()) != "" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("proxy page", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		p.FailWith(http.StatusBadGateway)
		s := newSource(t, p.URL(), Config{})
		_, _, err := s.Deployed(ctx, gpuRef, from, to)
		if err == nil || !strings.Contains(err.Error(), "HTTP 502 without an API answer") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("several versions", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		p.Set("up", fakes.PromSeries{Labels: map[string]string{"version": "1.2.0"}}, fakes.PromSeries{Labels: map[string]string{"version": "1.1.0"}},
			fakes.PromSeries{Labels: map[string]string{"job": "x"}})
		s := newSource(t, p.URL(), Config{})
		samples, notices, err := s.Deployed(ctx, sources.DeployedRef{Query: "up", Label: "version"}, from, to)
		// The range's first sample and the instant one; the job-only series is named.
		if err != nil || len(notices) != 1 || string(notices[0]) != `series of Prometheus query "up" left out (no label "version"): "{job=\"x\"}"` || len(samples) != 2 || len(samples[1].Versions) != 2 {
			t.Fatalf("%v %q %v", samples, notices, err)
		}
		d, dn := engine.NewDeployed(samples)
		if d.At(to).String() != "1.1.0" || len(dn) != 1 || !strings.Contains(dn[0], "lowest") {
			t.Errorf("deployed %v, notices %q", d.At(to), dn)
		}
	})
	t.Run("series without the label", func(t *testing.T) {
		p := fakes.NewPrometheus(t)
		var series []fakes.PromSeries
		for i := range 5 {
			series = append(series, fakes.PromSeries{Labels: map[string]string{"job": "x", "instance": fmt.Sprint(i)}})
		}
		p.Set("up", series...)
		s := newSource(t, p.URL(), Config{})
		_, notices, err := s.Deployed(ctx, sources.DeployedRef{Query: "up", Label: "version"}, from, to)
		// One notice counting the series, naming three.
		if err != nil || len(notices) != 1 || !strings.HasPrefix(string(notices[0]), `5 series of Prometheus query "up" left out (no label "version"), e.g. "{instance=\"`) ||
			strings.Count(string(notices[0]), "instance=") != 3 {
			t.Errorf("%q %v", notices, err)
		}
	})
	t.Run("scalar", func(t *testing.T) {
		_, err := Decode(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`), sources.DeployedRef{Query: "1"}, "")
		if err == nil || !strings.Contains(err.Error(), `gives a "scalar"`) {
			t.Errorf("err = %v", err)
		}
	})
}

// The token goes only to Prometheus, is never in a message, and a 401 says
// where to fix it.
func TestAuth(t *testing.T) {
	const token = "prom-secret-token-123"
	ctx := context.Background()
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	p := fakes.NewPrometheus(t)
	p.Set(gpuRef.Query, fakes.GPUOperatorDeployed...)
	p.RequireToken(token)
	hint := "LAGWATCH_PROMETHEUS_TOKEN"
	if _, _, err := newSource(t, p.URL(), Config{AuthHint: hint}).Deployed(ctx, gpuRef, from, to); err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "check "+hint) {
		t.Errorf("without token: %v", err)
	}
	if _, _, err := newSource(t, p.URL(), Config{Token: token}).Deployed(ctx, gpuRef, from, to); err != nil {
		t.Errorf("with token: %v", err)
	}
	// A proxy that echoes the request headers in its error, after enough
	// text that a message cut short would cut the token (and in the result
	// type, which is quoted short too).
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		if r.URL.Path == "/api/v1/query_range" {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"%s %s","result":[]}}`, strings.Repeat("x", 70), r.Header.Get("Authorization"))
			return
		}
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"%s bad request with %s"}`, strings.Repeat("x", 180), r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	for _, cfg := range []Config{{Token: token}, {User: "grafana", Password: token}} {
		s := newSource(t, echo.URL, cfg)
		_, _, err := s.Deployed(ctx, gpuRef, from, to)
		if err == nil || strings.Contains(err.Error(), token[:8]) {
			t.Errorf("echoed error: %v", err)
		}
		if _, err := s.Check(ctx); err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("health: %v", err)
		}
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "prometheus:9090", "ftp://x", "http://user:pw@prometheus:9090"} {
		_, err := New(Config{URL: u})
		if err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
}

func TestCheck(t *testing.T) {
	p := fakes.NewPrometheus(t)
	v, err := newSource(t, p.URL(), Config{}).Check(context.Background())
	if err != nil || v != "3.5.0" {
		t.Errorf("Check = %q, %v", v, err)
	}
}

// A Prometheus-compatible server without /api/v1/status/buildinfo passes
// the check when it answers queries.
func TestCheckWithoutBuildinfo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1759190400,"1"]}]}}`)
	}))
	defer srv.Close()
	if v, err := newSource(t, srv.URL, Config{}).Check(context.Background()); err != nil || v != "" {
		t.Errorf("Check = %q, %v", v, err)
	}
}

// leak returns the first 10-character piece of any secret found in text.
func leak(text string, secrets ...string) string {
	for _, s := range secrets {
		for i := 0; i+10 <= len(s); i++ {
			if strings.Contains(text, s[i:i+10]) {
				return s[i : i+10]
			}
		}
	}
	return ""
}

// A Prometheus behind a proxy that echoes Authorization, after 150
// characters of text and JSON-escaped, and in a 900 000-character build
// version: neither the health check nor a query shows any 10 characters of
// the token, the password or the basic-auth header, and the health check's
// version is cut short (issue 16: the health check cut the message to 200
// characters before redacting, and passed the version on whole).
func TestEchoedSecretsNeverShow(t *testing.T) {
	const token = "prom/secret/token/0123456789/abcdefghijklmnopqrs" // 47 characters, with "/" to escape
	ctx := context.Background()
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	for _, version := range []int{0, 900_000} {
		echo := fakes.NewRecorder(t)
		echo.Handle(fakes.EchoPrometheus(version))
		for _, cfg := range []Config{{Token: token}, {User: "grafana", Password: token}} {
			secrets := []string{token, base64.StdEncoding.EncodeToString([]byte("grafana:" + token))}
			s := newSource(t, echo.URL(), cfg)
			v, err := s.Check(ctx)
			shown := v
			if err != nil {
				shown = err.Error()
			}
			if l := leak(shown, secrets...); l != "" || len(shown) > 600 {
				t.Errorf("version %d, user %q: the health check shows %q (%d bytes): %.300s", version, cfg.User, l, len(shown), shown)
			}
			if version > 0 && (err != nil || !strings.HasPrefix(v, "3.5.0-") || len([]rune(v)) > maxVersion+1) {
				t.Errorf("version of %d characters: %.100q (%d characters), %v", version, v, len([]rune(v)), err)
			}
			if version == 0 && (err == nil || !strings.Contains(err.Error(), "[redacted]")) {
				t.Errorf("the echo did not reach the message: %v", err)
			}
			_, _, err = s.Deployed(ctx, gpuRef, from, to)
			if err == nil || leak(err.Error(), secrets...) != "" || !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("query error: %v", err)
			}
		}
		if echo.Requests() == 0 {
			t.Fatal("the echoing Prometheus was not asked")
		}
	}
}

// say redacts the whole text before it cuts, folds white space and drops
// what cannot be printed.
func TestSay(t *testing.T) {
	secret := strings.Repeat("s3cr3t", 8)
	for _, c := range []struct{ in, want string }{
		{strings.Repeat("a", 195) + secret, strings.Repeat("a", 195) + "[reda…"},
		{"  line one\n\tline\x1b[31m two \u200b ", "line one line [31m two"},
		{"ok", "ok"},
	} {
		if got := say([]string{secret}, c.in, 200); got != c.want {
			t.Errorf("say(%.40q…) = %q, want %q", c.in, got, c.want)
		}
	}
}
