package discover_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
)

var at = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)

// realURLs maps the chart repositories of the default catalog to the fake
// servers of the fixtures: discovery sees the real URLs (their GitHub Pages
// hosts are evidence), the bytes come from the fixtures.
func realURLs(st *fakes.Stack) map[string]string {
	return map[string]string{
		"https://otwld.github.io/ollama-helm/":            st.Helm.RepoURL("otwld__ollama-helm"),
		"https://amikos-tech.github.io/chromadb-chart/":   st.Helm.RepoURL("amikos-tech__chromadb-chart"),
		"https://vllm-project.github.io/production-stack": st.Helm.RepoURL("vllm-project__production-stack"),
		"https://helm.ngc.nvidia.com/nvidia":              st.Helm.RepoURL("NVIDIA__gpu-operator"),
		"oci://registry-1.docker.io/bitnamicharts":        "oci://" + st.OCI.Host() + "/bitnamicharts",
	}
}

type rewrite struct {
	next sources.ChartSource
	urls map[string]string
}

func (r rewrite) ChartVersions(ctx context.Context, ref sources.ChartRef) ([]sources.ChartVersion, []sources.Notice, error) {
	if u, ok := r.urls[ref.Repository]; ok {
		ref.Repository = u
	}
	return r.next.ChartVersions(ctx, ref)
}

// newDiscoverer is a discoverer on the fixtures that reads the default
// catalog's chart repositories by their real URLs.
func newDiscoverer(t testing.TB, st *fakes.Stack) *discover.Discoverer {
	t.Helper()
	return newDiscovererEOL(t, st, "")
}

// newDiscovererEOL is newDiscoverer that looks eol.product candidates up at
// eolURL (none when "").
func newDiscovererEOL(t testing.TB, st *fakes.Stack, eolURL string) *discover.Discoverer {
	t.Helper()
	urls := realURLs(st)
	var repos []string
	for _, u := range urls {
		repos = append(repos, u)
	}
	d, src, err := discover.New(discover.Config{Sources: collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", OCIBudget: 600, EOLURL: eolURL}, Repos: repos, At: at})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	index := d.Index
	d.Index = func(ctx context.Context, repo string) (helm.Charts, error) {
		if u, ok := urls[repo]; ok {
			repo = u
		}
		return index(ctx, repo)
	}
	d.Charts = rewrite{next: d.Charts, urls: urls}
	st.OCI.Put("bitnamicharts/redis", fakes.RedisVersions(t))
	return d
}

func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fakes.FixturesDir(), "..", "..", "..", "provisioning", "catalog", "homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Discovery on each fixture chart of the default catalog proposes the entry
// the catalog has, or says why not.
func TestDiscoverFixtureCharts(t *testing.T) {
	st := fakes.NewStack(t)
	d := newDiscoverer(t, st)
	cat := defaultCatalog(t)
	in := discover.Input{}
	for _, name := range []string{"ollama", "chromadb", "vllm-stack", "gpu-operator"} {
		s := cat.Filter([]string{name}, "")[0]
		in.Repos = append(in.Repos, discover.RepoInput{URL: s.Chart.Repository, Charts: []string{s.Chart.Name}})
	}
	in.OCI = []string{"oci://registry-1.docker.io/bitnamicharts/redis"}
	res := d.Run(context.Background(), in)
	if len(res.Proposals) != 5 {
		t.Fatalf("%d proposals", len(res.Proposals))
	}
	byName := map[string]discover.Proposal{}
	for _, p := range res.Proposals {
		byName[p.Chart.Name] = p
	}
	for _, name := range []string{"ollama", "vllm-stack", "gpu-operator"} {
		p, want := byName[name], cat.Filter([]string{name}, "")[0]
		if !p.Verified || p.Service == nil {
			t.Errorf("%s: not verified: %s", name, p.Reason)
			continue
		}
		got := *p.Service
		if got.Upstream.Repo != want.Upstream.Repo || got.Maintainer != want.Maintainer || got.Chart != want.Chart && got.Chart.VersionFrom == want.Chart.VersionFrom {
			t.Errorf("%s: proposed %+v, the catalog has %+v", name, got, want)
		}
		if p.Coverage.Matched < 18 || len(p.Evidence) < 3 {
			t.Errorf("%s: coverage %+v, evidence %q", name, p.Coverage, p.Evidence)
		}
	}
	// (The fake GitHub publishes a release for every tag: releases verify.)
	if s := byName["vllm-stack"].Service; s != nil && (s.Upstream.TagPattern != `^vllm-stack-(\d+\.\d+\.\d+)$` || s.Chart.VersionFrom != "version") {
		t.Errorf("vllm-stack: %+v", *s)
	}
	if ev := byName["gpu-operator"].Evidence; len(ev) < 3 || ev[2] != "maintainer vendor: the chart repository helm.ngc.nvidia.com is on the domain of NVIDIA" {
		t.Errorf("gpu-operator evidence %q", ev)
	}
	if ev := byName["vllm-stack"].Evidence; len(ev) < 3 || ev[0] != "upstream vllm-project/production-stack: named by the chart's GitHub Pages host of the chart repository" ||
		ev[2] != "maintainer vendor: the chart is published by vllm-project, the upstream's own organisation" {
		t.Errorf("vllm-stack evidence %q", ev)
	}
	// ChromaDB's metadata names only the chart repository: an honest no,
	// with the candidate tried.
	c := byName["chromadb"]
	if c.Verified || c.Service != nil || len(c.Candidates) != 2 || c.Candidates[0].Repo != "amikos-tech/chromadb-chart" || c.Candidates[1].Repo != "amikos-tech/chromadb" ||
		strings.Join(c.Candidates[0].From, ",") != "sources,home,GitHub Pages host of the chart repository" ||
		!strings.HasPrefix(c.Reason, "no verified upstream: no candidate has most of the chart's last app versions among its versions; tried amikos-tech/chromadb-chart (sources, home, GitHub Pages host of the chart repository: releases: repository amikos-tech/chromadb-chart not found") {
		t.Errorf("chromadb: %+v", c)
	}
	// The Redis fixture publishes no metadata: the registry's owner is the
	// only candidate, and it is not a GitHub repository of the fixtures.
	if r := byName["redis"]; r.Verified || !strings.Contains(r.Reason, "bitnamicharts/redis (chart repository owner: ") {
		t.Errorf("redis: %+v", r)
	}
	// The YAML is a catalog, ready to save.
	out, err := catalog.Parse([]byte(res.YAML))
	if err != nil || len(out.Services) != 3 {
		t.Fatalf("YAML: %v\n%s", err, res.YAML)
	}
	if !strings.Contains(res.YAML, "# chromadb from https://amikos-tech.github.io/chromadb-chart/: no verified upstream") {
		t.Errorf("YAML does not say why chromadb is left out:\n%s", res.YAML)
	}
	if res.Requests.GitHub == 0 || res.Requests.GitHub > discover.DefaultBudget || res.Requests.Charts == 0 {
		t.Errorf("requests %+v", res.Requests)
	}
}

// The discovered Ollama entry gives the hand-written entry's numbers at the
// spec's worked-example times.
func TestDiscoveredOllamaGivesTheSameNumbers(t *testing.T) {
	st := fakes.NewStack(t)
	d := newDiscoverer(t, st)
	res := d.Run(context.Background(), discover.Input{Repos: []discover.RepoInput{{URL: "https://otwld.github.io/ollama-helm/", Charts: []string{"ollama"}}}})
	p := res.Proposals[0]
	if !p.Verified || p.Service.Upstream.Repo != "ollama/ollama" || p.Service.Upstream.TagPattern == "" {
		t.Fatalf("%+v", p)
	}
	found := *p.Service
	found.Name = "found"
	found.Chart.Repository = st.Helm.RepoURL("otwld__ollama-helm")
	hand, err := catalog.Parse([]byte(st.Catalog))
	if err != nil {
		t.Fatal(err)
	}
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", Catalog: hand})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rs := src.Collector().Collect(context.Background(), []catalog.Service{hand.Filter([]string{"ollama"}, "")[0], found}, nil)
	for _, r := range rs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for _, tm := range []string{"2025-09-20T00:00:00Z", "2025-09-30T00:00:00Z"} {
		at, _ := time.Parse(time.RFC3339, tm)
		a, b := rs[0].Timeline.At(at), rs[1].Timeline.At(at)
		if a.Chart.App.String() != b.Chart.App.String() || a.UpstreamLatest.Version.String() != b.UpstreamLatest.Version.String() ||
			a.VersionsBehind != b.VersionsBehind || a.Lag != b.Lag || a.ChartAge != b.ChartAge {
			t.Errorf("at %s: hand-written %s/%s behind %d lag %s; discovered %s/%s behind %d lag %s", tm,
				a.Chart.App, a.UpstreamLatest.Version, a.VersionsBehind, a.Lag, b.Chart.App, b.UpstreamLatest.Version, b.VersionsBehind, b.Lag)
		}
	}
}

// Charts a cluster runs, from helm-exporter and Flux series, are joined by
// name to the repositories given; the others are named as unmatched; the
// deployed query is prefilled.
func TestDiscoverFromPrometheus(t *testing.T) {
	st := fakes.NewStack(t)
	st.Prometheus.Set(discover.HelmChartsQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "ollama|1.30.0|0.12.2"}, From: at.Add(-time.Hour)},
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "loki|6.6.2|3.0.0"}, From: at.Add(-time.Hour)})
	st.Prometheus.Set(discover.FluxReposQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "nvidia|https://helm.ngc.nvidia.com/nvidia"}, From: at.Add(-time.Hour)})
	st.Prometheus.Set(discover.FluxChartsQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "gpu-operator|v25.3.1|v25.3.1|nvidia"}, From: at.Add(-time.Hour)})
	d := newDiscoverer(t, st)
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), PrometheusURL: st.Prometheus.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	deployed, notes := discover.FromPrometheus(context.Background(), src.Prometheus, at)
	if len(deployed) != 3 || len(notes) != 0 {
		t.Fatalf("deployed %+v, notes %q", deployed, notes)
	}
	res := d.Run(context.Background(), discover.Input{Deployed: deployed, Repos: []discover.RepoInput{
		{URL: "https://otwld.github.io/ollama-helm/"}, {URL: "https://helm.ngc.nvidia.com/nvidia"}}})
	if len(res.Proposals) != 2 || len(res.Unmatched) != 1 || res.Unmatched[0].Chart != "loki" {
		t.Fatalf("proposals %+v, unmatched %+v", res.Proposals, res.Unmatched)
	}
	want := map[string][2]string{
		"ollama":       {`max by (appVersion) (helm_chart_info{chart="ollama"} == 1)`, "appVersion"},
		"gpu-operator": {`max by (chart_app_version) (gotk_resource_info{customresource_kind="HelmRelease", chart_name="gpu-operator"})`, "chart_app_version"},
	}
	for _, p := range res.Proposals {
		w := want[p.Chart.Name]
		if !p.Verified || p.Service.Deployed == nil || p.Service.Deployed.Prometheus.Query != w[0] || p.Service.Deployed.Prometheus.Label != w[1] {
			t.Errorf("%s: %+v", p.Chart.Name, p)
		}
	}
	if _, err := catalog.Parse([]byte(res.YAML)); err != nil {
		t.Errorf("YAML: %v\n%s", err, res.YAML)
	}
}

// The request budget is kept: candidates past it are named, not read.
func TestBudget(t *testing.T) {
	st := fakes.NewStack(t)
	d := newDiscoverer(t, st)
	d.Budget = 1
	res := d.Run(context.Background(), discover.Input{Repos: []discover.RepoInput{{URL: "https://otwld.github.io/ollama-helm/", Charts: []string{"ollama"}}}})
	p := res.Proposals[0]
	// The first read, started within the budget, completes (all its pages);
	// no other repository is read.
	if res.Requests.GitHub != st.GitHub.RequestsTo("/repos/ollama/ollama/releases") || !strings.Contains(p.Candidates[len(p.Candidates)-1].Error, "the budget of 1 GitHub requests is spent") {
		t.Errorf("requests %+v, %+v", res.Requests, p)
	}
}

func TestCandidates(t *testing.T) {
	meta := sources.ChartVersion{
		Sources: "https://github.com/open-webui/open-webui\nhttps://github.com/otwld/ollama-helm.git",
		Home:    "https://www.github.com/open-webui/helm-charts",
		Images:  "- name: webui\n  image: ghcr.io/open-webui/open-webui:0.6.5\n- name: pipelines\n  image: docker.io/acme/pipelines@sha256:abc\n- name: plain\n  image: redis:7\n- name: quay\n  image: quay.io/org/x:1\n",
	}
	got := discover.Candidates(discover.ChartRef{Repository: "https://helm.openwebui.com/", Name: "open-webui"}, meta)
	var s []string
	for _, c := range got {
		s = append(s, c.Repo+"<"+strings.Join(c.From, "+"))
	}
	want := "open-webui/open-webui<sources+image ghcr.io/open-webui/open-webui:0.6.5 otwld/ollama-helm<sources acme/pipelines<image docker.io/acme/pipelines@sha256:abc open-webui/helm-charts<home"
	if strings.Join(s, " ") != want {
		t.Errorf("candidates\n%s\nwant\n%s", strings.Join(s, " "), want)
	}
	got = discover.Candidates(discover.ChartRef{Repository: "oci://ghcr.io/danny-avila/librechat-chart", Name: "librechat"}, sources.ChartVersion{})
	if len(got) != 1 || got[0].Repo != "danny-avila/librechat" {
		t.Errorf("OCI owner: %+v", got)
	}
}

// Metadata from a registry or chart host is bounded before it is parsed.
func TestCandidatesBounds(t *testing.T) {
	big := "- image: ghcr.io/acme/app:1\n" + strings.Repeat("# padding\n", 500)
	many := strings.Repeat("https://github.com/acme/x\n", 5) + strings.Repeat("https://example.org/\n", 10) + "https://github.com/acme/late"
	got := discover.Candidates(discover.ChartRef{Repository: "https://charts.example.org", Name: "app"}, sources.ChartVersion{Images: big, Sources: many})
	if len(got) != 1 || got[0].Repo != "acme/x" {
		t.Errorf("%+v", got)
	}
}

// check's Repair: a chart paired with the wrong upstream gets the upstream
// its own metadata names, verified, as a fix; the suggested entry passes.
func TestRepairTheWrongUpstream(t *testing.T) {
	st := fakes.NewStack(t)
	cat, err := catalog.Parse([]byte(`services:
  - name: gpu-operator-wrong-upstream
    maintainer: vendor
    upstream: {repo: chroma-core/chroma, source: tags, tagPattern: '^(\d+\.\d+\.\d+)$'}
    chart: {repository: ` + st.Helm.RepoURL("NVIDIA__gpu-operator") + `, name: gpu-operator, versionFrom: version}
  - name: chromadb-wrong-upstream
    maintainer: community
    upstream: {repo: NVIDIA/gpu-operator, source: releases}
    chart: {repository: ` + st.Helm.RepoURL("amikos-tech__chromadb-chart") + `, name: chromadb}
`))
	if err != nil {
		t.Fatal(err)
	}
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := &discover.Discoverer{Upstreams: src.GitHub, Charts: src.Charts()}
	r := check.Runner{Upstreams: src.GitHub, Charts: src.Charts(), Repair: d.Repair}
	rep := r.Run(context.Background(), cat.Services, at)
	g := rep.Results[0]
	if len(g.Fixes) != 1 || g.Fixes[0].Field != "upstream.repo" || g.Fixes[0].Value != "NVIDIA/gpu-operator" || g.Suggested == nil ||
		g.Suggested.Name != "gpu-operator-wrong-upstream" || g.Suggested.Maintainer != "vendor" || g.Suggested.Chart.VersionFrom != "version" && g.Suggested.Chart.VersionFrom != "appVersion" {
		t.Fatalf("%+v", g)
	}
	if again := r.Run(context.Background(), []catalog.Service{*g.Suggested}, at); !again.Results[0].OK {
		t.Errorf("the suggested entry: %+v", again.Results[0])
	}
	// ChromaDB's chart names no verified upstream: no fix, never a guess.
	if c := rep.Results[1]; c.OK || len(c.Fixes) != 0 || c.Suggested != nil {
		t.Errorf("chromadb: %+v", c)
	}
}

// Open with Prometheus: a chart Flux runs is read from the HelmRepository
// URL Flux reports, with no repository given.
func TestOpenFromFlux(t *testing.T) {
	st := fakes.NewStack(t)
	st.Prometheus.Set(discover.FluxReposQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "nvidia|" + st.Helm.RepoURL("NVIDIA__gpu-operator")}, From: at.Add(-time.Hour)})
	st.Prometheus.Set(discover.FluxChartsQuery,
		fakes.PromSeries{Labels: map[string]string{"lagwatch_discover": "gpu-operator|v25.3.1|v25.3.1|nvidia"}, From: at.Add(-time.Hour)})
	var in discover.Input
	d, src, notes, err := discover.Open(context.Background(), discover.Config{At: at,
		Sources: collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", PrometheusURL: st.Prometheus.URL()}}, &in, true)
	if err != nil || len(notes) != 0 {
		t.Fatal(err, notes)
	}
	defer src.Close()
	res := d.Run(context.Background(), in)
	if len(res.Proposals) != 1 || !res.Proposals[0].Verified || res.Proposals[0].Service.Upstream.Repo != "NVIDIA/gpu-operator" ||
		res.Proposals[0].Service.Deployed.Prometheus.Label != "chart_app_version" || res.Requests.Prometheus != 3 {
		t.Errorf("%+v", res)
	}
	if _, _, _, err := discover.Open(context.Background(), discover.Config{Sources: collector.SourcesConfig{GitHubURL: st.GitHub.URL()}}, &in, true); err == nil ||
		err.Error() != "the charts a cluster runs are read from Prometheus, and no Prometheus URL is set" {
		t.Errorf("no Prometheus URL: %v", err)
	}
}

// A chart name that is no catalog name still gives a catalog that parses.
func TestYAMLWithOddNames(t *testing.T) {
	svc := catalog.Service{Name: "x", Maintainer: "community", Upstream: catalog.Upstream{Repo: "o/x", Source: "releases", TagPattern: `^v(\d+)'$`},
		Chart: catalog.Chart{Repository: "https://example.org/it's", Name: "we ird: chart", VersionFrom: "appVersion"}}
	res := discover.Result{Proposals: []discover.Proposal{{Verified: true, Service: &svc, Evidence: []string{"line one\nline two"}},
		{Chart: discover.ChartRef{Repository: "https://e.org", Name: "bad\nname"}, Reason: "no verified upstream:\n# services: []"}}}
	out := discover.YAML(res)
	cat, err := catalog.Parse([]byte(out))
	if err != nil || len(cat.Services) != 1 || cat.Services[0].Chart.Name != "we ird: chart" || cat.Services[0].Upstream.TagPattern != `^v(\d+)'$` {
		t.Errorf("%v\n%s", err, out)
	}
}
