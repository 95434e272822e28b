package check

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// DefaultConcurrency bounds the services fetched at once.
const DefaultConcurrency = 8

// Runner fetches services and checks them.
type Runner struct {
	Upstreams   sources.UpstreamSource
	Charts      sources.ChartSource
	Concurrency int // DefaultConcurrency when 0
	// Repair, when set, proposes another upstream for a service whose
	// repository's data gives no fix (the wrong upstream): lagwatch
	// discover's verified proposal from the chart's metadata, or nil.
	Repair func(ctx context.Context, svc catalog.Service, charts []sources.ChartVersion, at time.Time) *Repair
	// The security inputs' sources (security.go); nil skips that part.
	Advisories sources.AdvisorySource
	EOL        sources.EOLSource
	GoModules  GoModuleSource
}

// Repair is another upstream for a service, verified on its data.
type Repair struct {
	Service  catalog.Service // the entry with the new upstream
	Evidence string
	Coverage Coverage
}

// WithSecurity returns r reading advisories and go.mod from gh and
// end-of-life cycles from e (nil when no service names a product: a typed
// nil is never stored).
func (r Runner) WithSecurity(gh interface {
	sources.AdvisorySource
	GoModuleSource
}, e sources.EOLSource, hasEOL bool) Runner {
	r.Advisories, r.GoModules = gh, gh
	if hasEOL {
		r.EOL = e
	}
	return r
}

// Run checks every service at time at, in the order given. A service whose
// data cannot be fetched gets a Result with Error; the others are checked.
func (r Runner) Run(ctx context.Context, services []catalog.Service, at time.Time) Report {
	if p, ok := r.Upstreams.(sources.Prefetcher); ok {
		refs := make([]sources.UpstreamRef, len(services))
		for i, s := range services {
			refs[i] = s.UpstreamRef()
		}
		p.Prefetch(ctx, refs)
	}
	limit := r.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	out := make([]Result, len(services))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := r.Fetch(ctx, svc)
			if err != nil {
				out[i] = Result{Service: svc.Name, Error: err.Error(), LeftOut: []LeftOut{}, Problems: []Problem{}, Fixes: []Fix{}}
				// The security inputs are still checked: one failing
				// part never hides the others.
				r.security(ctx, svc, d.Charts, at, &out[i])
				return
			}
			out[i] = Check(svc, d, at)
			if res := &out[i]; r.Repair != nil && !res.OK && len(res.Fixes) == 0 {
				if rp := r.Repair(ctx, svc, d.Charts, at); rp != nil && !strings.EqualFold(rp.Service.Upstream.Repo, svc.Upstream.Repo) {
					res.Fixes = append(res.Fixes, Fix{Field: "upstream.repo", Value: rp.Service.Upstream.Repo, Evidence: rp.Evidence, Coverage: rp.Coverage})
					s := rp.Service
					res.Suggested = &s
				}
			}
			r.security(ctx, svc, d.Charts, at, &out[i])
		}()
	}
	wg.Wait()
	return NewReport(at, out)
}

// Fetch reads what Check needs of one service: the upstream with the
// entry's source, the chart, and the repository's tags when the entry reads
// releases and there are none.
func (r Runner) Fetch(ctx context.Context, svc catalog.Service) (Data, error) {
	var (
		d            Data
		upErr, chErr error
		wg           sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); d.Releases, _, upErr = r.Upstreams.Releases(ctx, svc.UpstreamRef()) }()
	go func() { defer wg.Done(); d.Charts, _, chErr = r.Charts.ChartVersions(ctx, svc.ChartRef()) }()
	wg.Wait()
	switch {
	case upErr != nil:
		return d, fmt.Errorf("upstream %s (%s): %w", svc.Upstream.Repo, svc.Upstream.Source, upErr)
	case chErr != nil:
		return d, fmt.Errorf("chart %s from %s: %w", svc.Chart.Name, svc.Chart.Repository, chErr)
	}
	if svc.Upstream.Source == sources.KindReleases && len(d.Releases) == 0 {
		d.Tags, _, _ = r.Upstreams.Releases(ctx, sources.UpstreamRef{Repo: svc.Upstream.Repo, Kind: sources.KindTags})
	}
	return d, nil
}
