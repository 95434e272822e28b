package discover_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// The otwld Ollama chart gets advisories for github.com/ollama/ollama (the
// module of ollama/ollama's go.mod, known to the database) and no
// eol.product (endoflife.date has no product named like it); the Redis
// chart, whose upstream is not verified, gets eol.product redis with its
// evidence.
func TestDiscoverSecurityInputs(t *testing.T) {
	st := fakes.NewStack(t)
	e := fakes.NewEOL(t, fakes.FixturesDir())
	d := newDiscovererEOL(t, st, e.URL())
	cat := defaultCatalog(t)
	s := cat.Filter([]string{"ollama"}, "")[0]
	in := discover.Input{Repos: []discover.RepoInput{{URL: s.Chart.Repository, Charts: []string{s.Chart.Name}}},
		OCI: []string{"oci://registry-1.docker.io/bitnamicharts/redis"}}
	res := d.Run(context.Background(), in)
	byName := map[string]discover.Proposal{}
	for _, p := range res.Proposals {
		byName[p.Chart.Name] = p
	}
	o := byName["ollama"]
	n := fakes.AdvisoriesNaming(t, "github.com/ollama/ollama")
	if !o.Verified || o.Advisories == nil || o.Advisories.Ecosystem != "go" || strings.Join(o.Advisories.Package.Names, ",") != "github.com/ollama/ollama" ||
		o.Service.Advisories != o.Advisories || o.EOL != nil || o.Service.EOL != nil {
		t.Fatalf("ollama: %+v", o)
	}
	want := fmt.Sprintf("advisories: github.com/ollama/ollama: %d advisories in GitHub's database (ecosystem go); the module of ollama/ollama's go.mod", n)
	if n == 0 || len(o.SecurityEvidence) != 2 || o.SecurityEvidence[0] != want ||
		o.SecurityEvidence[1] != "eol: no endoflife.date product matches; tried ollama (chart name, upstream repository ollama/ollama): no such product" {
		t.Errorf("ollama evidence %q", o.SecurityEvidence)
	}
	// The renamed module's older path is not proposed: nothing says it.
	if strings.Contains(res.YAML, "jmorganca") {
		t.Errorf("the old module path was proposed:\n%s", res.YAML)
	}
	if !strings.Contains(res.YAML, "    advisories:\n      ecosystem: go\n      package: 'github.com/ollama/ollama'\n") || !strings.Contains(res.YAML, "  # "+want+"\n") {
		t.Errorf("YAML:\n%s", res.YAML)
	}
	// The YAML is a catalog that reads back with the same inputs.
	if back, err := catalog.Parse([]byte(res.YAML)); err != nil || len(back.Services) != 1 || back.Services[0].Advisories == nil ||
		strings.Join(back.Services[0].Advisories.Package.Names, ",") != "github.com/ollama/ollama" {
		t.Errorf("YAML does not read back: %v", err)
	}
	r := byName["redis"]
	if r.Verified || r.EOL == nil || r.EOL.Product != "redis" || r.Advisories != nil || len(r.SecurityEvidence) != 1 ||
		!strings.HasPrefix(r.SecurityEvidence[0], "endoflife.date product redis: cycle 8.2 matches appVersion 8.2.1; ") ||
		!strings.HasSuffix(r.SecurityEvidence[0], " of the last 20 chart versions fall in its cycles (named by the chart name)") {
		t.Errorf("redis: %+v", r)
	}
	if !strings.Contains(res.YAML, "once its upstream is set, eol.product redis fits (endoflife.date product redis: cycle 8.2 matches appVersion 8.2.1;") {
		t.Errorf("YAML:\n%s", res.YAML)
	}
	// Counted: the go.mod and the advisories on GitHub, the products tried
	// on endoflife.date (ollama, redis).
	if res.Requests.EOL != 2 || e.RequestsTo("/api/v1/products/redis/") != 1 || e.RequestsTo("/api/v1/products/ollama/") != 1 ||
		st.GitHub.RequestsTo("/repos/ollama/ollama/contents/go.mod") != 1 || st.GitHub.RequestsTo("/advisories") != 1 {
		t.Errorf("requests %+v; go.mod %d, advisories %d", res.Requests, st.GitHub.RequestsTo("/repos/ollama/ollama/contents/go.mod"), st.GitHub.RequestsTo("/advisories"))
	}
}

// An upstream without a go.mod gets no advisories proposal, and says so;
// the GitHub budget bounds the security look-ups too.
func TestDiscoverAdvisoriesNotGo(t *testing.T) {
	st := fakes.NewStack(t)
	d := newDiscoverer(t, st)
	if d.EOL != nil {
		t.Fatal("endoflife.date is asked without an EOL URL")
	}
	cat := defaultCatalog(t)
	s := cat.Filter([]string{"vllm-stack"}, "")[0]
	res := d.Run(context.Background(), discover.Input{Repos: []discover.RepoInput{{URL: s.Chart.Repository, Charts: []string{s.Chart.Name}}}})
	p := res.Proposals[0]
	if !p.Verified || p.Advisories != nil || len(p.SecurityEvidence) != 1 ||
		p.SecurityEvidence[0] != "advisories: none proposed: vllm-project/production-stack has no go.mod at its root (not a Go module; other ecosystems are added by hand)" {
		t.Errorf("%+v", p)
	}
	if st.GitHub.RequestsTo("/advisories") != 0 {
		t.Error("advisories asked for a repository that is no Go module")
	}
}
