package check_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// The worked-example times of lag-metrics.md, and the end of the fixtures.
var times = []string{"2025-09-20T00:00:00Z", "2025-09-30T00:00:00Z", "2026-08-22T00:00:00Z"}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func runner(t testing.TB, st *fakes.Stack, cat *catalog.Catalog) check.Runner {
	t.Helper()
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", Catalog: cat, OCIBudget: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return check.Runner{Upstreams: src.GitHub, Charts: src.Charts()}
}

func parse(t testing.TB, yaml string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// The fixtures catalog passes its own check: every entry has data, a
// coverage and no problem, at every worked-example time.
func TestFixturesCatalogPasses(t *testing.T) {
	st := fakes.NewStack(t)
	cat := parse(t, st.Catalog)
	r := runner(t, st, cat)
	for _, at := range times {
		rep := r.Run(context.Background(), cat.Services, mustTime(t, at))
		if rep.Problems != 0 || rep.Failed != 0 || rep.Services != len(cat.Services) {
			t.Errorf("at %s: %d problems, %d failed of %d", at, rep.Problems, rep.Failed, rep.Services)
		}
		for _, res := range rep.Results {
			if !res.OK || res.Coverage == nil || res.Coverage.Of == 0 || res.Coverage.Share < 0.9 || len(res.Fixes) != 0 {
				t.Errorf("at %s: %s: ok %v, coverage %+v, problems %+v, fixes %+v", at, res.Service, res.OK, res.Coverage, res.Problems, res.Fixes)
			}
		}
	}
}

// provisioningOnFixtures is the default catalog with the chart repositories
// the fixtures hold pointed at the fake servers.
func provisioningOnFixtures(t testing.TB, st *fakes.Stack) *catalog.Catalog {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fakes.FixturesDir(), "..", "..", "..", "provisioning", "catalog", "homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat := parse(t, string(b))
	fake := map[string]string{
		"https://otwld.github.io/ollama-helm/":            st.Helm.RepoURL("otwld__ollama-helm"),
		"https://amikos-tech.github.io/chromadb-chart/":   st.Helm.RepoURL("amikos-tech__chromadb-chart"),
		"https://vllm-project.github.io/production-stack": st.Helm.RepoURL("vllm-project__production-stack"),
		"https://helm.ngc.nvidia.com/nvidia":              st.Helm.RepoURL("NVIDIA__gpu-operator"),
		"oci://registry-1.docker.io/bitnamicharts":        "oci://" + st.OCI.Host() + "/bitnamicharts",
	}
	for i, s := range cat.Services {
		if u, ok := fake[s.Chart.Repository]; ok {
			cat.Services[i].Chart.Repository = u
		}
	}
	st.OCI.Put("bitnamicharts/redis", fakes.RedisVersions(t))
	return cat
}

// The default catalog passes its own check on the fixtures: every service
// the fixtures have data for (both sides) has a coverage and no problem; the
// others fail to fetch (the fakes do not serve them), never a problem.
func TestProvisioningCatalogPasses(t *testing.T) {
	st := fakes.NewStack(t)
	cat := provisioningOnFixtures(t, st)
	rep := runner(t, st, cat).Run(context.Background(), cat.Services, mustTime(t, "2025-09-30T00:00:00Z"))
	withData := map[string]bool{"ollama": true, "chromadb": true, "vllm-stack": true, "gpu-operator": true}
	for _, res := range rep.Results {
		switch {
		case withData[res.Service]:
			if !res.OK || res.Coverage == nil || res.Coverage.Of == 0 {
				t.Errorf("%s: ok %v, error %q, coverage %+v, problems %+v", res.Service, res.OK, res.Error, res.Coverage, res.Problems)
			}
		case res.Error == "":
			t.Errorf("%s: checked without fixture data: %+v", res.Service, res)
		}
	}
	if rep.Problems != 0 {
		t.Errorf("%d problems", rep.Problems)
	}
}

// mistakes is the table of issue 17: four wrong entries on real data.
const mistakes = `services:
  - name: ollama-version-from
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama, versionFrom: version}
  - name: ollama-pattern
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^release-(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama}
  - name: chromadb-no-pattern
    maintainer: community
    upstream: {repo: chroma-core/chroma, source: tags}
    chart: {repository: HELM/amikos-tech__chromadb-chart, name: chromadb}
  - name: gpu-operator-wrong-upstream
    maintainer: vendor
    upstream: {repo: chroma-core/chroma, source: tags, tagPattern: '^(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/NVIDIA__gpu-operator, name: gpu-operator, versionFrom: version}
`

// MistakesCatalog is the catalog of the four mistakes on the fake Helm server.
func mistakesCatalog(st *fakes.Stack) string {
	return strings.ReplaceAll(mistakes, "HELM", st.Helm.URL())
}

func TestFourMistakes(t *testing.T) {
	st := fakes.NewStack(t)
	cat := parse(t, mistakesCatalog(st))
	rep := runner(t, st, cat).Run(context.Background(), cat.Services, mustTime(t, "2025-09-30T00:00:00Z"))
	if rep.Problems != 4 {
		t.Errorf("%d problems, want 4", rep.Problems)
	}
	want := []struct {
		kinds    []string
		field    string
		value    string
		evidence string
	}{
		{[]string{check.PackagedUnknownUpstream, check.LowCoverage}, "chart.versionFrom", "appVersion", "appVersion gives 20 of the last 20 chart versions an upstream version (version gives 0); it ships 0.12.2"},
		{[]string{check.NoUpstreamVersion}, "upstream.tagPattern", `^v(\d+\.\d+\.\d+)$`, "keeps 153 of 331 tags; 20 of the last 20 chart versions match (0 with the current pattern)"},
		{[]string{check.TagsNotVersions}, "upstream.tagPattern", `^(\d+\.\d+\.\d+)$`, "keeps 106 of 155 tags; 20 of the last 20 chart versions match"},
		{[]string{check.PackagedUnknownUpstream, check.LowCoverage}, "", "", ""},
	}
	for i, res := range rep.Results {
		w := want[i]
		var kinds []string
		for _, p := range res.Problems {
			kinds = append(kinds, p.Kind)
		}
		if strings.Join(kinds, ",") != strings.Join(w.kinds, ",") {
			t.Errorf("%s: problems %+v, want kinds %v", res.Service, res.Problems, w.kinds)
		}
		if w.field == "" {
			if len(res.Fixes) != 0 || res.Suggested != nil {
				t.Errorf("%s: fixes %+v from a repository whose data has none", res.Service, res.Fixes)
			}
			continue
		}
		if len(res.Fixes) != 1 || res.Fixes[0].Field != w.field || res.Fixes[0].Value != w.value || res.Fixes[0].Evidence != w.evidence {
			t.Errorf("%s: fixes %+v, want %s: %s (%s)", res.Service, res.Fixes, w.field, w.value, w.evidence)
			continue
		}
		// The suggested entry passes.
		again := runner(t, st, cat).Run(context.Background(), []catalog.Service{*res.Suggested}, rep.At)
		if !again.Results[0].OK {
			t.Errorf("%s: the suggested entry %+v has problems %+v", res.Service, *res.Suggested, again.Results[0].Problems)
		}
	}
	if s := check.Summary(rep); !strings.HasPrefix(s, "4 of 4 services look misconfigured: ollama-version-from (the packaged version 1.30.0") {
		t.Errorf("summary %q", s)
	}
}

func tags(names ...string) []sources.Release {
	out := make([]sources.Release, len(names))
	for i, n := range names {
		out[i] = sources.Release{Tag: n, Time: time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC)}
	}
	return out
}

func charts(appVersions ...string) []sources.ChartVersion {
	out := make([]sources.ChartVersion, len(appVersions))
	for i, a := range appVersions {
		out[i] = sources.ChartVersion{Version: "1.0." + string(rune('0'+i)), AppVersion: a, Created: time.Date(2025, 2, 1+i, 0, 0, 0, 0, time.UTC)}
	}
	return out
}

// Patterns are anchored per stream: argo-helm's chart tags argo-cd-3.x do not
// fall into the application's stream, and component prefixes get their own.
func TestPatterns(t *testing.T) {
	got := check.Patterns(tags("v3.1.0", "v3.1.1", "v3.1.2", "argo-cd-8.0.0", "argo-cd-8.0.1", "controller-v1.15.1", "cli-1.4.4", "3.0.9"), false)
	want := []string{`^v(\d+\.\d+\.\d+)$`, `^(\d+\.\d+\.\d+)$`, `^v?(\d+\.\d+\.\d+)$`, `^argo-cd-(\d+\.\d+\.\d+)$`, `^cli-(\d+\.\d+\.\d+)$`, `^controller-v(\d+\.\d+\.\d+)$`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Patterns = %q\nwant       %q", got, want)
	}
	if got := check.Patterns(tags("v1.0.0-rc.1"), true); len(got) != 1 || got[0] != `^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$` {
		t.Errorf("with prereleases: %q", got)
	}
}

// A chart that ships prereleases gets prereleases: true, with its evidence;
// a repository with no releases gets source: tags.
func TestPrereleasesAndSource(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := catalog.Service{Name: "x", Maintainer: "vendor",
		Upstream: catalog.Upstream{Repo: "o/x", Source: sources.KindReleases, TagPattern: `^v(\d+\.\d+\.\d+)$`},
		Chart:    catalog.Chart{Repository: "https://example.test", Name: "x", VersionFrom: catalog.FromAppVersion}}
	res := check.Check(svc, check.Data{Releases: tags("v1.0.0-rc.1", "v1.0.0-rc.2", "v1.0.0"), Charts: charts("1.0.0-rc.1", "1.0.0-rc.2", "1.0.0")}, at)
	if len(res.Fixes) != 2 || res.Fixes[0].Field != "upstream.prereleases" || res.Fixes[0].Value != "true" || res.Fixes[1].Field != "upstream.tagPattern" {
		t.Fatalf("fixes %+v, problems %+v", res.Fixes, res.Problems)
	}
	if want := "the chart ships prerelease versions; counting them, 3 of the last 3 chart versions match (1 without)"; res.Fixes[0].Evidence != want {
		t.Errorf("evidence %q, want %q", res.Fixes[0].Evidence, want)
	}

	res = check.Check(svc, check.Data{Releases: []sources.Release{}, Tags: tags("v0.9.0", "v1.0.0"), Charts: charts("0.9.0", "1.0.0")}, at)
	if len(res.Problems) != 1 || res.Problems[0].Kind != check.NoUpstreamVersion || len(res.Fixes) != 1 || res.Fixes[0].Field != "upstream.source" || res.Fixes[0].Value != "tags" {
		t.Fatalf("problems %+v, fixes %+v", res.Problems, res.Fixes)
	}
	if want := "o/x has no releases but 2 tags; with them 2 of the last 2 chart versions match"; res.Fixes[0].Evidence != want {
		t.Errorf("evidence %q, want %q", res.Fixes[0].Evidence, want)
	}
}

// Only what was published at or before at is looked at.
func TestCheckAt(t *testing.T) {
	svc := catalog.Service{Name: "x", Upstream: catalog.Upstream{Repo: "o/x", Source: sources.KindTags},
		Chart: catalog.Chart{Name: "x", VersionFrom: catalog.FromAppVersion}}
	d := check.Data{Releases: tags("1.0.0", "1.1.0"), Charts: charts("1.0.0", "1.1.0")}
	res := check.Check(svc, d, time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC))
	if res.Upstream.Fetched != 2 || res.Chart.Fetched != 0 || res.Problems[0].Kind != check.NoChartVersion {
		t.Errorf("upstream %+v chart %+v problems %+v", res.Upstream, res.Chart, res.Problems)
	}
}

// Outside values in the answer are cut: a 100 KB appVersion does not make a
// 2 MB check result.
func TestLongValuesAreCut(t *testing.T) {
	long := "2.0.0-debian-" + strings.Repeat("r", 100_000) // version 2.0.0 by versionPattern, never shipped upstream
	svc := catalog.Service{Name: "x", Upstream: catalog.Upstream{Repo: "o/x", Source: sources.KindTags},
		Chart: catalog.Chart{Name: "x", VersionFrom: catalog.FromAppVersion, VersionPattern: `^(\d+\.\d+\.\d+)`}}
	res := check.Check(svc, check.Data{Releases: tags("1.0.0", "v"+long), Charts: charts(long, "1.0.0")}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b, _ := json.Marshal(res)
	if res.Coverage.Matched != 1 || res.Coverage.Of != 2 || len(b) > 4000 {
		t.Errorf("%d bytes: %s", len(b), b[:300])
	}
}
