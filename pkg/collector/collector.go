// Package collector fetches every requested service's timelines from the
// sources, concurrently, and turns them into engine timelines. One failing
// service never hides the others: its Result carries the error.
package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

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
	Deployed *engine.Deployed // what runs; nil when no deployed version is known
	// Security is the service's advisories against its upstream releases;
	// nil when it names none, or they could not be read (a notice says why):
	// its security metrics are then null.
	Security *engine.Security
	// Cycles are the end-of-life cycles of its endoflife.date product; nil
	// when it names none, or they could not be read (a notice says why).
	Cycles *engine.Cycles
	// MinSeverity is the lowest rating of the advisories Security counts
	// (AtLeast); SeverityNone: every advisory.
	MinSeverity engine.Severity
	Notices     []string // stale data, left-out values
	Err         error
}

// AtLeast makes the security metrics of results count only advisories
// rated at least min: a query's minSeverity.
func AtLeast(results []Result, min engine.Severity) {
	for i := range results {
		results[i].MinSeverity = min
		if results[i].Security != nil {
			results[i].Security = results[i].Security.AtLeast(min)
		}
	}
}

// Progress is told about every service as it finishes.
type Progress func(done, total int, r Result)

// Collector reads services from an upstream and a chart source.
type Collector struct {
	Upstreams   sources.UpstreamSource
	Charts      sources.ChartSource
	Deployed    sources.DeployedSource // Prometheus; nil when none is configured
	Advisories  sources.AdvisorySource // GitHub's advisory database; nil: no service's advisories are read
	EOL         sources.EOLSource      // endoflife.date; nil: no service's cycles are read
	Concurrency int
	// PrometheusHint tells how to set a Prometheus URL, in the words of the
	// user's surface, for services whose deployed version needs one.
	PrometheusHint string

	// Normalised timelines are derived data: each service's last one is kept
	// with a fingerprint of the raw releases it was built from, so a query
	// whose sources answered from their caches does no regexp or semver work.
	memoMu sync.Mutex
	memo   map[string]built
	builds atomic.Int64 // engine.Build calls (tests check that a warm Collect makes none)
}

// built is a timeline with the fingerprint of its inputs.
type built struct {
	fingerprint uint64
	timeline    *engine.Timeline
	notices     []string
}

// Collect returns one Result per service, in the order given.
func (c *Collector) Collect(ctx context.Context, services []catalog.Service, progress Progress) []Result {
	out := make([]Result, len(services))
	if p, ok := c.Upstreams.(sources.Prefetcher); ok {
		refs := make([]sources.UpstreamRef, len(services))
		for i, s := range services {
			refs[i] = s.UpstreamRef()
		}
		p.Prefetch(ctx, refs)
	}
	sem := make(chan struct{}, c.limit())
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

// limit is how many services are fetched at once.
func (c *Collector) limit() int {
	if c.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return c.Concurrency
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
	sec := c.security(ctx, svc, &wg)
	wg.Wait()
	res.Cycles = sec.cycles
	res.Notices = append(res.Notices, sec.notices...)
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
	tl, notices, err := c.build(svc, ups, charts)
	if err != nil {
		res.Err = err
		return res
	}
	res.Timeline = tl
	res.Notices = append(res.Notices, notices...)
	if sec.advisories != nil {
		res.Security = engine.NewSecurity(tl, sec.advisories)
	}
	return res
}

// build returns the service's timeline, reusing the last one when the raw
// data and the spec are the same. Timelines are never modified after Build,
// so sharing one between queries is safe.
func (c *Collector) build(svc catalog.Service, ups []sources.Release, charts []sources.ChartVersion) (*engine.Timeline, []string, error) {
	spec := Spec(svc)
	fp := fingerprint(spec, ups, charts)
	c.memoMu.Lock()
	prev, ok := c.memo[svc.Name]
	c.memoMu.Unlock()
	if ok && prev.fingerprint == fp {
		return prev.timeline, prev.notices, nil
	}
	c.builds.Add(1)
	tl, notices, err := engine.Build(spec, ups, charts)
	if err != nil {
		return nil, nil, err
	}
	c.memoMu.Lock()
	if c.memo == nil {
		c.memo = map[string]built{}
	}
	c.memo[svc.Name] = built{fingerprint: fp, timeline: tl, notices: notices}
	c.memoMu.Unlock()
	return tl, notices, nil
}

// fingerprintSeed keys the fingerprints of this process (they are never
// stored or compared across processes).
var fingerprintSeed = maphash.MakeSeed()

// fingerprint hashes everything engine.Build reads. It runs for every
// service of every query, so it writes strings and numbers without
// allocating (maphash, no formatting).
func fingerprint(spec engine.Spec, ups []sources.Release, charts []sources.ChartVersion) uint64 {
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	var num [8]byte
	str := func(v string) {
		_, _ = h.WriteString(v)
		_ = h.WriteByte(0)
	}
	i64 := func(v int64) {
		binary.LittleEndian.PutUint64(num[:], uint64(v))
		_, _ = h.Write(num[:])
	}
	flag := func(v bool) {
		if v {
			_ = h.WriteByte(1)
		} else {
			_ = h.WriteByte(0)
		}
	}
	str(spec.TagPattern)
	str(spec.VersionPattern)
	flag(spec.Prereleases)
	flag(spec.FromVersion)
	i64(int64(len(ups)))
	for _, r := range ups {
		str(r.Tag)
		i64(r.Time.UnixNano())
		flag(r.Prerelease)
	}
	i64(int64(len(charts)))
	for _, cv := range charts {
		str(cv.Version)
		str(cv.AppVersion)
		i64(cv.Created.UnixNano())
		str(cv.CreatedRaw)
		flag(cv.Deprecated)
	}
	return h.Sum64()
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

// DeployedRange is what the last hop of a query reads: the deployed version
// over [From, To], or the what-if version WhatIf for every service.
type DeployedRange struct {
	From, To time.Time
	WhatIf   string // a version checked by models.ParseQuery; "" for the catalog's
}

// AddDeployed sets the deployed version of every collected service that has
// one (the catalog's deployed, or the what-if version). A service whose
// Prometheus query fails keeps its other numbers: the failure is a notice on
// it, and its deployed metrics are null.
func (c *Collector) AddDeployed(ctx context.Context, results []Result, r DeployedRange) {
	if r.WhatIf != "" {
		d, err := engine.PinnedDeployed(r.WhatIf)
		for i := range results {
			if err != nil {
				results[i].Notices = append(results[i].Notices, "what-if version: "+err.Error())
				continue
			}
			results[i].Deployed = &d
		}
		return
	}
	sem := make(chan struct{}, c.limit())
	var wg sync.WaitGroup
	for i := range results {
		dep := results[i].Service.Deployed
		if dep == nil || results[i].Err != nil {
			continue
		}
		if dep.Version != "" {
			d, err := engine.PinnedDeployed(dep.Version)
			if err != nil { // the catalog checked it; kept for callers that did not
				results[i].Notices = append(results[i].Notices, err.Error())
				continue
			}
			results[i].Deployed = &d
			continue
		}
		if c.Deployed == nil {
			hint := c.PrometheusHint
			if hint == "" {
				hint = "set a Prometheus URL"
			}
			results[i].Notices = append(results[i].Notices, "deployed version unknown: the catalog reads it from Prometheus, but no Prometheus URL is set: "+hint)
			continue
		}
		wg.Add(1)
		go func(res *Result, ref sources.DeployedRef) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			samples, notes, err := c.Deployed.Deployed(ctx, ref, r.From, r.To)
			for _, n := range notes {
				res.Notices = append(res.Notices, string(n))
			}
			if err != nil {
				res.Notices = append(res.Notices, "deployed version unknown: "+err.Error())
				return
			}
			d, notes2 := engine.NewDeployed(samples)
			res.Notices = append(res.Notices, notes2...)
			if d.Known() {
				res.Deployed = &d
			}
		}(&results[i], sources.DeployedRef{Query: dep.Prometheus.Query, Label: dep.Prometheus.Label})
	}
	wg.Wait()
}
