package check_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

const securityEntries = `services:
  - name: ollama
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama}
    advisories: {ecosystem: go, package: [github.com/ollama/ollama]}
  - name: ollama-wrong-package
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama}
    advisories: {ecosystem: go, package: [github.com/ollama/ollama-app]}
  - name: redis
    maintainer: community
    upstream: {repo: redis/redis, source: releases}
    chart: {repository: OCI/bitnamicharts, name: redis}
    eol: {product: redis}
  - name: redis-unknown-product
    maintainer: community
    upstream: {repo: redis/redis, source: releases}
    chart: {repository: OCI/bitnamicharts, name: redis}
    eol: {product: redis-server}
  - name: redis-no-cycle
    maintainer: community
    upstream: {repo: redis/redis, source: releases}
    chart: {repository: OCI/bitnamicharts, name: redis}
    eol: {product: jaeger}
`

func securityRunner(t *testing.T, st *fakes.Stack, cat *catalog.Catalog) (check.Runner, *fakes.EOL) {
	t.Helper()
	e := fakes.NewEOL(t, fakes.FixturesDir())
	src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", Catalog: cat, OCIBudget: 600, EOLURL: e.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return check.Runner{Upstreams: src.GitHub, Charts: src.Charts()}.WithSecurity(src.GitHub, src.EOL, src.EOL != nil), e
}

// check reports a configured package the advisory database does not know
// and an endoflife.date product that does not exist or whose cycles hold
// none of the chart's versions, with fixes computed from the data (the
// module of the upstream's go.mod; a product named like the chart).
func TestCheckSecurityInputs(t *testing.T) {
	st := fakes.NewStack(t)
	st.OCI.Put("bitnamicharts/redis", fakes.RedisVersions(t))
	yaml := strings.NewReplacer("HELM", st.Helm.URL(), "OCI", "oci://"+st.OCI.Host()).Replace(securityEntries)
	cat := parse(t, yaml)
	r, e := securityRunner(t, st, cat)
	rep := r.Run(context.Background(), cat.Services, mustTime(t, "2025-09-30T00:00:00Z"))
	res := map[string]check.Result{}
	for _, x := range rep.Results {
		res[x.Service] = x
	}
	// GitHub's records name the current module path only (the older
	// github.com/jmorganca/ollama is vulndb's name for some of them).
	nNew := fakes.AdvisoriesNaming(t, "github.com/ollama/ollama")

	o := res["ollama"]
	if !o.OK || o.Advisories == nil || fmt.Sprint(o.Advisories.Packages) != fmt.Sprintf("[{github.com/ollama/ollama %d}]", nNew) || nNew == 0 {
		t.Errorf("ollama: %+v %+v", o.Problems, o.Advisories)
	}

	w := res["ollama-wrong-package"]
	if w.OK || len(w.Problems) != 1 || w.Problems[0].Kind != check.AdvisoriesUnknownPackage ||
		w.Problems[0].Message != `GitHub's advisory database has no advisory naming "github.com/ollama/ollama-app" (ecosystem go): the name is probably not the one the database uses; ollama/ollama's go.mod declares module "github.com/ollama/ollama"` {
		t.Errorf("wrong package: %+v", w.Problems)
	}
	if len(w.Fixes) != 1 || w.Fixes[0].Field != "advisories.package" || w.Fixes[0].Value != "github.com/ollama/ollama" ||
		w.Fixes[0].Evidence != fmt.Sprintf("github.com/ollama/ollama: %d advisories in GitHub's database (ecosystem go); the module of ollama/ollama's go.mod (replaces github.com/ollama/ollama-app)", nNew) ||
		w.Suggested == nil || strings.Join(w.Suggested.Advisories.Package.Names, ",") != "github.com/ollama/ollama" {
		t.Errorf("wrong package fixes: %+v", w.Fixes)
	}
	// The suggested entry passes.
	if again := r.Run(context.Background(), []catalog.Service{*w.Suggested}, rep.At); !again.Results[0].OK {
		t.Errorf("suggested: %+v", again.Results[0].Problems)
	}

	// Redis's upstream is not in the fixtures (the fetch fails), its chart
	// is: the eol input is checked all the same.
	rd := res["redis"]
	if rd.Error == "" || rd.EOL == nil || rd.EOL.Matched != 20 || rd.EOL.Of != 20 || rd.EOL.Example != "cycle 8.2 matches appVersion 8.2.1" || len(rd.Problems) != 0 {
		t.Errorf("redis: %+v %+v", rd.EOL, rd.Problems)
	}
	u := res["redis-unknown-product"]
	if len(u.Problems) != 1 || u.Problems[0].Kind != check.EOLUnknownProduct || u.Problems[0].Message != `endoflife.date has no product "redis-server" (HTTP 404)` ||
		len(u.Fixes) != 1 || u.Fixes[0].Field != "eol.product" || u.Fixes[0].Value != "redis" ||
		u.Fixes[0].Evidence != "endoflife.date product redis (chart name, upstream repository redis/redis): cycle 8.2 matches appVersion 8.2.1; 20 of the last 20 chart versions fall in its cycles" {
		t.Errorf("unknown product: %+v %+v", u.Problems, u.Fixes)
	}
	n := res["redis-no-cycle"]
	if len(n.Problems) != 1 || n.Problems[0].Kind != check.EOLNoCycle ||
		n.Problems[0].Message != `none of the last 20 packaged versions (e.g. "8.2.1") falls in a cycle of endoflife.date product jaeger (cycles "2", "1")` ||
		len(n.Fixes) != 1 || n.Fixes[0].Value != "redis" || n.Suggested == nil || n.Suggested.EOL.Product != "redis" {
		t.Errorf("no cycle: %+v %+v", n.Problems, n.Fixes)
	}
	// Bounded: the products asked, once each (the cache shares them).
	if e.RequestsTo("/api/v1/products/redis/") != 1 || e.RequestsTo("/api/v1/products/jaeger/") != 1 || e.RequestsTo("/api/v1/products/redis-server/") != 1 {
		t.Errorf("endoflife.date requests: redis %d, jaeger %d", e.RequestsTo("/api/v1/products/redis/"), e.RequestsTo("/api/v1/products/jaeger/"))
	}
}

// A Go package with no advisory yet is no problem when the upstream's
// go.mod declares it: the database has nothing on it, the name is right.
func TestCheckModuleWithoutAdvisories(t *testing.T) {
	st := fakes.NewStack(t)
	cat := parse(t, strings.ReplaceAll(`services:
  - name: ollama
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama}
    advisories: {ecosystem: go, package: example.com/quiet}
`, "HELM", st.Helm.URL()))
	r, _ := securityRunner(t, st, cat)
	r.GoModules = module("example.com/quiet")
	res := r.Run(context.Background(), cat.Services, mustTime(t, "2025-09-30T00:00:00Z")).Results[0]
	if !res.OK || res.Advisories.Module != "example.com/quiet" || res.Advisories.Packages[0].Advisories != 0 {
		t.Errorf("%+v %+v", res.Problems, res.Advisories)
	}
}

type module string

func (m module) GoModule(context.Context, string) (string, bool, error) { return string(m), true, nil }

func TestMatchCycles(t *testing.T) {
	cycles := []sources.EOLCycle{{Name: "7.2"}, {Name: "7"}, {Name: "8.0"}}
	m := check.MatchCycles(cycles, []string{"7.2.5", "v7.20.1", "8.0.0-rc1", "9.0.0", "7.1.0"})
	// 7.2.5 → 7.2 (the longer name); 7.20.1 → 7 (not 7.2); 8.0.0-rc1 → 8.0; 7.1.0 → 7.
	if m.Matched != 4 || m.Of != 5 || m.Example("") != "cycle 7.2 matches appVersion 7.2.5" || !m.Most() {
		t.Errorf("%+v", m)
	}
	if m := check.MatchCycles([]sources.EOLCycle{{Name: "7.2"}}, []string{"7.20.1", "17.2.0"}); m.Matched != 0 || m.Most() {
		t.Errorf("prefix without a component boundary matched: %+v", m)
	}
}

func TestEOLCandidates(t *testing.T) {
	meta := sources.ChartVersion{Images: "- name: a\n  image: docker.io/bitnami/redis:7.2.5\n- name: b\n  image: ghcr.io/x/Redis-Exporter@sha256:abc\n- name: c\n  image: quay.io/y/sentinel:1\n- name: d\n  image: e/f:1\n"}
	got := fmt.Sprint(check.EOLCandidates("redis", "redis/redis", meta))
	want := "[{redis chart name, upstream repository redis/redis, image docker.io/bitnami/redis:7.2.5} {redis-exporter image ghcr.io/x/Redis-Exporter@sha256:abc} {sentinel image quay.io/y/sentinel:1} {f image e/f:1}]"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if n := len(check.EOLCandidates("a", "o/b", sources.ChartVersion{Images: "- image: c\n- image: d\n- image: e\n"})); n != check.MaxEOLCandidates {
		t.Errorf("%d candidates", n)
	}
}
