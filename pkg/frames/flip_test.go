package frames_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// flipping is issue 16's hostile Prometheus: an upstream with 5 000
// releases (all newer than what runs) and a version label flipping between
// 0.0.1 and 0.0.2 at 19 000 samples inside a 30-day range, each sample parsed
// from its own string as Prometheus' answer gives it.
func flipping(tb testing.TB) (collector.Result, time.Time, time.Time) {
	tb.Helper()
	from := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	var ups []sources.Release
	for i := range 5000 {
		ups = append(ups, sources.Release{Tag: fmt.Sprintf("v1.%d.%d", i/100, i%100), Time: from.Add(-time.Duration(5000-i) * time.Hour)})
	}
	charts := []sources.ChartVersion{{Version: "1.0.0", AppVersion: "0.0.3", Created: from.Add(-time.Hour)}}
	tl, _, err := engine.Build(engine.Spec{}, ups, charts)
	if err != nil {
		tb.Fatal(err)
	}
	samples := make([]engine.DeployedSample, 19_000)
	step := to.Sub(from) / time.Duration(len(samples)+1)
	for i := range samples {
		samples[i] = engine.DeployedSample{At: from.Add(time.Duration(i+1) * step), Versions: []string{fmt.Sprintf("0.0.%d", 1+i%2)}}
	}
	d, _ := engine.NewDeployed(samples)
	svc := catalog.Service{Name: "flip", Upstream: catalog.Upstream{Repo: "acme/flip"}, Chart: catalog.Chart{Name: "flip"}}
	return collector.Result{Service: svc, Timeline: tl, Deployed: &d}, from, to
}

// BenchmarkLagDeployedFlip is the lag panel of the last hop over the
// flipping series (docs/benchmarks.md: before and after issue 16).
func BenchmarkLagDeployedFlip(b *testing.B) {
	r, from, to := flipping(b)
	rs := []collector.Result{r}
	b.ReportAllocs()
	for b.Loop() {
		if fs := frames.Lag(context.Background(), rs, lastHop, from, to, time.Hour, 1000); len(fs) != len(lastHop) {
			b.Fatal(len(fs))
		}
	}
}

// The flipping series costs megabytes, not gigabytes: bytes allocated by one
// lag query (it took ~2.3 GB when every sample had its own list of newer
// release times).
func TestLagDeployedFlipHeap(t *testing.T) {
	r, from, to := flipping(t)
	rs := []collector.Result{r}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fs := frames.Lag(context.Background(), rs, lastHop, from, to, time.Hour, 1000)
	runtime.ReadMemStats(&after)
	if len(fs) != len(lastHop) {
		t.Fatalf("%d frames", len(fs))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("one lag query over the flipping series allocated %d MiB, want at most 64", got>>20)
	}
}

// The flipping series is drawn on the grid plus one change per step: every
// point holds the exact last hop at its time (DeployedAt), and one notice
// counts the changes not drawn as steps.
func TestLagDeployedFlipFolded(t *testing.T) {
	r, from, to := flipping(t)
	fs := frames.Lag(context.Background(), []collector.Result{r}, lastHop, from, to, time.Hour, 1000)
	for _, f := range fs {
		n := f.Fields[0].Len()
		if n > 2*(720+2) {
			t.Errorf("%s: %d points for 721 ticks", f.Name, n)
		}
		for i := range n {
			at := f.Fields[0].At(i).(time.Time)
			st, ok := r.Timeline.DeployedAt(*r.Deployed, at)
			got, _ := f.Fields[1].NullableFloatAt(i)
			var want *float64
			if ok {
				v := map[string]float64{lastHop[0]: float64(st.VersionsBehind), lastHop[1]: st.Lag.Seconds(), lastHop[2]: st.RolloutLag.Seconds()}[f.Fields[1].Name]
				want = &v
			}
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Fatalf("%s at %s: %v, want %v", f.Name, at, got, want)
			}
		}
		// The synthetic chart ships 0.0.3, no upstream release: the engine
		// says so too (lag-metrics.md, a pulled release; low coverage).
		if f.Meta == nil {
			t.Fatalf("%s: no notices", f.Name)
		}
		folded := 0
		for _, n := range f.Meta.Notices {
			if strings.Contains(n.Text, "deployed-version changes") {
				folded++
				if !strings.Contains(n.Text, "19000 deployed-version changes in the time range, more than 1000: 18280 of them") {
					t.Errorf("%s: %q", f.Name, n.Text)
				}
			}
		}
		if folded != 1 {
			t.Errorf("%s: notices %+v", f.Name, f.Meta)
		}
	}
}

// The events of the flipping series list the newest 1000 deployment
// changes, the last one at the last sample, and a notice counts them all.
func TestEventsDeployedFlipCapped(t *testing.T) {
	r, from, to := flipping(t)
	f := frames.Events([]collector.Result{r}, []string{models.EventDeployed}, from, to)
	all := r.Deployed.Changes(from, to)
	if len(all) != 19_000 || f.Rows() != frames.MaxDeployedEvents {
		t.Fatalf("%d changes, %d events; want 19000 and %d", len(all), f.Rows(), frames.MaxDeployedEvents)
	}
	times, _ := f.FieldByName("time")
	if first, last := times.At(0).(time.Time), times.At(f.Rows()-1).(time.Time); !first.Equal(all[19_000-1000].At) || !last.Equal(all[len(all)-1].At) {
		t.Errorf("events from %s to %s, want the newest 1000: %s to %s", first, last, all[19_000-1000].At, all[len(all)-1].At)
	}
	if f.Meta == nil || !slices.ContainsFunc(f.Meta.Notices, func(n data.Notice) bool {
		return strings.Contains(n.Text, "flip: 19000 deployed-version changes in the time range, more than 1000: only the newest 1000 are listed")
	}) {
		t.Errorf("no notice counting the changes left out: %+v", f.Meta)
	}
}

// endsAfter is a context whose Err says it ended after n looks.
type endsAfter struct {
	context.Context
	n int
}

func (c *endsAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// A query that ends while the last hop is swept: the service's frames carry
// that error and no points, instead of the sweep running on.
func TestLagStopsInTheDeployedSweep(t *testing.T) {
	r, from, to := flipping(t)
	ctx := &endsAfter{Context: context.Background(), n: 1} // alive when the service starts, ended in the sweep
	fs := frames.Lag(ctx, []collector.Result{r}, lastHop, from, to, time.Hour, 1000)
	if len(fs) != len(lastHop) {
		t.Fatalf("%d frames", len(fs))
	}
	for _, f := range fs {
		if n := f.Fields[0].Len(); n != 0 || f.Meta == nil || len(f.Meta.Notices) == 0 || !strings.Contains(f.Meta.Notices[0].Text, "not drawn: the query ended before this service was computed (context deadline exceeded)") {
			t.Errorf("%s: %d points, %+v", f.Name, n, f.Meta)
		}
	}
	if ctx.n >= 0 {
		t.Errorf("the sweep did not look at the context")
	}
}
