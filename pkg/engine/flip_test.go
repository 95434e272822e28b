package engine_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

var flipStart = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

// flipTimeline is issue 16's upstream: 5 000 releases, all before the range
// and all newer than what runs, and a chart shipping 0.0.3.
func flipTimeline(tb testing.TB) *engine.Timeline {
	tb.Helper()
	var ups []sources.Release
	for i := range 5000 {
		ups = append(ups, sources.Release{Tag: fmt.Sprintf("v1.%d.%d", i/100, i%100), Time: flipStart.Add(-time.Duration(5000-i) * time.Hour)})
	}
	tl, _, err := engine.Build(engine.Spec{}, ups, []sources.ChartVersion{{Version: "1.0.0", AppVersion: "0.0.3", Created: flipStart.Add(-time.Hour)}})
	if err != nil {
		tb.Fatal(err)
	}
	return tl
}

// flipSamples alternates 0.0.1 and 0.0.2 at n samples a minute apart, each
// version its own string as a decoded answer gives it.
func flipSamples(n int) []engine.DeployedSample {
	samples := make([]engine.DeployedSample, n)
	for i := range samples {
		samples[i] = engine.DeployedSample{At: flipStart.Add(time.Duration(i+1) * time.Minute), Versions: []string{fmt.Sprintf("0.0.%d", 1+i%2)}}
	}
	return samples
}

// Reading and sweeping 19 000 flipping samples over 5 000 releases costs a
// few megabytes (bytes allocated), linear in the samples: it was ~9 GB
// (a list of the newer release times per sample, each parsed anew).
func TestDeployedSweepFlipHeap(t *testing.T) {
	tl := flipTimeline(t)
	samples := flipSamples(19_000)
	times := make([]time.Time, 0, 2*len(samples))
	for _, s := range samples {
		times = append(times, s.At, s.At.Add(30*time.Second))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d, _ := engine.NewDeployed(samples)
	behind := 0
	err := tl.DeployedSweep(context.Background(), d, times, func(_ int, st engine.DeployedState, _ bool) { behind = max(behind, st.VersionsBehind) })
	runtime.ReadMemStats(&after)
	if err != nil || behind != 5000 {
		t.Fatalf("behind %d, %v", behind, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("19 000 flipping samples over 5 000 releases allocated %.1f MiB, want at most 8", float64(got)/(1<<20))
	}
}

// BenchmarkDeployedSweepFlip is the engine's share of the flip case.
func BenchmarkDeployedSweepFlip(b *testing.B) {
	tl := flipTimeline(b)
	samples := flipSamples(19_000)
	times := make([]time.Time, len(samples))
	for i, s := range samples {
		times[i] = s.At
	}
	b.ReportAllocs()
	for b.Loop() {
		d, _ := engine.NewDeployed(samples)
		if err := tl.DeployedSweep(context.Background(), d, times, func(int, engine.DeployedState, bool) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// A query that ends stops the sweep within sweepCheckEvery points, with the
// context's error.
func TestDeployedSweepStopsWhenTheQueryEnds(t *testing.T) {
	tl := flipTimeline(t)
	d, _ := engine.NewDeployed(flipSamples(19_000))
	times := make([]time.Time, 100_000)
	for i := range times {
		times[i] = flipStart.Add(time.Duration(i) * time.Second)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := tl.DeployedSweep(ctx, d, times, func(i int, _ engine.DeployedState, _ bool) {
		if n++; i == 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || n > 2048 {
		t.Errorf("after cancelling at point 10: %d points computed, err %v", n, err)
	}
	n = 0
	if err := tl.DeployedSweep(ctx, d, times, func(int, engine.DeployedState, bool) { n++ }); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("cancelled before: %d points, err %v", n, err)
	}
}

// Beyond max, the changes between two ticks fold into the last one; under
// it, all are listed.
func TestGridChanges(t *testing.T) {
	at := func(m int) time.Time { return flipStart.Add(time.Duration(m) * time.Minute) }
	var samples []engine.DeployedSample
	for _, s := range []struct {
		min int
		v   string
	}{{5, "1.0.0"}, {12, "1.0.1"}, {14, "1.0.0"}, {15, "1.0.0"}, {17, "1.0.1"}, {20, "1.0.2"}, {31, "1.0.3"}, {33, "1.0.2"}, {55, "1.0.4"}} {
		samples = append(samples, engine.DeployedSample{At: at(s.min), Versions: []string{s.v}})
	}
	d, _ := engine.NewDeployed(samples)
	ticks := []time.Time{at(0), at(10), at(20), at(30), at(40), at(50), at(60)}
	all, folded := d.GridChanges(at(0), at(60), ticks, 100)
	want := []time.Time{at(5), at(12), at(14), at(17), at(20), at(31), at(33), at(55)} // 15 is no change
	if !slices.Equal(all, want) || folded != 0 {
		t.Errorf("under the cap: %v, %d folded", all, folded)
	}
	// Over it: per step the last change (20 is on a tick, kept), the others folded.
	got, folded := d.GridChanges(at(0), at(60), ticks, 3)
	want = []time.Time{at(5), at(17), at(20), at(33), at(55)}
	if !slices.Equal(got, want) || folded != 3 {
		t.Errorf("over the cap: %v, %d folded; want %v, 3", got, folded, want)
	}
	// (from, to]: a change at from is not listed.
	if got, _ := d.GridChanges(at(5), at(20), ticks, 100); !slices.Equal(got, []time.Time{at(12), at(14), at(17), at(20)}) {
		t.Errorf("in (5, 20]: %v", got)
	}
}

// Values that do not parse: one notice counting them, naming three.
func TestNewDeployedCountsBadVersions(t *testing.T) {
	var samples []engine.DeployedSample
	for i := range 1000 {
		samples = append(samples, engine.DeployedSample{At: flipStart.Add(time.Duration(i) * time.Minute), Versions: []string{fmt.Sprintf("build-%d", i%500), "1.0.0"}})
	}
	d, notices := engine.NewDeployed(samples)
	if len(notices) != 1 || !strings.HasPrefix(notices[0], `500 deployed versions left out (not semver), e.g. "build-0", "build-1", "build-2"`) || !d.Known() {
		t.Errorf("%d notices: %q", len(notices), notices)
	}
}
