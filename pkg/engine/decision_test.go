package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// sec rounds to the second: the expected values below come from an
// independent Python implementation of lag-metrics.md run on the same
// fixture files, which keeps microseconds only.
func sec(d time.Duration) time.Duration { return d.Round(time.Second) }

func dur(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// The verdict on the real fixtures, W = 365 d, T = 7 d, A = 120 d.
func TestVerdictOnFixtures(t *testing.T) {
	for _, tc := range []struct {
		name           string
		svc            fixtureService
		at             string
		releases, open int
		d50, d90, age  string
		behind         int
		verdict        engine.Verdict
	}{
		// Ollama's community chart usually ships within days; a slow week
		// pushes d90 over 7 days on 2025-09-20, not on 2025-09-30.
		{"ollama 09-20", ollama, "2025-09-20T00:00:00Z", 59, 1, "68h16m15s", "195h6m28s", "58h11m10s", 1, engine.VerdictMostlyKeep},
		{"ollama 09-30", ollama, "2025-09-30T00:00:00Z", 61, 1, "70h44m38s", "165h53m35s", "112h51m59s", 1, engine.VerdictKeepsUp},
		// ChromaDB: chart 0.1.24 of 2025-05-23, 129 days old, 11 behind.
		{"chromadb 09-30", chromadb, "2025-09-30T00:00:00Z", 36, 11, "1023h31m53s", "2160h18m9s", "3108h45m50s", 11, engine.VerdictAbandoned},
		// Vendor charts: minutes.
		{"vllm-stack 09-30", vllmStack, "2025-09-30T00:00:00Z", 18, 0, "16s", "1m34s", "625h49m9s", 0, engine.VerdictKeepsUp},
		{"gpu-operator 09-30", gpuOperator, "2025-09-30T00:00:00Z", 8, 0, "17h21m59s", "165h12m14s", "263h16m3s", 0, engine.VerdictKeepsUp},
	} {
		tl, _ := tc.svc.timeline(t)
		ev := tl.VerdictAt(ts(tc.at), engine.DefaultVerdictParams)
		if ev.Verdict != tc.verdict || ev.Releases != tc.releases || ev.Open != tc.open || sec(ev.DelayMedian) != dur(tc.d50) ||
			sec(ev.DelayP90) != dur(tc.d90) || sec(ev.ChartAge) != dur(tc.age) || ev.VersionsBehind != tc.behind {
			t.Errorf("%s: %+v (d50 %s, d90 %s, age %s)", tc.name, ev, sec(ev.DelayMedian), sec(ev.DelayP90), sec(ev.ChartAge))
		}
	}
}

// The forecast of open releases on the real fixtures (k = 10).
func TestForecastOnFixtures(t *testing.T) {
	tl, _ := ollama.timeline(t)
	fs, reason := tl.Forecasts(ts("2025-09-30T00:00:00Z"), engine.DefaultForecastWindow)
	if reason != "" || len(fs) != 1 || fs[0].Release.Tag != "v0.12.3" || fs[0].P50.Round(time.Second) != ts("2025-10-02T09:27:38Z") ||
		fs[0].P90.Round(time.Second) != ts("2025-10-10T19:10:23Z") || fs[0].Overdue {
		t.Errorf("ollama: %+v %q", fs, reason)
	}
	tl, _ = chromadb.timeline(t)
	fs, _ = tl.Forecasts(ts("2025-09-30T00:00:00Z"), engine.DefaultForecastWindow)
	want := []struct {
		tag, p50, p90 string
		overdue       bool
	}{
		{"1.0.11", "2025-06-28T09:57:47Z", "2025-07-12T17:04:27Z", true},
		{"1.0.12", "2025-07-01T06:46:24Z", "2025-07-15T13:53:04Z", true},
		{"1.0.13", "2025-07-20T05:08:08Z", "2025-08-03T12:14:48Z", true},
		{"1.0.15", "2025-08-02T10:12:42Z", "2025-08-16T17:19:22Z", true},
		{"1.0.16", "2025-09-08T07:07:21Z", "2025-09-22T14:14:01Z", true},
		{"1.0.17", "2025-09-13T12:19:05Z", "2025-09-27T19:25:45Z", true},
		{"1.0.18", "2025-09-18T16:12:16Z", "2025-10-02T23:18:56Z", false},
		{"1.0.19", "2025-09-18T18:58:58Z", "2025-10-03T02:05:38Z", false},
		{"1.0.20", "2025-09-18T20:44:53Z", "2025-10-03T03:51:33Z", false},
		{"1.0.21", "2025-10-13T04:18:21Z", "2025-10-27T11:25:01Z", false},
		{"1.1.0", "2025-10-18T05:38:28Z", "2025-11-01T12:45:08Z", false},
	}
	if len(fs) != len(want) {
		t.Fatalf("chromadb: %d forecasts, want %d", len(fs), len(want))
	}
	for i, w := range want {
		f := fs[i]
		if f.Release.Tag != w.tag || f.P50.Round(time.Second) != ts(w.p50) || f.P90.Round(time.Second) != ts(w.p90) || f.Overdue != w.overdue {
			t.Errorf("chromadb %s: %s, %s, overdue %v; want %+v", f.Release.Tag, f.P50, f.P90, f.Overdue, w)
		}
	}
	// No open release, no forecast and no reason.
	tl, _ = vllmStack.timeline(t)
	if fs, reason := tl.Forecasts(ts("2025-09-30T00:00:00Z"), 0); len(fs) != 0 || reason != "" {
		t.Errorf("vllm-stack: %+v %q", fs, reason)
	}
}

// The last hop on the real fixtures.
func TestDeployedOnFixtures(t *testing.T) {
	at := ts("2025-09-30T00:00:00Z")
	for _, tc := range []struct {
		svc          fixtureService
		deployed     string
		behind       int
		lag, rollout string
	}{
		// Ollama 0.11.10 runs: 0.11.11 … 0.12.3 are newer (5), the oldest of
		// them out for 17 days; chart 1.29.0 (0.11.11) has waited 12 days.
		{ollama, "0.11.10", 5, "408h19m46s", "298h11m10s"},
		{ollama, "v0.12.3", 0, "0s", "0s"},
		// ChromaDB 1.0.0: 20 newer releases; the first chart with something
		// newer is 0.1.24 (1.0.10) of 2025-05-23, 129 days before.
		{chromadb, "1.0.0", 20, "4206h23m21s", "3108h45m50s"},
	} {
		tl, _ := tc.svc.timeline(t)
		d, err := engine.PinnedDeployed(tc.deployed)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := tl.DeployedAt(d, at)
		if !ok || st.VersionsBehind != tc.behind || sec(st.Lag) != dur(tc.lag) || sec(st.RolloutLag) != dur(tc.rollout) {
			t.Errorf("%s deployed: %+v (lag %s, rollout %s)", tc.deployed, st, sec(st.Lag), sec(st.RolloutLag))
		}
	}
}

// A history of what ran: the newest sample at or before t counts; several
// versions at once give the lowest and a notice; unknown before the first.
func TestDeployedHistory(t *testing.T) {
	d, notices := engine.NewDeployed([]engine.DeployedSample{
		{At: ts("2025-09-25T00:00:00Z"), Versions: []string{"0.12.2", "0.12.1"}},
		{At: ts("2025-09-10T00:00:00Z"), Versions: []string{"v0.11.10"}},
		{At: ts("2025-09-28T00:00:00Z"), Versions: []string{"latest"}},
		{At: ts("2025-09-28T00:00:01Z"), Versions: []string{"main", "latest", "dev", "nightly"}},
	})
	// One notice for the values left out, counting them (each once), not one per value.
	if len(notices) != 2 || notices[0] != `4 deployed versions left out (not semver), e.g. "latest", "main", "dev"` || !strings.Contains(notices[1], "the lowest counts") {
		t.Errorf("notices %q", notices)
	}
	for at, want := range map[string]string{"2025-09-01T00:00:00Z": "", "2025-09-10T00:00:00Z": "0.11.10", "2025-09-24T23:59:59Z": "0.11.10", "2025-09-29T00:00:00Z": "0.12.1"} {
		got := ""
		if v := d.At(ts(at)); v != nil {
			got = v.String()
		}
		if got != want {
			t.Errorf("deployed at %s = %q, want %q", at, got, want)
		}
	}
	tl, _ := ollama.timeline(t)
	if _, ok := tl.DeployedAt(d, ts("2025-09-01T00:00:00Z")); ok {
		t.Error("a deployed state before the first sample: null, never zero")
	}
	if _, err := engine.PinnedDeployed("main"); err == nil || !strings.Contains(err.Error(), `"main"`) {
		t.Errorf("unparsable pinned version: %v", err)
	}
}

// synthetic builds a timeline: upstream releases 1.0.i at the given days and
// one chart shipping each after its delay (none when delay < 0).
func synthetic(t *testing.T, days []float64, delays []float64) *engine.Timeline {
	t.Helper()
	base := ts("2025-01-01T00:00:00Z")
	var ups []sources.Release
	var charts []sources.ChartVersion
	for i, d := range days {
		v := "1.0." + string(rune('0'+i))
		at := base.Add(time.Duration(d * float64(24*time.Hour)))
		ups = append(ups, sources.Release{Tag: v, Time: at})
		if delays[i] >= 0 {
			charts = append(charts, sources.ChartVersion{Version: "0.0." + string(rune('0'+i)), AppVersion: v, Created: at.Add(time.Duration(delays[i] * float64(24*time.Hour)))})
		}
	}
	tl, _, err := engine.Build(engine.Spec{}, ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// The rules' boundaries: exactly T, exactly A, fewer than 3 releases, the
// window's open and closed ends.
func TestVerdictBoundaries(t *testing.T) {
	p := engine.DefaultVerdictParams
	day := 24 * time.Hour
	// Three releases shipped after exactly 7 days: d90 = T, keeps up.
	tl := synthetic(t, []float64{0, 10, 20}, []float64{7, 7, 7})
	if ev := tl.VerdictAt(ts("2025-02-01T00:00:00Z"), p); ev.Verdict != engine.VerdictKeepsUp {
		t.Errorf("d90 = T: %+v", ev)
	}
	// d50 = T exactly and d90 > T: mostly keeps up, not lags.
	tl = synthetic(t, []float64{0, 10, 20}, []float64{1, 7, 9})
	if ev := tl.VerdictAt(ts("2025-02-01T00:00:00Z"), p); ev.Verdict != engine.VerdictMostlyKeep || ev.DelayMedian != 7*day {
		t.Errorf("d50 = T: %+v", ev)
	}
	tl = synthetic(t, []float64{0, 10, 20}, []float64{8, 9, 10})
	if ev := tl.VerdictAt(ts("2025-02-01T00:00:00Z"), p); ev.Verdict != engine.VerdictLags {
		t.Errorf("d50 > T: %+v", ev)
	}
	// Two releases in the window: no data.
	tl = synthetic(t, []float64{0, 10}, []float64{1, 1})
	if ev := tl.VerdictAt(ts("2025-02-01T00:00:00Z"), p); ev.Verdict != engine.VerdictNoData || ev.Releases != 2 {
		t.Errorf("two releases: %+v", ev)
	}
	// chart_age exactly A with a newer release out: not abandoned; one
	// second later it is. The last chart is on day 21 (release 2 shipped
	// after a day); release 3 on day 30 never ships.
	tl = synthetic(t, []float64{0, 10, 20, 30}, []float64{1, 1, 1, -1})
	lastChart := ts("2025-01-22T00:00:00Z")
	if ev := tl.VerdictAt(lastChart.Add(p.Abandonment), p); ev.Verdict == engine.VerdictAbandoned {
		t.Errorf("chart_age = A: %+v", ev)
	}
	if ev := tl.VerdictAt(lastChart.Add(p.Abandonment+time.Second), p); ev.Verdict != engine.VerdictAbandoned {
		t.Errorf("chart_age > A: %+v", ev)
	}
	// The window is (t − W, t]: a release exactly at t − W is out, one at t is in.
	tl = synthetic(t, []float64{0, 100, 200, 365}, []float64{1, 1, 1, 1})
	at := ts("2026-01-01T00:00:00Z") // day 365
	if ev := tl.VerdictAt(at, p); ev.Releases != 3 {
		t.Errorf("window ends: %d releases, want 3 (day 0 = t − W is out, day 365 = t is in)", ev.Releases)
	}
	if engine.VerdictAbandoned.Code() != 4 || engine.VerdictNoData.Code() != 0 || engine.VerdictLags.Code() <= engine.VerdictMostlyKeep.Code() {
		t.Error("verdict codes: higher must be worse")
	}
}

// Forecast boundaries: fewer than 3 shipped releases give a reason; t equal
// to the p90 time is not overdue.
func TestForecastBoundaries(t *testing.T) {
	tl := synthetic(t, []float64{0, 10, 20}, []float64{2, 2, -1})
	if fs, reason := tl.Forecasts(ts("2025-02-01T00:00:00Z"), 10); fs != nil || !strings.Contains(reason, "only 2 shipped releases") {
		t.Errorf("%+v %q", fs, reason)
	}
	tl = synthetic(t, []float64{0, 10, 20, 30}, []float64{2, 4, 6, -1})
	p90 := ts("2025-01-31T00:00:00Z").Add(6 * 24 * time.Hour) // day 30 + 6 days
	if fs, _ := tl.Forecasts(p90, 10); len(fs) != 1 || !fs[0].P90.Equal(p90) || fs[0].Overdue || !fs[0].P50.Equal(p90.Add(-2*24*time.Hour)) {
		t.Errorf("at p90: %+v", fs)
	}
	if fs, _ := tl.Forecasts(p90.Add(time.Nanosecond), 10); len(fs) != 1 || !fs[0].Overdue {
		t.Errorf("after p90: %+v", fs)
	}
}
