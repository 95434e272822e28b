package collector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// stub sources: upstream "acme/broken" fails; every call records concurrency.
type stub struct {
	inFlight, peak atomic.Int32
}

func (s *stub) enter() func() {
	n := s.inFlight.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	time.Sleep(time.Millisecond) // let other goroutines overlap
	return func() { s.inFlight.Add(-1) }
}

func (s *stub) Releases(_ context.Context, ref sources.UpstreamRef) ([]sources.Release, []sources.Notice, error) {
	defer s.enter()()
	if ref.Repo == "acme/broken" {
		return nil, nil, errors.New("HTTP 500")
	}
	return []sources.Release{{Tag: "v1.1.0", Time: time.Unix(2000, 0)}}, []sources.Notice{"stale"}, nil
}

func (s *stub) ChartVersions(_ context.Context, ref sources.ChartRef) ([]sources.ChartVersion, []sources.Notice, error) {
	defer s.enter()()
	return []sources.ChartVersion{{Version: "1.0.0", AppVersion: "1.0.0", Created: time.Unix(1000, 0)}}, nil, nil
}

func svc(name, repo string) catalog.Service {
	return catalog.Service{Name: name, Upstream: catalog.Upstream{Repo: repo, Source: "releases"},
		Chart: catalog.Chart{Repository: "https://charts.example", Name: name, VersionFrom: catalog.FromAppVersion}}
}

func TestCollectKeepsOrderAndFailures(t *testing.T) {
	st := &stub{}
	c := &Collector{Upstreams: st, Charts: st, Concurrency: 2}
	services := []catalog.Service{svc("a", "acme/a"), svc("broken", "acme/broken"), svc("c", "acme/c"), svc("d", "acme/d"), svc("e", "acme/e")}
	var mu sync.Mutex
	var seen []int
	rs := c.Collect(context.Background(), services, func(done, total int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		if total != len(services) {
			t.Errorf("total = %d", total)
		}
		seen = append(seen, done)
	})
	if len(seen) != len(services) || seen[len(seen)-1] != len(services) {
		t.Errorf("progress calls = %v", seen)
	}
	for i, r := range rs {
		if r.Service.Name != services[i].Name {
			t.Errorf("result %d is %s, want %s", i, r.Service.Name, services[i].Name)
		}
		if (r.Err != nil) != (r.Service.Name == "broken") {
			t.Errorf("%s: err %v", r.Service.Name, r.Err)
		}
	}
	if err := rs[1].Err; !strings.Contains(err.Error(), "upstream acme/broken (releases)") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("error does not name the source: %v", err)
	}
	if st := rs[0].Timeline.At(time.Unix(3000, 0)); st.VersionsBehind != 1 {
		t.Errorf("a: versions behind = %d", st.VersionsBehind)
	}
	if len(rs[0].Notices) != 1 || rs[0].Notices[0] != "stale" {
		t.Errorf("source notices lost: %q", rs[0].Notices)
	}
	// Two services at once, each fetching upstream and chart in parallel: at most 4 calls.
	if p := st.peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrent source calls = %d, want 2..4", p)
	}
}

// stalling never answers for "acme/stall" until its context ends.
type stalling struct{ stub }

func (s *stalling) Releases(ctx context.Context, ref sources.UpstreamRef) ([]sources.Release, []sources.Notice, error) {
	if ref.Repo == "acme/stall" {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return s.stub.Releases(ctx, ref)
}

// When the query's deadline passes, a stalled service fails with a message
// saying so, and the services that answered still come back.
func TestCollectDeadline(t *testing.T) {
	st := &stalling{}
	c := &Collector{Upstreams: st, Charts: st}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rs := c.Collect(ctx, []catalog.Service{svc("a", "acme/a"), svc("stall", "acme/stall")}, nil)
	if rs[0].Err != nil || rs[0].Timeline == nil {
		t.Errorf("a: %v", rs[0].Err)
	}
	if rs[1].Err == nil || !strings.Contains(rs[1].Err.Error(), "not fetched in time: the query's time limit ran out") {
		t.Errorf("stall: %v", rs[1].Err)
	}
}

// changing returns one more release after Bump.
type changing struct {
	stub
	extra atomic.Bool
}

func (s *changing) Releases(ctx context.Context, ref sources.UpstreamRef) ([]sources.Release, []sources.Notice, error) {
	rs, ns, err := s.stub.Releases(ctx, ref)
	if s.extra.Load() && ref.Repo == "acme/b" {
		rs = append(rs, sources.Release{Tag: "v1.2.0", Time: time.Unix(3000, 0)})
	}
	return rs, ns, err
}

// Timelines are derived data: a warm Collect whose sources answer the same
// builds nothing; a service whose releases changed is built again, alone.
func TestTimelinesAreReused(t *testing.T) {
	st := &changing{}
	c := &Collector{Upstreams: st, Charts: st}
	services := []catalog.Service{svc("a", "acme/a"), svc("b", "acme/b")}
	first := c.Collect(context.Background(), services, nil)
	if c.builds.Load() != 2 {
		t.Fatalf("cold: %d builds", c.builds.Load())
	}
	again := c.Collect(context.Background(), services, nil)
	if c.builds.Load() != 2 || again[0].Timeline != first[0].Timeline {
		t.Fatalf("warm: %d builds, timeline reused %v", c.builds.Load(), again[0].Timeline == first[0].Timeline)
	}
	st.extra.Store(true)
	changed := c.Collect(context.Background(), services, nil)
	if c.builds.Load() != 3 || len(changed[1].Timeline.Upstream) != 2 || changed[0].Timeline != first[0].Timeline {
		t.Fatalf("after a new release of b: %d builds, b has %d releases", c.builds.Load(), len(changed[1].Timeline.Upstream))
	}
}

// deployedStub answers "up" with version 1.0.0 and fails "down".
type deployedStub struct{ calls atomic.Int32 }

func (d *deployedStub) Deployed(ctx context.Context, ref sources.DeployedRef, from, to time.Time) ([]sources.DeployedSample, []sources.Notice, error) {
	d.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if ref.Query == "down" {
		return nil, nil, errors.New("Prometheus at p:9090 unreachable")
	}
	return []sources.DeployedSample{{At: from, Versions: []string{"1.0.0"}}}, nil, nil
}

// The last hop per service: pinned, from Prometheus, failing there (a
// notice, nothing else lost), none, a failed service (not asked), and a
// what-if version for all.
func TestAddDeployed(t *testing.T) {
	withDeployed := func(s catalog.Service, d catalog.Deployed) catalog.Service { s.Deployed = &d; return s }
	prom := func(q string) catalog.Deployed {
		return catalog.Deployed{Prometheus: &catalog.DeployedPrometheus{Query: q, Label: "version"}}
	}
	services := []catalog.Service{
		withDeployed(svc("pinned", "acme/a"), catalog.Deployed{Version: "v1.1.0"}),
		withDeployed(svc("prom", "acme/b"), prom("up")),
		withDeployed(svc("down", "acme/c"), prom("down")),
		svc("none", "acme/d"),
		withDeployed(svc("broken", "acme/broken"), prom("up")),
	}
	dep := &deployedStub{}
	c := &Collector{Upstreams: &stub{}, Charts: &stub{}, Deployed: dep}
	rs := c.Collect(context.Background(), services, nil)
	from, to := time.Unix(1000, 0), time.Unix(3000, 0)
	c.AddDeployed(context.Background(), rs, DeployedRange{From: from, To: to})
	version := func(r Result) string {
		if r.Deployed == nil || r.Deployed.At(to) == nil {
			return ""
		}
		return r.Deployed.At(to).String()
	}
	for i, want := range []string{"1.1.0", "1.0.0", "", "", ""} {
		if got := version(rs[i]); got != want {
			t.Errorf("%s: deployed %q, want %q", rs[i].Service.Name, got, want)
		}
	}
	if n := strings.Join(rs[2].Notices, "|"); !strings.Contains(n, "deployed version unknown: Prometheus at p:9090 unreachable") || rs[2].Err != nil || rs[2].Timeline == nil {
		t.Errorf("failing Prometheus: notices %q, err %v", n, rs[2].Err)
	}
	if dep.calls.Load() != 2 {
		t.Errorf("Prometheus asked %d times, want 2 (not for the pinned, the one without deployed nor the failed service)", dep.calls.Load())
	}

	rs = c.Collect(context.Background(), services, nil)
	c.AddDeployed(context.Background(), rs, DeployedRange{From: from, To: to, WhatIf: "2.0.0"})
	for _, r := range rs {
		if version(r) != "2.0.0" {
			t.Errorf("what-if: %s runs %q", r.Service.Name, version(r))
		}
	}

	// Without a Prometheus: a notice naming where to set it.
	c = &Collector{Upstreams: &stub{}, Charts: &stub{}, PrometheusHint: "pass --prometheus-url URL"}
	rs = c.Collect(context.Background(), services[1:2], nil)
	c.AddDeployed(context.Background(), rs, DeployedRange{From: from, To: to})
	if rs[0].Deployed != nil || !strings.Contains(strings.Join(rs[0].Notices, "|"), "no Prometheus URL is set: pass --prometheus-url URL") {
		t.Errorf("no Prometheus: %v %q", rs[0].Deployed, rs[0].Notices)
	}
}
