package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// upstreamSize is how many releases (source: releases) or tags (source: tags)
// each upstream of the default catalog has. The four repositories with real
// fixtures (testdata/fixtures/real) use their real tag lists; the others are
// estimates of mid-2026, rounded up, documented in docs/run.md. The fake
// GitHub publishes one release per tag, plus one draft.
var upstreamSize = map[string]int{
	"ollama/ollama":                                   0, // fixture: 635 tags
	"chroma-core/chroma":                              0, // fixture: 195 tags
	"vllm-project/production-stack":                   0, // fixture: 23 tags
	"NVIDIA/gpu-operator":                             0, // fixture: 70 tags
	"prometheus/prometheus":                           290,
	"grafana/grafana":                                 790,
	"jaegertracing/jaeger":                            260,
	"open-telemetry/opentelemetry-collector-releases": 130,
	"strimzi/strimzi-kafka-operator":                  180,
	"elastic/elasticsearch":                           590,
	"elastic/cloud-on-k8s":                            70,
	"redis/redis":                                     250,
	"apache/kafka":                                    400, // tags, release candidates included
	"danny-avila/LibreChat":                           90,
}

// Totals of the measurement below, quoted in docs/run.md: keep both in step.
const (
	wantColdREST    = 34 // pages of 100 releases, 10 repositories, without a token
	wantColdBatched = 8  // with a token: GraphQL requests reading the 10 release repositories together (grafana's 8 pages)
	wantColdGraphQL = 10 // calls of 100 tags, 4 repositories
	wantReleaseRepo = 10 // conditional requests per TTL
	wantHelmRepos   = 10 // distinct HTTP chart repositories (helm.elastic.co serves two charts)
	wantOCICharts   = 3  // charts in OCI registries, 2 versions each in this model
	wantTagRepos    = 4  // upstreams with source: tags (their feed without a token)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// budgetWorld is the default catalog served by the fakes: one fixture folder
// per upstream and one Helm repository per distinct chart repository.
type budgetWorld struct {
	gh       *fakes.GitHub
	helm     *fakes.Helm
	oci      *fakes.OCI
	services []catalog.Service
	size     map[string]int // upstream repo -> releases or tags served
}

func newBudgetWorld(t *testing.T) budgetWorld {
	t.Helper()
	cat, err := catalog.Parse(readFile(t, "provisioning/catalog/homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	real := fakes.FixturesDir()
	w := budgetWorld{size: map[string]int{}}
	repoFolder := map[string]string{} // chart repository URL -> fake folder
	charts := map[string][]catalog.Service{}
	for _, s := range cat.Services {
		n, ok := upstreamSize[s.Upstream.Repo]
		if !ok {
			t.Fatalf("no size for upstream %s: add it to upstreamSize (and docs/run.md)", s.Upstream.Repo)
		}
		folder := strings.Replace(s.Upstream.Repo, "/", "__", 1)
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		tsv := filepath.Join(dir, folder, "tags.tsv")
		if n == 0 {
			b, err := os.ReadFile(filepath.Join(real, folder, "tags.tsv"))
			if err != nil {
				t.Fatalf("%s: no real fixture and no estimate: %v", s.Upstream.Repo, err)
			}
			if err := os.WriteFile(tsv, b, 0o644); err != nil {
				t.Fatal(err)
			}
			n = strings.Count(strings.TrimSpace(string(b)), "\n") // header excluded
		} else {
			writeTags(t, tsv, s, n)
		}
		w.size[s.Upstream.Repo] = n
		if oci.IsOCI(s.Chart.Repository) {
			continue
		}
		if _, ok := repoFolder[s.Chart.Repository]; !ok {
			repoFolder[s.Chart.Repository] = fmt.Sprintf("repo%02d", len(repoFolder)+1)
		}
		charts[repoFolder[s.Chart.Repository]] = append(charts[repoFolder[s.Chart.Repository]], s)
	}
	for folder, svcs := range charts {
		writeIndex(t, filepath.Join(dir, folder, "index.yaml"), svcs)
	}
	w.gh = fakes.NewGitHub(t, dir)
	w.helm = fakes.NewHelm(t, dir)
	w.oci = fakes.NewOCI(t)
	for _, s := range cat.Services {
		if oci.IsOCI(s.Chart.Repository) {
			// The same two versions as writeIndex, in the fake registry.
			_, repo, err := oci.ParseRef(s.Chart.Repository, s.Chart.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.oci.Put(repo, []fakes.OCIVersion{
				{Version: "1.1.0", AppVersion: "1.1.0", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
				{Version: "1.2.0", AppVersion: "1.2.0", Created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
			})
			s.Chart.Repository = "oci://" + w.oci.Host() + "/" + strings.TrimSuffix(repo, "/"+s.Chart.Name)
		} else {
			s.Chart.Repository = w.helm.RepoURL(repoFolder[s.Chart.Repository])
		}
		w.services = append(w.services, s)
	}
	return w
}

// sampleTag is a tag matching the service's tagPattern, for version i.
func sampleTag(s catalog.Service, i int) string {
	p := s.Upstream.TagPattern
	switch {
	case strings.HasPrefix(p, `^v(2\.`):
		return fmt.Sprintf("v2.%d.0", i)
	case strings.HasPrefix(p, `^v(`):
		return fmt.Sprintf("v1.%d.0", i)
	case strings.HasPrefix(p, `^(`):
		return fmt.Sprintf("1.%d.0", i)
	}
	panic("no sample tag for pattern " + p)
}

func writeTags(t *testing.T, path string, s catalog.Service, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("tag\tdate\tkind\n")
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s\t%s\tlightweight\n", sampleTag(s, i), start.Add(time.Duration(i)*48*time.Hour).Format(time.RFC3339))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeIndex writes a small Helm index with two versions of each chart.
func writeIndex(t *testing.T, path string, svcs []catalog.Service) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for _, s := range svcs {
		fmt.Fprintf(&b, "  %s:\n", s.Chart.Name)
		for i, created := range []string{"2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z"} {
			fmt.Fprintf(&b, "  - name: %s\n    version: 1.%d.0\n    appVersion: \"1.%d.0\"\n    created: %q\n", s.Chart.Name, 2-i, 2-i, created)
		}
	}
	b.WriteString("generated: \"2026-03-01T00:00:00Z\"\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// counts is what one step of the measurement cost.
type counts struct {
	rest, notModified, graphql, helm, helmNotModified int
	ociManifests, ociOther                            int // manifest GETs (Docker Hub pulls); tag lists, HEADs, blobs, tokens
	feeds                                             int // GitHub tag feeds (web host, outside the API)
	failed                                            []string
}

func (w budgetWorld) measure(t *testing.T, col *collector.Collector) counts {
	t.Helper()
	w.gh.ResetCounters()
	w.helm.ResetCounters()
	w.oci.ResetCounters()
	results := col.Collect(context.Background(), w.services, nil)
	var c counts
	for _, r := range results {
		if r.Err != nil {
			c.failed = append(c.failed, r.Service.Name)
		}
	}
	sort.Strings(c.failed)
	c.graphql = w.gh.RequestsTo("/graphql")
	for _, s := range w.services {
		if s.Upstream.Source == sources.KindTags {
			c.feeds += w.gh.RequestsTo("/" + s.Upstream.Repo + "/tags.atom")
		}
	}
	c.rest = w.gh.Requests() - c.graphql - c.feeds
	c.notModified = w.gh.NotModified()
	c.helm = w.helm.Requests()
	c.helmNotModified = w.helm.NotModified()
	c.ociManifests = w.oci.ManifestGETs()
	c.ociOther = w.oci.Requests() - c.ociManifests
	return c
}

func (w budgetWorld) collector(t *testing.T, clk *clock, token string) *collector.Collector {
	t.Helper()
	gh, err := github.New(github.Config{BaseURL: w.gh.URL(), Token: token, CacheTTL: models.DefaultCacheTTL, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	var refs []sources.ChartRef
	for _, s := range w.services {
		refs = append(refs, s.ChartRef())
	}
	hs := helm.New(helm.Config{CacheTTL: models.DefaultCacheTTL, Now: clk.now, Charts: refs})
	os2, err := oci.New(oci.Config{CacheTTL: models.DefaultCacheTTL, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &collector.Collector{Upstreams: gh, Charts: collector.ChartRouter{HTTP: hs, OCI: os2}}
}

func pages(n int) int { return (n + 99) / 100 }

// TestRequestBudget measures the GitHub requests the default catalog costs,
// cold and then per hour with the datasource's 15-minute cache TTL, against
// the fake GitHub (which answers If-None-Match with 304 and, like GitHub,
// does not count 304s against the REST limit).
func TestRequestBudget(t *testing.T) {
	w := newBudgetWorld(t)
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	w.gh.SetClock(clk.now)
	col := w.collector(t, clk, "test-token")

	var wantREST, wantGraphQL, releaseRepos, maxPages int
	var rows []string
	for _, s := range w.services {
		n := w.size[s.Upstream.Repo]
		switch s.Upstream.Source {
		case sources.KindReleases:
			releaseRepos++
			wantREST += pages(n + 1) // + the draft
			maxPages = max(maxPages, pages(n+1))
			rows = append(rows, fmt.Sprintf("%-48s releases %4d  REST pages %d", s.Upstream.Repo, n, pages(n+1)))
		case sources.KindTags:
			wantGraphQL += pages(n)
			rows = append(rows, fmt.Sprintf("%-48s tags     %4d  GraphQL calls %d", s.Upstream.Repo, n, pages(n)))
		}
	}
	t.Logf("default catalog shape:\n  %s", strings.Join(rows, "\n  "))

	cold := w.measure(t, col)
	if len(cold.failed) > 0 {
		t.Fatalf("services failed against the fakes: %v", cold.failed)
	}
	t.Logf("cold: REST %d, GraphQL %d, Helm %d, OCI manifest GETs %d (+%d other OCI requests)", cold.rest, cold.graphql, cold.helm, cold.ociManifests, cold.ociOther)
	if cold.ociManifests != 2*wantOCICharts {
		t.Errorf("cold: %d OCI manifest GETs, want %d (2 versions of %d charts)", cold.ociManifests, 2*wantOCICharts, wantOCICharts)
	}
	// With a token the release repositories are read together, 20 per
	// GraphQL request, page after page: as many requests as the longest
	// history has pages (one batch holds all 10 repositories).
	if cold.rest != 0 || cold.graphql != wantGraphQL+maxPages {
		t.Errorf("cold: REST %d, GraphQL %d; want REST 0, GraphQL %d (tags) + %d (batched releases)", cold.rest, cold.graphql, wantGraphQL, maxPages)
	}
	if wantREST != wantColdREST || wantGraphQL != wantColdGraphQL || maxPages != wantColdBatched || releaseRepos != wantReleaseRepo || cold.helm != wantHelmRepos {
		t.Errorf("totals changed (REST pages %d, GraphQL %d, batched %d, release repos %d, Helm %d): update the constants and docs/run.md",
			wantREST, wantGraphQL, maxPages, releaseRepos, cold.helm)
	}

	// Alert rules evaluate every 5 minutes and dashboards refresh often:
	// inside the TTL nothing is sent.
	clk.add(5 * time.Minute)
	if c := w.measure(t, col); c.rest+c.graphql+c.helm+c.ociManifests+c.ociOther != 0 {
		t.Errorf("within the TTL: %+v requests, want none", c)
	}

	// One hour of warm operation: the cache expires 4 times.
	var hour counts
	for i := 0; i < 4; i++ {
		clk.add(models.DefaultCacheTTL)
		c := w.measure(t, col)
		hour.rest += c.rest
		hour.notModified += c.notModified
		hour.graphql += c.graphql
		hour.helm += c.helm
		hour.helmNotModified += c.helmNotModified
		// The first warm refresh fetches page 1 of each (no ETag yet after
		// the GraphQL cold start) and keeps the batched list; from then on
		// every refresh is a conditional request answered 304.
		wantNotModified := releaseRepos
		if i == 0 {
			wantNotModified = 0
		}
		if c.rest != releaseRepos || c.notModified != wantNotModified {
			t.Errorf("warm step %d: REST %d (%d × 304), want one request per releases repository (%d), %d answered 304",
				i+1, c.rest, c.notModified, releaseRepos, wantNotModified)
		}
		if c.graphql != wantGraphQL {
			t.Errorf("warm step %d: GraphQL %d, want %d (no conditional requests in GraphQL)", i+1, c.graphql, wantGraphQL)
		}
		if c.ociManifests != 0 {
			t.Errorf("warm step %d: %d OCI manifest GETs, want 0 (known tags, content cached by digest)", i+1, c.ociManifests)
		}
		hour.ociOther += c.ociOther
	}
	t.Logf("warm hour: REST %d (%d answered 304, counted %d), GraphQL %d, Helm %d (%d answered 304), OCI 0 manifest GETs and %d tag lists and HEADs",
		hour.rest, hour.notModified, hour.rest-hour.notModified, hour.graphql, hour.helm, hour.helmNotModified, hour.ociOther)
	if hour.rest-hour.notModified != releaseRepos || hour.graphql != 4*wantGraphQL {
		t.Errorf("warm hour: %+v", hour)
	}

	// A new upstream release changes page 1: that repository costs its full
	// page count once, the others stay at a 304.
	w.gh.AddRelease("grafana/grafana", "v1.999.0", clk.now(), false)
	clk.add(models.DefaultCacheTTL)
	c := w.measure(t, col)
	wantNew := releaseRepos - 1 + pages(w.size["grafana/grafana"]+2)
	t.Logf("after a new grafana release: REST %d (%d answered 304)", c.rest, c.notModified)
	if c.rest != wantNew || c.notModified != releaseRepos-1 {
		t.Errorf("after a new release: REST %d (%d × 304), want %d (%d × 304)", c.rest, c.notModified, wantNew, releaseRepos-1)
	}
}

// TestRequestBudgetWithoutToken: without a token the tags upstreams read
// GitHub's tag feed (the 10 newest tags, outside the API and its limit) and
// the REST cost is the same pages.
func TestRequestBudgetWithoutToken(t *testing.T) {
	w := newBudgetWorld(t)
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	w.gh.SetClock(clk.now)
	col := w.collector(t, clk, "")
	cold := w.measure(t, col)
	if cold.graphql != 0 {
		t.Errorf("GraphQL called without a token: %d", cold.graphql)
	}
	if cold.rest != wantColdREST {
		t.Errorf("cold REST without a token: %d, want %d", cold.rest, wantColdREST)
	}
	if len(cold.failed) != 0 || cold.feeds != wantTagRepos {
		t.Errorf("without a token: failed %v, %d tag feeds read; want none failed and %d feeds", cold.failed, cold.feeds, wantTagRepos)
	}
	t.Logf("anonymous cold: REST %d (limit 60/hour), tag feeds %d (outside the API)", cold.rest, cold.feeds)
	// Warm: every feed and page 1 of every release list is revalidated, all 304.
	clk.add(models.DefaultCacheTTL)
	warm := w.measure(t, col)
	if warm.feeds != wantTagRepos || warm.rest != wantReleaseRepo || warm.notModified != wantTagRepos+wantReleaseRepo {
		t.Errorf("warm without a token: %+v, want %d feeds and %d REST requests, all answered 304", warm, wantTagRepos, wantReleaseRepo)
	}
}

// TestColdStart100Services measures the scale target: 100 release
// services (80 releases each, fakes.SyntheticCatalog) cost at most 25 counted
// GitHub requests on a cold start with a token.
func TestColdStart100Services(t *testing.T) {
	dir := t.TempDir()
	src := fakes.SyntheticCatalog(t, dir, 100)
	gh, hs := fakes.NewGitHub(t, dir), fakes.NewHelm(t, dir)
	cat, err := catalog.Parse([]byte(strings.ReplaceAll(src, "HELM_URL", hs.URL())))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	gh.SetClock(clk.now)
	w := budgetWorld{gh: gh, helm: hs, oci: fakes.NewOCI(t), services: cat.Services}
	col := w.collector(t, clk, "test-token")
	cold := w.measure(t, col)
	t.Logf("cold, 100 services: REST %d, GraphQL %d, Helm %d", cold.rest, cold.graphql, cold.helm)
	if len(cold.failed) > 0 {
		t.Fatalf("failed: %v", cold.failed)
	}
	if github := cold.rest + cold.graphql; github > 25 || cold.graphql != 5 {
		t.Errorf("cold: %d GitHub requests (GraphQL %d), want at most 25 (5 batches of 20)", github, cold.graphql)
	}
	clk.add(models.DefaultCacheTTL)
	first := w.measure(t, col)
	clk.add(models.DefaultCacheTTL)
	second := w.measure(t, col)
	t.Logf("first warm refresh: REST %d (%d answered 304); second: REST %d (%d answered 304)", first.rest, first.notModified, second.rest, second.notModified)
	if first.rest != 100 || first.graphql != 0 || second.rest != 100 || second.notModified != 100 {
		t.Errorf("warm: first %+v, second %+v; want 100 page-1 requests, then 100 answered 304", first, second)
	}
}

// TestRequestBudgetSecurity measures what the default catalog's advisories
// and eol entries cost: one GitHub REST request per advisory package name
// (each answers in one page) and one endoflife.date request per product,
// cold; nothing within their cache times (hours); the release sources are
// not read more for them.
func TestRequestBudgetSecurity(t *testing.T) {
	w := newBudgetWorld(t)
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	w.gh.SetClock(clk.now)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	col := w.collector(t, clk, "test-token")
	gh, ok := col.Upstreams.(sources.AdvisorySource)
	if !ok {
		t.Fatal("the GitHub source does not read advisories")
	}
	es, err := eol.New(eol.Config{BaseURL: eolFake.URL(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	col.Advisories, col.EOL = gh, es
	packages, products := 0, map[string]bool{}
	for _, s := range w.services {
		if ref, ok := s.AdvisoryRef(); ok {
			packages += len(ref.Packages)
		}
		if p := s.EOLProduct(); p != "" {
			products[p] = true
		}
	}
	if packages == 0 || len(products) == 0 {
		t.Fatalf("the default catalog names %d advisory packages and %d eol products", packages, len(products))
	}
	run := func() (advisories, eolRequests int) {
		w.gh.ResetCounters()
		eolFake.ResetCounters()
		w.measure(t, col)
		return w.gh.RequestsTo("/advisories"), eolFake.Requests()
	}
	a, e := run()
	t.Logf("cold: %d advisory requests for %d package names, %d endoflife.date requests for %d products", a, packages, e, len(products))
	if a != packages {
		t.Errorf("cold: %d advisory requests, want %d (one per package name)", a, packages)
	}
	// A product path without its trailing slash is redirected once.
	if e < len(products) || e > 2*len(products) {
		t.Errorf("cold: %d endoflife.date requests for %d products", e, len(products))
	}
	// A product the server does not know (elasticsearch has no fixture) is a
	// failure, remembered briefly and asked again on the next refresh.
	missing := 0
	for p := range products {
		if _, err := os.Stat(filepath.Join(fakes.FixturesDir(), filepath.FromSlash(fakes.EOLFixtures), p+".json")); err != nil {
			missing++
		}
	}
	for _, step := range []struct {
		after    time.Duration
		advisory int
	}{
		{time.Hour, 0},
		{4 * time.Hour, 0},        // 5 hours after the cold read: inside the advisories' 6 hours
		{2 * time.Hour, packages}, // 7 hours: one conditional request per package name
	} {
		clk.add(step.after)
		a, e := run()
		t.Logf("+%v: %d advisory requests, %d endoflife.date requests", step.after, a, e)
		if a != step.advisory || e != missing {
			t.Errorf("+%v: %d advisory and %d endoflife.date requests, want %d and %d (products within 12 hours: only the %d the server does not know)",
				step.after, a, e, step.advisory, missing, missing)
		}
	}
}
