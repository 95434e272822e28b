package engine_test

import (
	"context"
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
		r := newRandomTimeline(rng, true)
		tl, _, err := engine.Build(engine.Spec{Prereleases: rng.IntN(2) == 0}, r.ups, r.charts)
		if err != nil {
			t.Fatal(err)
		}
		sameStates(t, fmt.Sprintf("seed %d", seed), tl, probeTimes(tl, 7*time.Hour))
	}
}

// sameDeployed fails when DeployedSweep and DeployedAt disagree.
func sameDeployed(t *testing.T, name string, tl *engine.Timeline, d engine.Deployed, times []time.Time) {
	t.Helper()
	n := 0
	err := tl.DeployedSweep(context.Background(), d, times, func(i int, got engine.DeployedState, known bool) {
		n++
		want, ok := tl.DeployedAt(d, times[i])
		if ok != known || !reflect.DeepEqual(want, got) {
			t.Fatalf("%s at %s: DeployedAt %+v (%v), DeployedSweep %+v (%v)", name, times[i].Format(time.RFC3339), want, ok, got, known)
		}
	})
	if err != nil || n != len(times) {
		t.Fatalf("%s: %d calls for %d times (%v)", name, n, len(times), err)
	}
}

// The last hop in one pass equals the reference on the fixtures (pinned
// versions and a history of upgrades) and on random timelines.
func TestDeployedSweepMatchesAt(t *testing.T) {
	for name, svc := range map[string]fixtureService{"ollama": ollama, "chromadb": chromadb, "vllm-stack": vllmStack, "gpu-operator": gpuOperator} {
		tl, _ := svc.timeline(t)
		times := probeTimes(tl, 24*time.Hour)
		var samples []engine.DeployedSample
		for i, r := range tl.Upstream {
			if i%3 == 0 { // upgrade to every third release a week after it
				samples = append(samples, engine.DeployedSample{At: r.Time.Add(7 * 24 * time.Hour), Versions: []string{r.Version.String()}})
			}
		}
		hist, _ := engine.NewDeployed(samples)
		sameDeployed(t, name+" history", tl, hist, times)
		for _, r := range tl.Upstream[:min(5, len(tl.Upstream))] {
			d, err := engine.PinnedDeployed(r.Version.String())
			if err != nil {
				t.Fatal(err)
			}
			sameDeployed(t, name+" pinned "+r.Tag, tl, d, times)
		}
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		r := newRandomTimeline(rng, false)
		var samples []engine.DeployedSample
		for range rng.IntN(10) {
			samples = append(samples, engine.DeployedSample{At: r.at(), Versions: []string{r.ver(), r.ver()}[:1+rng.IntN(2)]})
		}
		tl, _, err := engine.Build(engine.Spec{}, r.ups, r.charts)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := engine.NewDeployed(samples)
		sameDeployed(t, fmt.Sprintf("seed %d", seed), tl, d, probeTimes(tl, 7*time.Hour))
	}
}

// A version label that flips (issue 16): two versions alternating at every
// sample, or a new version string at every sample ("v1.0.0" and "1.0.0" are
// one version, "1.0.0+a" and "1.0.0+b" too), at the grid's times, between
// them and at equal times; with and without the changes merged into the
// grid. The sweep equals the reference at every point.
func TestDeployedSweepMatchesAtOnFlippingSeries(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 16))
		r := newRandomTimeline(rng, rng.IntN(2) == 0)
		tl, _, err := engine.Build(engine.Spec{Prereleases: r.pre}, r.ups, r.charts)
		if err != nil {
			t.Fatal(err)
		}
		a, b := r.ver(), r.ver()
		var samples []engine.DeployedSample
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(100)) * time.Hour)
		for k := range 200 + rng.IntN(400) {
			var v string
			switch seed % 3 {
			case 0: // two versions, alternating
				v = []string{a, b}[k%2]
			case 1: // the same two, spelled differently at every sample
				v = []string{a, "v" + a, b + "+build." + fmt.Sprint(k)}[k%3]
			default: // any version at every sample
				v = r.ver()
			}
			samples = append(samples, engine.DeployedSample{At: at, Versions: []string{v}})
			at = at.Add(time.Duration(rng.IntN(12)) * time.Hour) // equal times too
		}
		d, _ := engine.NewDeployed(samples)
		times := probeTimes(tl, 7*time.Hour)
		for _, c := range d.Changes(time.Time{}, at) {
			times = append(times, c.At.Add(-time.Nanosecond), c.At, c.At.Add(time.Nanosecond))
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		sameDeployed(t, fmt.Sprintf("seed %d", seed), tl, d, times)
	}
}

// randomTimeline is a random upstream and chart history: 60 half-days,
// versions 0–1.0–3.0–3 (with prereleases when asked), equal times and
// out-of-order versions included.
type randomTimeline struct {
	rng    *rand.Rand
	pre    bool
	ups    []sources.Release
	charts []sources.ChartVersion
}

func newRandomTimeline(rng *rand.Rand, prereleases bool) *randomTimeline {
	r := &randomTimeline{rng: rng, pre: prereleases}
	for range rng.IntN(40) {
		r.ups = append(r.ups, sources.Release{Tag: "v" + r.ver(), Time: r.at()})
	}
	for range rng.IntN(25) {
		r.charts = append(r.charts, sources.ChartVersion{Version: r.ver(), AppVersion: r.ver(), Created: r.at()})
	}
	return r
}

func (r *randomTimeline) at() time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.rng.IntN(60)) * 12 * time.Hour)
}

func (r *randomTimeline) ver() string {
	v := fmt.Sprintf("%d.%d.%d", r.rng.IntN(2), r.rng.IntN(4), r.rng.IntN(4))
	if r.pre && r.rng.IntN(10) == 0 {
		v += "-rc.1"
	}
	return v
}
