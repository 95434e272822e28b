package exporter

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// The security gauges on the fixtures: Ollama names its advisories (Go,
// both module paths) and runs 0.1.32; at 2025-09-30 four released fixes are
// missing from it (lag-metrics.md; engine.TestSecurityOnFixtures), the
// oldest since 0.1.34 (2024-05-07T17:48:32Z); the chart (0.12.2) misses
// none. Its eol product (jaeger) has no cycle for 0.x: no eol sample.
// ChromaDB names none: no security sample at all, never a zero.
func TestSecurityGauges(t *testing.T) {
	st := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	yaml := strings.Replace(st.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.1.32"
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: jaeger}`, 1)
	if yaml == st.Catalog {
		t.Fatal("the fixtures catalog changed: cannot add the security inputs")
	}
	cat, err := catalog.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test-token", Catalog: cat,
		CacheTTL: time.Hour, OCIBudget: 500, EOLURL: eolFake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	e := New(Config{Collector: src.Collector(), Services: cat.Services, Now: func() time.Time { return evalAt }})
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	w := &world{exporter: e, server: srv}
	e.Refresh(context.Background())
	_, body := w.get(t, "/metrics")
	sev := float64(fakes.SeverityOf(t, "GHSA-8hqg-whrw-pv92", "GHSA-846m-99qv-67mg", "GHSA-95j2-w8x7-hm88", "GHSA-93jv-pvg8-hf3v"))
	lag := evalAt.Sub(time.Date(2024, 5, 7, 17, 48, 32, 0, time.UTC)).Seconds()
	for name, want := range map[string]float64{
		"lagwatch_deployed_security_fixes_behind": 4,
		"lagwatch_deployed_security_severity":     sev,
		"lagwatch_deployed_security_lag_seconds":  lag,
		"lagwatch_security_fixes_behind":          0,
		"lagwatch_security_lag_seconds":           0,
		"lagwatch_security_severity":              0,
	} {
		if got, ok := sample(t, body, name, "ollama"); !ok || got != want {
			t.Errorf("%s{service=ollama} = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"lagwatch_eol", "lagwatch_support_left_seconds", "lagwatch_deployed_eol"} {
		if v, ok := sample(t, body, name, "ollama"); ok {
			t.Errorf("%s{service=ollama} = %v: 0.x has no jaeger cycle, want no sample", name, v)
		}
	}
	for _, name := range []string{"lagwatch_security_fixes_behind", "lagwatch_security_lag_seconds", "lagwatch_eol"} {
		if v, ok := sample(t, body, name, "chromadb"); ok {
			t.Errorf("%s{service=chromadb} = %v: it names no advisories, want no sample", name, v)
		}
	}
}
