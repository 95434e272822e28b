package frames_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// huge is a service whose upstream and chart have n releases each, one an hour.
func huge(t *testing.T, name string, n int) collector.Result {
	t.Helper()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	ups := make([]sources.Release, n)
	charts := make([]sources.ChartVersion, n)
	for i := range n {
		v := fmt.Sprintf("%d.%d.%d", i/10000, i/100%100, i%100)
		ups[i] = sources.Release{Tag: v, Time: base.Add(time.Duration(i) * time.Hour)}
		charts[i] = sources.ChartVersion{Version: v, AppVersion: v, Created: base.Add(time.Duration(i)*time.Hour + 30*time.Minute)}
	}
	tl, _, err := engine.Build(engine.Spec{}, ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	return collector.Result{Service: catalog.Service{Name: name, Maintainer: "x", Upstream: catalog.Upstream{Repo: "a/" + name}, Chart: catalog.Chart{Name: name}}, Timeline: tl}
}

// A lag query from 1970 to 2100 at 1 ms steps with maxDataPoints 1e9 (any
// user who can query can send it) over a chart with 100 000 versions.
func TestLagCeilings(t *testing.T) {
	rs := []collector.Result{huge(t, "big", 100_000)}
	from, to := time.Unix(0, 0).UTC(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	var fs []*frameSummary
	peak := fakes.PeakHeap(func() {
		for _, f := range frames.Lag(context.Background(), rs, chartMetrics, from, to, time.Millisecond, 1e9) {
			fs = append(fs, summarize(f.Fields[0].Len(), f.Meta.Notices))
		}
	})
	if len(fs) != len(chartMetrics) {
		t.Fatalf("%d frames", len(fs))
	}
	for _, f := range fs {
		if f.points > frames.MaxPointsPerSeries+2 {
			t.Errorf("%d points in a series, ceiling %d", f.points, frames.MaxPointsPerSeries)
		}
	}
	if !strings.Contains(fs[0].notices, "showing at most 11000") || !strings.Contains(fs[0].notices, "more than 20000 release and deployment events in the time range") {
		t.Errorf("notices: %s", fs[0].notices)
	}
	if peak > 256<<20 {
		t.Errorf("the heap grew by %d MB", peak>>20)
	}

	// Many series: the response ceiling coarsens every series.
	var many []collector.Result
	for i := range 1000 {
		many = append(many, huge(t, fmt.Sprintf("s%d", i), 20))
	}
	out := frames.Lag(context.Background(), many, chartMetrics, from, to, time.Millisecond, 1e9)
	total := 0
	for _, f := range out {
		total += f.Fields[0].Len()
	}
	if total > frames.MaxPointsPerResponse+len(out)*(3+40) { // plus from, to and the 40 release events of each
		t.Errorf("%d points in the response, ceiling %d", total, frames.MaxPointsPerResponse)
	}
}

// When the query's context ends, the services not drawn yet say so and
// nothing is computed for them.
func TestLagStopsWithContext(t *testing.T) {
	rs := []collector.Result{huge(t, "a", 10), huge(t, "b", 10)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := frames.Lag(ctx, rs, []string{models.MetricLag}, time.Unix(0, 0), time.Unix(1e9, 0), time.Hour, 100)
	for _, f := range out {
		if f.Fields[0].Len() != 0 || len(f.Meta.Notices) == 0 || !strings.Contains(f.Meta.Notices[0].Text, "the query ended before this service was computed") {
			t.Errorf("%s: %d points, notices %+v", f.Name, f.Fields[0].Len(), f.Meta.Notices)
		}
	}
}

type frameSummary struct {
	points  int
	notices string
}

func summarize(points int, notices []data.Notice) *frameSummary {
	var b strings.Builder
	for _, n := range notices {
		b.WriteString(n.Text + "\n")
	}
	return &frameSummary{points: points, notices: b.String()}
}

// A time range that ends before it starts (any API user can send one) gives
// no points, not a panic.
func TestReversedRange(t *testing.T) {
	rs := []collector.Result{huge(t, "a", 10)}
	out := frames.Lag(context.Background(), rs, []string{models.MetricLag}, time.Unix(2e9, 0), time.Unix(1e9, 0), time.Hour, 100)
	if len(out) != 1 || out[0].Fields[0].Len() != 0 {
		t.Errorf("%d frames, %d points", len(out), out[0].Fields[0].Len())
	}
}
