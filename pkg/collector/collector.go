// Package collector fetches every requested service's timelines from the
// sources, concurrently, and turns them into engine timelines. One failing
// service never hides the others: its Result carries the error.
package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// DefaultConcurrency bounds the services fetched at once.
const DefaultConcurrency = 8

// Result is one service's timeline, or the error that prevented it.
type Result struct {
	Service  catalog.Service
	Timeline *engine.Timeline // nil when Err is set
	Notices  []string         // stale data, left-out values
	Err      error
}

// Progress is told about every service as it finishes.
type Progress func(done, total int, r Result)

// Collector reads services from an upstream and a chart source.
type Collector struct {
	Upstreams   sources.UpstreamSource
	Charts      sources.ChartSource
	Concurrency int
}

// Collect returns one Result per service, in the order given.
func (c *Collector) Collect(ctx context.Context, services []catalog.Service, progress Progress) []Result {
	out := make([]Result, len(services))
	limit := c.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, svc := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = c.one(ctx, svc)
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(services), out[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func (c *Collector) one(ctx context.Context, svc catalog.Service) Result {
	res := Result{Service: svc}
	var (
		ups              []sources.Release
		charts           []sources.ChartVersion
		upNotes, chNotes []sources.Notice
		upErr, chErr     error
		wg               sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); ups, upNotes, upErr = c.Upstreams.Releases(ctx, svc.UpstreamRef()) }()
	go func() { defer wg.Done(); charts, chNotes, chErr = c.Charts.ChartVersions(ctx, svc.ChartRef()) }()
	wg.Wait()
	for _, n := range append(upNotes, chNotes...) {
		res.Notices = append(res.Notices, string(n))
	}
	if (upErr != nil || chErr != nil) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.Err = errors.New("not fetched in time: the query's time limit ran out (the request timeout); the fetch goes on for the next query")
		return res
	}
	switch {
	case upErr != nil:
		res.Err = fmt.Errorf("upstream %s (%s): %w", svc.Upstream.Repo, svc.Upstream.Source, upErr)
		return res
	case chErr != nil:
		res.Err = fmt.Errorf("chart %s from %s: %w", svc.Chart.Name, svc.Chart.Repository, chErr)
		return res
	}
	tl, notices, err := engine.Build(Spec(svc), ups, charts)
	if err != nil {
		res.Err = err
		return res
	}
	res.Timeline = tl
	res.Notices = append(res.Notices, notices...)
	return res
}

// Spec is the engine's view of a catalog service.
func Spec(svc catalog.Service) engine.Spec {
	return engine.Spec{
		TagPattern:     svc.Upstream.TagPattern,
		Prereleases:    svc.Upstream.Prereleases,
		FromVersion:    svc.Chart.VersionFrom == catalog.FromVersion,
		VersionPattern: svc.Chart.VersionPattern,
	}
}
