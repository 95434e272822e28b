package engine_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// The services of the spec's worked examples, as a catalog would describe them.
var (
	ollama = fixtureService{
		spec:  engine.Spec{TagPattern: `^v(\d+\.\d+\.\d+(?:-.+)?)$`},
		tags:  "ollama__ollama/tags.tsv",
		index: "otwld__ollama-helm/index.yaml", chart: "ollama",
	}
	chromadb = fixtureService{
		spec:  engine.Spec{TagPattern: `^(\d+\.\d+\.\d+)$`},
		tags:  "chroma-core__chroma/tags.tsv",
		index: "amikos-tech__chromadb-chart/index.yaml", chart: "chromadb",
	}
	vllmStack = fixtureService{
		spec:  engine.Spec{TagPattern: `^vllm-stack-(\d+\.\d+\.\d+)$`, FromVersion: true},
		tags:  "vllm-project__production-stack/tags.tsv",
		index: "vllm-project__production-stack/index.yaml", chart: "vllm-stack",
	}
	gpuOperator = fixtureService{
		spec:  engine.Spec{TagPattern: `^(v\d+\.\d+\.\d+(?:-.+)?)$`},
		tags:  "NVIDIA__gpu-operator/tags.tsv",
		index: "NVIDIA__gpu-operator/index.yaml", chart: "gpu-operator",
	}
)

type fixtureService struct {
	spec        engine.Spec
	tags, index string
	chart       string
}

func (f fixtureService) timeline(t *testing.T) (*engine.Timeline, []string) {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	ups, err := fixtures.Releases(filepath.Join(dir, f.tags))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := fixtures.ChartVersions(filepath.Join(dir, f.index), f.chart)
	if err != nil {
		t.Fatal(err)
	}
	tl, notices, err := engine.Build(f.spec, ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	return tl, notices
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestWorkedExamples pins the table of worked examples in lag-metrics.md,
// computed from the real fixtures, plus the two vendor charts.
func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		name           string
		svc            fixtureService
		at             string
		packaged       string
		chart          string
		chartCreated   string
		upstreamLatest string
		versionsBehind int
		lagSince       string // "" when current
		drift          string // upstream_latest's time minus packaged release's time, as "a - b"
		chartAgeDays   float64
	}{
		{
			name: "ollama 2025-09-20", svc: ollama, at: "2025-09-20T00:00:00Z",
			packaged: "0.11.11", chart: "1.29.0", chartCreated: "2025-09-17T13:48:49.896782422Z",
			upstreamLatest: "0.12.0", versionsBehind: 1, lagSince: "2025-09-18T23:11:08Z",
			drift: "2025-09-18T23:11:08Z - 2025-09-12T23:40:14Z", chartAgeDays: 2.4,
		},
		{
			name: "ollama 2025-09-30", svc: ollama, at: "2025-09-30T00:00:00Z",
			packaged: "0.12.2", chart: "1.30.0", chartCreated: "2025-09-25T07:08:01.426546598Z",
			upstreamLatest: "0.12.3", versionsBehind: 1, lagSince: "2025-09-26T01:30:45Z",
			drift: "2025-09-26T01:30:45Z - 2025-09-24T18:21:32Z", chartAgeDays: 4.7,
		},
		{
			name: "chromadb 2025-09-30", svc: chromadb, at: "2025-09-30T00:00:00Z",
			packaged: "1.0.10", chart: "0.1.24", chartCreated: "2025-05-23T11:14:09.742373995Z",
			upstreamLatest: "1.1.0", versionsBehind: 11, lagSince: "2025-05-27T23:26:56Z",
			drift: "2025-09-16T19:07:37Z - 2025-05-20T22:24:48Z", chartAgeDays: 129.5,
		},
		{
			// Vendor chart released with the upstream: current, nothing to drift.
			name: "vllm-stack 2026-03-01", svc: vllmStack, at: "2026-03-01T00:00:00Z",
			packaged: "0.1.10", chart: "0.1.10", chartCreated: "2026-02-27T23:44:42.778319689Z",
			upstreamLatest: "0.1.10", versionsBehind: 0, drift: "0", chartAgeDays: 1.0,
		},
		{
			// Eleven seconds between the tag and the chart: behind for that instant.
			name: "vllm-stack between tag and chart", svc: vllmStack, at: "2026-02-27T23:44:35Z",
			packaged: "0.1.9", chart: "0.1.9", chartCreated: "2026-01-30T00:15:32.682784879Z",
			upstreamLatest: "0.1.10", versionsBehind: 1, lagSince: "2026-02-27T23:44:31Z",
			drift: "2026-02-27T23:44:31Z - 2026-01-30T00:15:20Z", chartAgeDays: 29.0,
		},
		{
			// v25.10.0 was tagged 2025-10-22; its chart came 2025-10-24 (offset -07:00).
			name: "gpu-operator 2025-10-23", svc: gpuOperator, at: "2025-10-23T00:00:00Z",
			packaged: "25.3.4", chart: "25.3.4", chartCreated: "2025-09-18T17:43:57.061706-07:00",
			upstreamLatest: "25.10.0", versionsBehind: 1, lagSince: "2025-10-22T13:52:16Z",
			drift: "2025-10-22T13:52:16Z - 2025-09-17T19:08:37Z", chartAgeDays: 34.0,
		},
		{
			name: "gpu-operator 2025-10-25", svc: gpuOperator, at: "2025-10-25T00:00:00Z",
			packaged: "25.10.0", chart: "25.10.0", chartCreated: "2025-10-24T13:35:13.99201-07:00",
			upstreamLatest: "25.10.0", versionsBehind: 0, drift: "0", chartAgeDays: 0.1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, _ := tt.svc.timeline(t)
			at := ts(tt.at)
			st := tl.At(at)
			if !st.HasChart {
				t.Fatal("no chart at this time")
			}
			if got := st.Chart.App.String(); got != tt.packaged {
				t.Errorf("packaged = %s, want %s", got, tt.packaged)
			}
			if got := st.Chart.Version.String(); got != tt.chart {
				t.Errorf("chart = %s, want %s", got, tt.chart)
			}
			if !st.LastChart.Equal(ts(tt.chartCreated)) {
				t.Errorf("last chart = %s, want %s", st.LastChart, tt.chartCreated)
			}
			if got := st.UpstreamLatest.Version.String(); got != tt.upstreamLatest {
				t.Errorf("upstream_latest = %s, want %s", got, tt.upstreamLatest)
			}
			if st.VersionsBehind != tt.versionsBehind {
				t.Errorf("versions_behind = %d, want %d", st.VersionsBehind, tt.versionsBehind)
			}
			wantCurrent := tt.versionsBehind == 0
			if st.IsCurrent() != wantCurrent {
				t.Errorf("is_current = %v, want %v", st.IsCurrent(), wantCurrent)
			}
			if tt.lagSince == "" {
				if st.LagSince != nil || st.Lag != 0 {
					t.Errorf("lag = %s since %v, want 0", st.Lag, st.LagSince)
				}
			} else {
				since := ts(tt.lagSince)
				if st.LagSince == nil || !st.LagSince.Time.Equal(since) {
					t.Fatalf("lag since = %v, want %s", st.LagSince, tt.lagSince)
				}
				if st.Lag != at.Sub(since) {
					t.Errorf("lag = %s, want %s", st.Lag, at.Sub(since))
				}
			}
			if st.Drift == nil {
				t.Fatal("drift is null")
			}
			wantDrift := time.Duration(0)
			if a, b, ok := strings.Cut(tt.drift, " - "); ok {
				wantDrift = ts(a).Sub(ts(b))
			}
			if *st.Drift != wantDrift {
				t.Errorf("drift = %s, want %s", *st.Drift, wantDrift)
			}
			if want := at.Sub(ts(tt.chartCreated)); st.ChartAge != want {
				t.Errorf("chart_age = %s, want %s", st.ChartAge, want)
			}
			if days := st.ChartAge.Hours() / 24; days < tt.chartAgeDays-0.05 || days > tt.chartAgeDays+0.05 {
				t.Errorf("chart_age = %.2f days, want ≈ %.1f", days, tt.chartAgeDays)
			}
		})
	}
}

func TestChromaStaysOnOldChartUntil2026(t *testing.T) {
	tl, _ := chromadb.timeline(t)
	// Chart 0.1.24 is the last release until 0.2.0 (appVersion 1.5.0) on 2026-02-17.
	before := tl.At(ts("2026-02-16T00:00:00Z"))
	if before.Chart.Version.String() != "0.1.24" {
		t.Fatalf("chart before = %s", before.Chart.Version)
	}
	if days := before.ChartAge.Hours() / 24; days < 268 || days > 270 {
		t.Errorf("chart_age on 2026-02-16 = %.1f days, want ≈ 269", days)
	}
	after := tl.At(ts("2026-02-18T00:00:00Z"))
	if after.Chart.Version.String() != "0.2.0" || after.Chart.App.String() != "1.5.0" {
		t.Errorf("chart after = %s ships %s, want 0.2.0 ships 1.5.0", after.Chart.Version, after.Chart.App)
	}
}

func TestNullBeforeFirstChart(t *testing.T) {
	tl, _ := ollama.timeline(t)
	st := tl.At(ts("2023-11-01T00:00:00Z")) // upstream exists, the chart starts 2023-11-24
	if st.HasChart || st.IsCurrent() || st.Drift != nil {
		t.Errorf("state before first chart = %+v, want no chart, not current, no drift", st)
	}
	if st.UpstreamLatest == nil {
		t.Error("upstream_latest should exist before the first chart")
	}
	if empty := (&engine.Timeline{}).At(ts("2025-01-01T00:00:00Z")); empty.UpstreamLatest != nil || empty.HasChart {
		t.Errorf("empty timeline state = %+v", empty)
	}
}

func TestNormalisation(t *testing.T) {
	_, notices := chromadb.timeline(t)
	// js_release_*, cli-*, latest and friends do not match the pattern: expected, no notice.
	if len(notices) != 0 {
		t.Errorf("chroma notices = %q", notices)
	}
	wrong := chromadb
	wrong.spec.TagPattern = `^v(\d+\.\d+\.\d+)$`
	if tl, notices := wrong.timeline(t); len(tl.Upstream) != 0 || len(notices) != 1 || !strings.Contains(notices[0], "none of the 195 upstream tags match") {
		t.Errorf("pattern matching nothing: %d releases, notices %q", len(tl.Upstream), notices)
	}
	tl, _ := ollama.timeline(t)
	for _, r := range tl.Upstream {
		if r.Version.Prerelease() != "" {
			t.Fatalf("prerelease %s counted without prereleases: true", r.Tag)
		}
	}
	for _, c := range tl.Charts {
		if c.Version.Prerelease() != "" {
			t.Fatalf("prerelease chart %s counted", c.Version)
		}
	}
	if n := len(tl.Upstream); n != 245 {
		t.Errorf("ollama stable releases = %d, want 245 (vX.Y.Z tags)", n)
	}
	if n := len(tl.Charts); n != 163 {
		t.Errorf("ollama stable charts = %d, want 163 (164 less 1.54.1-beta.1)", n)
	}

	withPre := ollama
	withPre.spec.Prereleases = true
	tlPre, _ := withPre.timeline(t)
	if n := len(tlPre.Upstream); n <= 245 {
		t.Errorf("with prereleases = %d releases, want more than 245", n)
	}

	// vLLM's index has no appVersion: reading it is reported per chart, never guessed.
	noApp := vllmStack
	noApp.spec.FromVersion = false
	tlNoApp, notices := noApp.timeline(t)
	if len(tlNoApp.Charts) != 0 || len(notices) == 0 || !strings.Contains(notices[0], "23 chart versions left out (no appVersion)") {
		t.Errorf("vllm without versionFrom=version: %d charts, notices %q", len(tlNoApp.Charts), notices)
	}
}

func TestBuildReportsUnparsableValues(t *testing.T) {
	created := ts("2025-01-01T00:00:00Z")
	tl, notices, err := engine.Build(engine.Spec{},
		[]sources.Release{{Tag: "v1.0.0", Time: created}, {Tag: "nightly", Time: created}, {Tag: "v1.1.0"}},
		[]sources.ChartVersion{
			{Version: "1.0.0", AppVersion: "1.0.0", Created: created},
			{Version: "1.1.0", AppVersion: "latest", Created: created},
			{Version: "not-a-version", AppVersion: "1.0.0", Created: created},
			{Version: "1.2.0", AppVersion: "1.0.0", CreatedRaw: "yesterday"},
			{Version: "1.3.0", AppVersion: "1.0.0", CreatedRaw: "0001-01-01T00:00:00Z"},
			{Version: "1.4.0", AppVersion: strings.Repeat("x", 100_000), Created: created},
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Upstream) != 1 || len(tl.Charts) != 1 {
		t.Errorf("kept %d releases and %d charts, want 1 and 1", len(tl.Upstream), len(tl.Charts))
	}
	for _, want := range []string{`upstream tags left out (not a version): "nightly"`, `"latest"`, `chart versions left out (not semver): "not-a-version"`,
		`chart created times left out (not an RFC 3339 time): "yesterday"`,
		`chart created times left out (before 1970: not a plausible chart date): "0001-01-01T00:00:00Z"`, `upstream tags left out (no date): "v1.1.0"`,
		`2 chart appVersions left out (not semver), e.g. "latest", "xxxx`} {
		found := false
		for _, n := range notices {
			found = found || strings.Contains(n, want)
		}
		if !found {
			t.Errorf("no notice names %s in %q", want, notices)
		}
	}
	for _, n := range notices {
		if len(n) > 300 {
			t.Errorf("a notice of %d bytes: values must be cut short", len(n))
		}
	}
	if _, _, err := engine.Build(engine.Spec{TagPattern: "(a)(b)"}, nil, nil); err == nil {
		t.Error("two capture groups accepted")
	}
}

func TestRepublishedChart(t *testing.T) {
	// Chart 0.1.9 was first published 2026-01-28T23:42Z, pulled, and republished
	// 2026-01-30T00:15Z. Each index tells its own story; the engine follows it.
	before := vllmStack
	before.index = "vllm-project__production-stack/index-2026-01-28.yaml"
	tl, _ := before.timeline(t)
	st := tl.At(ts("2026-01-29T00:00:00Z"))
	if st.Chart.Version.String() != "0.1.9" || !st.IsCurrent() {
		t.Errorf("first build: chart %s current %v, want 0.1.9 current (the tag comes later)", st.Chart.Version, st.IsCurrent())
	}
	after, _ := vllmStack.timeline(t)
	st = after.At(ts("2026-01-29T00:00:00Z"))
	if st.Chart.Version.String() != "0.1.8" {
		t.Errorf("current index at 2026-01-29: chart %s, want 0.1.8 (0.1.9 republished 01-30)", st.Chart.Version)
	}
}

func TestPackagingDelays(t *testing.T) {
	tl, _ := ollama.timeline(t)
	now := ts("2025-09-30T00:00:00Z")
	byTag := map[string]engine.Delay{}
	for _, d := range tl.Delays(now) {
		byTag[d.Release.Tag] = d
	}
	// v0.12.2 (2025-09-24T18:21:32Z) shipped by chart 1.30.0 (2025-09-25T07:08:01.426546598Z).
	d := byTag["v0.12.2"]
	if d.Open || d.ShippedBy.Version.String() != "1.30.0" || d.Delay != ts("2025-09-25T07:08:01.426546598Z").Sub(ts("2025-09-24T18:21:32Z")) {
		t.Errorf("v0.12.2 delay = %+v", d)
	}
	// v0.12.0 and v0.12.1 were never shipped themselves: 1.30.0 (0.12.2) covers them.
	if d := byTag["v0.12.0"]; d.Open || d.ShippedBy.Version.String() != "1.30.0" {
		t.Errorf("v0.12.0 delay = %+v", d)
	}
	// v0.12.3 is open at the end of September: delay so far.
	if d := byTag["v0.12.3"]; !d.Open || d.Delay != now.Sub(ts("2025-09-26T01:30:45Z")) {
		t.Errorf("v0.12.3 delay = %+v", d)
	}
	if _, ok := byTag["v0.12.4"]; ok {
		t.Error("a release after now has a delay")
	}

	// A patch of an old line published after a newer minor was packaged: covered, delay 0.
	gpu, _ := gpuOperator.timeline(t)
	for _, d := range gpu.Delays(ts("2026-01-01T00:00:00Z")) {
		if d.Delay < 0 {
			t.Errorf("%s: negative delay %s", d.Release.Tag, d.Delay)
		}
		if d.Release.Tag == "v23.6.2" && (d.Open || d.Delay != 0) {
			t.Errorf("v23.6.2 (after v23.9.1's chart) delay = %s open %v, want 0", d.Delay, d.Open)
		}
	}
}

func TestSummarize(t *testing.T) {
	day := 24 * time.Hour
	base := ts("2025-01-01T00:00:00Z")
	var ds []engine.Delay
	for i := 1; i <= 10; i++ {
		ds = append(ds, engine.Delay{Release: engine.Release{Time: base.Add(time.Duration(i) * day)}, Delay: time.Duration(i) * day, Open: i == 10})
	}
	s := engine.Summarize(ds, base, base.Add(30*day))
	if s.Count != 10 || s.Open != 1 || s.Median != 5*day || s.P90 != 9*day || s.Max != 10*day {
		t.Errorf("summary = %+v", s)
	}
	s = engine.Summarize(ds, base.Add(9*day), base.Add(30*day))
	if s.Count != 2 || s.Median != 9*day || s.P90 != 10*day {
		t.Errorf("window summary = %+v", s)
	}
	if s := engine.Summarize(nil, base, base); s != (engine.Summary{}) {
		t.Errorf("empty summary = %+v", s)
	}
}

func TestEventTimes(t *testing.T) {
	tl, _ := ollama.timeline(t)
	got := tl.EventTimes(ts("2025-09-20T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
	// v0.12.1, v0.12.2, v0.12.3 and chart 1.30.0.
	if len(got) != 4 {
		t.Errorf("events = %v, want 4", got)
	}
}
