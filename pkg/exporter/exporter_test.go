package exporter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// evalAt is the fixtures' reference date (ollama 1 version behind, chromadb 11).
var evalAt = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)

type world struct {
	stack    *fakes.Stack
	exporter *Exporter
	server   *httptest.Server
	services []catalog.Service
	sources  *collector.Sources
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st := fakes.NewStack(t)
	return newWorldOn(t, st, st.Catalog)
}

// newWorldOn is newWorld with another catalog on the same fakes.
func newWorldOn(t *testing.T, st *fakes.Stack, catalogYAML string) *world {
	t.Helper()
	cat, err := catalog.Parse([]byte(catalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	requests := NewRequestCounter()
	src, err := collector.NewSources(collector.SourcesConfig{
		GitHubURL: st.GitHub.URL(), GitHubToken: "test-token", Catalog: cat, CacheTTL: time.Hour,
		OCIBudget: 500, Transport: InstrumentTransport(nil, requests),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	e := New(Config{Collector: src.Collector(), Services: cat.Services, Now: func() time.Time { return evalAt }, Requests: requests})
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return &world{stack: st, exporter: e, server: srv, services: cat.Services, sources: src}
}

func (w *world) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(w.server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample finds one sample's value in the text format.
func sample(t *testing.T, body, name, service string) (float64, bool) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*service="` + regexp.QuoteMeta(service) + `"[^}]*\} (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

// The exporter's numbers are the current frames' numbers, with their labels.
func TestMetricsAreTheFramesNumbers(t *testing.T) {
	w := newWorld(t)
	if code, body := w.get(t, "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "first refresh") {
		t.Errorf("healthz before the first refresh: %d %q", code, body)
	}
	w.exporter.Refresh(context.Background())
	_, body := w.get(t, "/metrics")
	c := w.sources.Collector()
	rs := c.Collect(context.Background(), w.services, nil)
	c.AddDeployed(context.Background(), rs, collector.DeployedRange{From: evalAt, To: evalAt})
	want := frames.Current(rs, models.Metrics, evalAt, engine.VerdictParams{})
	deployed := 0
	for _, f := range want {
		if f.Fields[0].Labels["metric"] == models.MetricDeployedLag {
			if _, ok := f.Fields[0].ConcreteAt(0); ok {
				deployed++
			}
		}
	}
	if deployed == 0 {
		t.Error("no service has a deployed_lag: the catalog's pinned deployed version was not read")
	}
	checked := 0
	for _, f := range want {
		field := f.Fields[0]
		name := metricNames[field.Labels["metric"]][0]
		got, present := sample(t, body, name, field.Labels["service"])
		x, ok := field.ConcreteAt(0)
		switch {
		case !ok && present:
			t.Errorf("%s of %s is null in the frame but exported as %v", name, field.Labels["service"], got)
		case ok && (!present || got != x.(float64)):
			t.Errorf("%s of %s = %v (present %v), frame says %v", name, field.Labels["service"], got, present, x)
		case ok:
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d values compared", checked)
	}
	if v, _ := sample(t, body, "lagwatch_versions_behind", "chromadb"); v != 11 {
		t.Errorf("chromadb versions behind = %v, want 11", v)
	}
	if !strings.Contains(body, `lagwatch_lag_seconds{chart="ollama",maintainer="community",repo="ollama/ollama",service="ollama"}`) {
		t.Errorf("labels of lagwatch_lag_seconds differ from the frames':\n%s", body)
	}
	for _, own := range []string{"lagwatch_exporter_refreshes_total 1", "lagwatch_exporter_last_refresh_timestamp_seconds 1.7591904e+09", `lagwatch_exporter_http_requests_total{code="200"`} {
		if !strings.Contains(body, own) {
			t.Errorf("no %q in the output", own)
		}
	}
	// The OCI chart's blobs came from the registry's CDN through a followed
	// redirect: those requests are counted under the CDN's host too.
	if cdn := fmt.Sprintf(`lagwatch_exporter_http_requests_total{code="200",host=%q}`, w.stack.OCI.CDNHost()); !strings.Contains(body, cdn) {
		t.Errorf("no %s in the output", cdn)
	}
	if code, body := w.get(t, "/healthz"); code != http.StatusOK || !strings.Contains(body, "0 of 5 services failed") {
		t.Errorf("healthz: %d %q", code, body)
	}
}

// Scrapes serve the snapshot: Prometheus scraping every 15 s costs GitHub and
// the chart hosts nothing.
func TestScrapesFetchNothing(t *testing.T) {
	w := newWorld(t)
	w.exporter.Refresh(context.Background())
	before := w.stack.GitHub.Requests() + w.stack.Helm.Requests() + w.stack.OCI.Requests()
	for range 5 {
		w.get(t, "/metrics")
	}
	if after := w.stack.GitHub.Requests() + w.stack.Helm.Requests() + w.stack.OCI.Requests(); after != before {
		t.Errorf("%d requests during 5 scrapes", after-before)
	}
}

// A failed service has no values, up 0, and an error count.
func TestFailedService(t *testing.T) {
	w := newWorld(t)
	w.stack.Helm.Fail("amikos-tech__chromadb-chart", http.StatusInternalServerError)
	w.exporter.Refresh(context.Background())
	_, body := w.get(t, "/metrics")
	if v, ok := sample(t, body, "lagwatch_service_up", "chromadb"); !ok || v != 0 {
		t.Errorf("chromadb up = %v %v", v, ok)
	}
	if v, ok := sample(t, body, "lagwatch_service_up", "ollama"); !ok || v != 1 {
		t.Errorf("ollama up = %v %v", v, ok)
	}
	if _, ok := sample(t, body, "lagwatch_lag_seconds", "chromadb"); ok {
		t.Error("a failed service has a lag value")
	}
	if !strings.Contains(body, `lagwatch_exporter_refresh_errors_total{service="chromadb"} 1`) {
		t.Error("no error count for chromadb")
	}
}

// promtool (Debian's prometheus package) accepts the output.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus; scripts/test.sh installs it when it can)")
	}
	w := newWorld(t)
	w.exporter.Refresh(context.Background())
	_, body := w.get(t, "/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// A real Prometheus on loopback scrapes the exporter and answers a query
// with its number.
func TestRealPrometheusScrapes(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian package prometheus; scripts/test.sh installs it when it can)")
	}
	w := newWorld(t)
	w.exporter.Refresh(context.Background())
	target, _ := url.Parse(w.server.URL)
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: lagwatch\n    static_configs:\n      - targets: [%q]\n", target.Host)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	query := "http://" + addr + "/api/v1/query?query=" + url.QueryEscape(`lagwatch_versions_behind{service="chromadb"}`)
	var last string
	for range 120 { // up to a minute: start-up, then the first scrapes
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(query)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(b)
		if strings.Contains(last, `"value":[`) && strings.Contains(last, `,"11"]`) {
			return
		}
	}
	t.Fatalf("Prometheus never answered chromadb's 11 versions behind; last answer: %s", last)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A service whose packaged version cannot be compared with upstream (the
// catalog mistakes of testdata/catalogs/mistakes.yaml) exports no sample for
// those metrics, never a reassuring 0 or 1; its chart age stays, and a
// low-coverage pairing keeps its numbers.
func TestCatalogMistakesLeaveSamplesOut(t *testing.T) {
	st := fakes.NewStack(t)
	cat, err := fixtures.CatalogFile("mistakes.yaml", st.Helm.URL(), st.OCI.Host())
	if err != nil {
		t.Fatal(err)
	}
	w := newWorldOn(t, st, string(cat))
	w.exporter.Refresh(context.Background())
	_, body := w.get(t, "/metrics")
	for _, svc := range []string{"ollama-from-version", "ollama-no-match"} {
		for _, name := range []string{"lagwatch_lag_seconds", "lagwatch_versions_behind", "lagwatch_drift_seconds", "lagwatch_is_current",
			"lagwatch_deployed_versions_behind", "lagwatch_deployed_lag_seconds", "lagwatch_rollout_lag_seconds", "lagwatch_verdict"} {
			if v, ok := sample(t, body, name, svc); ok {
				t.Errorf("%s of %s exported as %v, want no sample", name, svc, v)
			}
		}
		if _, ok := sample(t, body, "lagwatch_chart_age_seconds", svc); !ok {
			t.Errorf("%s: no chart age", svc)
		}
		if v, ok := sample(t, body, "lagwatch_service_up", svc); !ok || v != 1 {
			t.Errorf("%s: service_up %v (present %v), want 1: its sources answered", svc, v, ok)
		}
	}
	if v, ok := sample(t, body, "lagwatch_versions_behind", "ollama-wrong-upstream"); !ok || v != 21 {
		t.Errorf("ollama-wrong-upstream versions_behind = %v (present %v), want 21: low coverage keeps the numbers", v, ok)
	}
}
