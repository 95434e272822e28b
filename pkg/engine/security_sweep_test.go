package engine_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/engine"
)

// TestSecuritySweepEqualsAt holds the sweep equal to At on the Ollama
// fixtures, at every change time, just before it and at random times, for
// a version that changes now and then (as deployed(t) does).
func TestSecuritySweepEqualsAt(t *testing.T) {
	tl, _ := ollama.timeline(t)
	sec := engine.NewSecurity(tl, ollamaAdvisories(t))
	from, to := ts("2024-01-01T00:00:00Z"), ts("2026-12-01T00:00:00Z")
	events := sec.EventTimes(from, to)
	if len(events) < 10 || !slices.IsSortedFunc(events, time.Time.Compare) {
		t.Fatalf("event times %v", events)
	}
	rng := rand.New(rand.NewPCG(18, 3))
	var times []time.Time
	for _, e := range events {
		times = append(times, e.Add(-time.Second), e, e.Add(time.Hour))
	}
	for range 2000 {
		times = append(times, from.Add(time.Duration(rng.Int64N(int64(to.Sub(from))))))
	}
	slices.SortFunc(times, time.Time.Compare)
	versions := []*semver.Version{semver.MustParse("0.1.32"), semver.MustParse("0.3.14"), semver.MustParse("0.1.34"), semver.MustParse("0.17.0")}
	w := sec.Sweep()
	x := versions[0]
	for i, at := range times {
		if rng.IntN(200) == 0 {
			x = versions[rng.IntN(len(versions))]
		}
		got, want := w.At(x, at), sec.At(x, at)
		if got.FixesBehind != want.FixesBehind || got.Lag != want.Lag || got.Severity != want.Severity || got.Unfixed != want.Unfixed || !slices.Equal(got.UnfixedIDs, want.UnfixedIDs) || ids(got) != ids(want) {
			t.Fatalf("point %d, %s at %s: sweep %+v, At %+v", i, x, at, got, want)
		}
	}
}

func TestEOLEventTimes(t *testing.T) {
	c := cycles(t, "redis")
	got := c.EventTimes(ts("2024-07-01T00:00:00Z"), ts("2024-08-01T00:00:00Z"))
	if len(got) != 1 || !got[0].Equal(ts("2024-07-29T00:00:00Z")) {
		t.Errorf("Redis EOL dates in July 2024: %v, want 2024-07-29 (7.0)", got)
	}
}
