package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

func TestDiscoverCommand(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, withToken, "discover", "--eol-url", eolURL(t), "--repo", s.helm.RepoURL("otwld__ollama-helm"), "--chart", "ollama", "--github-url", s.gh.URL(), "--at", at)
	if code != 0 || !strings.Contains(errOut, ", endoflife.date 1\n") || !strings.Contains(out, "    advisories:\n      ecosystem: go\n      package: 'github.com/ollama/ollama'\n") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("%s%s", out, errOut)
	cat, err := catalog.Parse([]byte(out))
	if err != nil || len(cat.Services) != 1 {
		t.Fatalf("not a catalog: %v\n%s", err, out)
	}
	got := cat.Services[0]
	if got.Upstream.Repo != "ollama/ollama" || got.Upstream.TagPattern != `^v(\d+\.\d+\.\d+)$` || got.Maintainer != "community" || got.Chart.Name != "ollama" {
		t.Errorf("proposed %+v", got)
	}
	for _, want := range []string{"  # upstream ollama/ollama: named by the chart's sources\n", "  # releases: keeps 153 of 331 releases; 20 of the last 20 chart versions match\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no evidence comment %q", want)
		}
	}
	if !strings.Contains(errOut, "lagwatch: requests: GitHub ") || !strings.Contains(errOut, "(budget 60), chart repositories 1, Prometheus 0") {
		t.Errorf("no request summary:\n%s", errOut)
	}

	// discover → check → save: the written catalog passes its check.
	path := filepath.Join(t.TempDir(), "found.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, cout, cerr := runCLI(t, withToken, "check", "--catalog", path, "--github-url", s.gh.URL(), "--at", at); code != 0 || !strings.Contains(cout, "ollama: ok (coverage 20 of the last 20") {
		t.Errorf("check of the discovered catalog: exit %d\n%s\n%s", code, cout, cerr)
	}

	// ChromaDB: no verified upstream, said with the candidates tried; json.
	code, out, errOut = runCLI(t, withToken, "discover", "--eol-url", eolURL(t), "--repo", s.helm.RepoURL("amikos-tech__chromadb-chart"), "--github-url", s.gh.URL(), "--format", "json")
	var res discover.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || len(res.Proposals) != 1 || res.Proposals[0].Verified ||
		!strings.Contains(errOut, "chromadb from "+s.helm.RepoURL("amikos-tech__chromadb-chart")+": no verified upstream: no candidate has most of the chart's last app versions among its versions; tried amikos-tech/chromadb-chart") {
		t.Errorf("chromadb: exit %d, %v, %+v\n%s", code, err, res, errOut)
	}

	for args, want := range map[string]string{
		"--chart x":                       "--chart must follow the --repo it is read from",
		"--repo ftp://x":                  `"ftp://x" is not an http(s) Helm repository URL`,
		"https://example.org/charts":      `argument "https://example.org/charts" is not an oci://HOST/PATH/NAME chart`,
		"--from-prometheus":               "--from-prometheus needs --prometheus-url URL",
		"--format toml oci://ghcr.io/a/b": `--format "toml" must be yaml or json`,
		"":                                "nothing to discover",
	} {
		code, _, errOut := runCLI(t, withToken, append([]string{"discover"}, strings.Fields(args)...)...)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("%q: exit %d, %s", args, code, errOut)
		}
	}
}

// --from-prometheus: the charts the cluster runs (helm-exporter), joined by
// name to the catalog's repositories; a chart no repository serves is named.
func TestDiscoverFromPrometheus(t *testing.T) {
	s := newServers(t)
	s.prom.Set(discover.HelmChartsQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "ollama|1.30.0|0.12.2"}, From: time.Now().Add(-time.Hour)},
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "loki|6.6.2|3.0.0"}, From: time.Now().Add(-time.Hour)})
	code, out, errOut := runCLI(t, withToken, "discover", "--eol-url", eolURL(t), "--from-prometheus", "--prometheus-url", s.prom.URL(), "--catalog", s.catalog, "--github-url", s.gh.URL())
	if code != 1 || !strings.Contains(errOut, "lagwatch: loki 6.6.2 (helm_chart_info) unmatched: no repository given or in the catalog serves a chart named loki") ||
		!strings.Contains(errOut, "Prometheus 3") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cat, err := catalog.Parse([]byte(out))
	if err != nil || len(cat.Services) != 1 || cat.Services[0].Deployed == nil || cat.Services[0].Deployed.Prometheus.Query != `max by (appVersion) (helm_chart_info{chart="ollama"} == 1)` {
		t.Errorf("%v\n%s", err, out)
	}
}

// eolURL is a fake endoflife.date: discover looks eol.product candidates
// up, and a test never reaches the real one.
func eolURL(t *testing.T) string {
	t.Helper()
	return fakes.NewEOL(t, fakes.FixturesDir()).URL()
}
