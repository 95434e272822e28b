package engine_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// sameStates fails when Sweep and At disagree on any field at any time.
func sameStates(t *testing.T, name string, tl *engine.Timeline, times []time.Time) {
	t.Helper()
	swept := tl.Sweep(times)
	for i, at := range times {
		want, got := tl.At(at), swept[i]
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s at %s:\n At    %s\n Sweep %s", name, at.Format(time.RFC3339), describe(want), describe(got))
		}
	}
}

func describe(s engine.State) string {
	v := func(r *engine.Release) string {
		if r == nil {
			return "-"
		}
		return r.Tag + "@" + r.Time.Format(time.RFC3339)
	}
	d := "-"
	if s.Drift != nil {
		d = s.Drift.String()
	}
	return fmt.Sprintf("chart=%v %v latest=%s behind=%d since=%s lag=%s drift=%s age=%s", s.HasChart, s.Chart.Version, v(s.UpstreamLatest), s.VersionsBehind, v(s.LagSince), s.Lag, d, s.ChartAge)
}

// every release time, the instants around it, and a grid across the history.
func probeTimes(tl *engine.Timeline, step time.Duration) []time.Time {
	var ts []time.Time
	add := func(t time.Time) { ts = append(ts, t.Add(-time.Nanosecond), t, t.Add(time.Nanosecond)) }
	var lo, hi time.Time
	for _, e := range tl.EventTimes(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		add(e)
		if lo.IsZero() || e.Before(lo) {
			lo = e
		}
		if e.After(hi) {
			hi = e
		}
	}
	for t := lo.Add(-step); !t.After(hi.Add(step)); t = t.Add(step) {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts
}

func TestSweepMatchesAtOnFixtures(t *testing.T) {
	for name, svc := range map[string]fixtureService{"ollama": ollama, "chromadb": chromadb, "vllm-stack": vllmStack, "gpu-operator": gpuOperator} {
		tl, _ := svc.timeline(t)
		sameStates(t, name, tl, probeTimes(tl, 24*time.Hour))
	}
}

// Random timelines with the traps of the real data: equal times, versions
// published out of order, a version republished, prereleases, charts that
// ship versions upstream never released, charts going back down.
func TestSweepMatchesAtOnRandomTimelines(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 42))
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		at := func() time.Time { return base.Add(time.Duration(rng.IntN(60)) * 12 * time.Hour) }
		ver := func() string {
			v := fmt.Sprintf("%d.%d.%d", rng.IntN(2), rng.IntN(4), rng.IntN(4))
			if rng.IntN(10) == 0 {
				v += "-rc.1"
			}
			return v
		}
		var ups []sources.Release
		for range rng.IntN(40) {
			ups = append(ups, sources.Release{Tag: "v" + ver(), Time: at()})
		}
		var charts []sources.ChartVersion
		for range rng.IntN(25) {
			charts = append(charts, sources.ChartVersion{Version: ver(), AppVersion: ver(), Created: at()})
		}
		tl, _, err := engine.Build(engine.Spec{Prereleases: rng.IntN(2) == 0}, ups, charts)
		if err != nil {
			t.Fatal(err)
		}
		sameStates(t, fmt.Sprintf("seed %d", seed), tl, probeTimes(tl, 7*time.Hour))
	}
}
