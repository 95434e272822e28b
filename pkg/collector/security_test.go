package collector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

func securityCatalog(t *testing.T, helmURL string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Parse([]byte(strings.ReplaceAll(`services:
  - name: ollama
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM_URL/otwld__ollama-helm, name: ollama}
    deployed: {version: "0.1.32"}
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: jaeger}
  - name: nowhere
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM_URL/otwld__ollama-helm, name: ollama}
    eol: {product: no-such-product}
  - name: plain
    maintainer: community
    upstream: {repo: chroma-core/chroma, source: tags, tagPattern: '^(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM_URL/amikos-tech__chromadb-chart, name: chromadb}
`, "HELM_URL", helmURL)))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// The security inputs come through the real sources from the fakes: the
// advisories on the fake GitHub, the cycles from the fake endoflife.date,
// whose host is allowed because a service names a product. A product that
// does not exist costs its service the EOL metrics only, with a notice; a
// service without inputs has none (null).
func TestCollectSecurityInputs(t *testing.T) {
	stack := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	cat := securityCatalog(t, stack.Helm.URL())
	src, err := NewSources(SourcesConfig{GitHubURL: stack.GitHub.URL(), GitHubToken: "t", Catalog: cat, EOLURL: eolFake.URL(), EOLHint: "--eol-url"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	c := src.Collector()
	rs := c.Collect(context.Background(), cat.Services, nil)
	c.AddDeployed(context.Background(), rs, DeployedRange{})
	ollama, nowhere, plain := rs[0], rs[1], rs[2]
	if ollama.Err != nil || ollama.Security == nil || ollama.Cycles == nil {
		t.Fatalf("ollama: %v, notices %q", ollama.Err, ollama.Notices)
	}
	at := time.Date(2024, 6, 28, 0, 0, 0, 0, time.UTC)
	// Probllama only (GitHub rates it moderate): published 2024-05-31, fixed in 0.1.34.
	if st, ok := ollama.Security.DeployedAt(*ollama.Deployed, at); !ok || st.FixesBehind != 1 || st.Severity != engine.SeverityMedium {
		t.Errorf("deployed 0.1.32 at %s: %+v", at, st)
	}
	if nowhere.Err != nil || nowhere.Timeline == nil || nowhere.Cycles != nil || nowhere.Security != nil {
		t.Errorf("nowhere: %+v", nowhere)
	}
	if !strings.Contains(strings.Join(nowhere.Notices, "\n"), `end of life unknown: endoflife.date product "no-such-product": not found`) {
		t.Errorf("nowhere notices: %q", nowhere.Notices)
	}
	if plain.Security != nil || plain.Cycles != nil || plain.Err != nil {
		t.Errorf("plain: %+v", plain)
	}
	if n := eolFake.RequestsTo("/api/v1/products/jaeger/"); n != 1 {
		t.Errorf("endoflife.date asked %d times for jaeger, want 1", n)
	}
	// A second collection is served from the caches: no request at all.
	eolFake.ResetCounters()
	stack.GitHub.ResetCounters()
	c.Collect(context.Background(), cat.Services, nil)
	if eolFake.Requests() != 0 || stack.GitHub.RequestsTo("/advisories") != 0 {
		t.Errorf("second collection asked endoflife.date %d times, /advisories %d times", eolFake.Requests(), stack.GitHub.RequestsTo("/advisories"))
	}
}

// Without a service naming a product, the endoflife.date host is not
// allowed and no EOL source exists.
func TestEOLHostOnlyWhenNamed(t *testing.T) {
	stack := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	cat := securityCatalog(t, stack.Helm.URL())
	cat.Services[0].EOL, cat.Services[1].EOL = nil, nil
	src, err := NewSources(SourcesConfig{GitHubURL: stack.GitHub.URL(), Catalog: cat, EOLURL: eolFake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.EOL != nil {
		t.Error("an EOL source without any product")
	}
	_, err = src.client.Get(eolFake.URL() + "/api/v1/products/redis/")
	var refused *sources.HostNotAllowedError
	if !errors.As(err, &refused) {
		t.Errorf("request to endoflife.date: %v, want refused", err)
	}
	if _, err := NewSources(SourcesConfig{GitHubURL: stack.GitHub.URL(), Catalog: securityCatalog(t, stack.Helm.URL()), EOLURL: "ftp://x", EOLHint: "--eol-url"}); err == nil || !strings.HasPrefix(err.Error(), "--eol-url:") {
		t.Errorf("bad EOL URL: %v", err)
	}
}

// One service's failing advisory source never hides the others.
type failingAdvisories struct{}

func (failingAdvisories) Advisories(context.Context, sources.AdvisoryRef) ([]sources.Advisory, []sources.Notice, error) {
	return nil, nil, errors.New("GitHub says no")
}

func TestAdvisoryFailureIsANotice(t *testing.T) {
	st := &stub{}
	s := svc("a", "acme/a")
	s.Advisories = &catalog.Advisories{Ecosystem: "go", Package: catalog.Packages{Names: []string{"x"}}}
	c := &Collector{Upstreams: st, Charts: st, Advisories: failingAdvisories{}}
	rs := c.Collect(context.Background(), []catalog.Service{s, svc("b", "acme/b")}, nil)
	if rs[0].Err != nil || rs[0].Timeline == nil || rs[0].Security != nil || !strings.Contains(strings.Join(rs[0].Notices, "\n"), "security metrics unknown: GitHub says no") {
		t.Errorf("a: %+v", rs[0])
	}
	if rs[1].Err != nil || rs[1].Timeline == nil {
		t.Errorf("b: %+v", rs[1])
	}
}
