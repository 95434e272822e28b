package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// The catalog mistakes of lag-metrics.md, "When the catalog and the data
// disagree", on the real fixtures at the worked examples' times.
var (
	// otwld's Ollama chart read with versionFrom: version (chart 1.30.0
	// ships app 0.12.2).
	ollamaFromVersion = func() fixtureService { s := ollama; s.spec.FromVersion = true; return s }()
	// A tagPattern that matches none of Ollama's tags.
	ollamaNoMatch = func() fixtureService { s := ollama; s.spec.TagPattern = `^release-(\d+\.\d+\.\d+)$`; return s }()
	// chroma-core/chroma without tagPattern: several tag streams.
	chromaNoPattern = func() fixtureService { s := chromadb; s.spec.TagPattern = ""; return s }()
	// otwld's Ollama chart paired with ChromaDB's releases.
	ollamaWrongUpstream = func() fixtureService {
		s := ollama
		s.tags = chromadb.tags
		s.spec.TagPattern = chromadb.spec.TagPattern
		return s
	}()
)

func contains(ns []string, want string) bool {
	for _, n := range ns {
		if strings.Contains(n, want) {
			return true
		}
	}
	return false
}

func TestCatalogMistakesGiveNulls(t *testing.T) {
	for _, at := range []string{"2025-09-20T00:00:00Z", "2025-09-30T00:00:00Z"} {
		for _, tc := range []struct {
			name    string
			svc     fixtureService
			unknown engine.Unknown
			explain []string // each in one notice of Explain
		}{
			{"versionFrom: version", ollamaFromVersion, engine.UnknownPackaged, []string{"is no upstream version and is above the newest one", "did you mean chart.versionFrom: appVersion? it ships"}},
			{"tagPattern matching nothing", ollamaNoMatch, engine.UnknownNoUpstream, []string{"no upstream version"}},
		} {
			tl, _ := tc.svc.timeline(t)
			st := tl.At(ts(at))
			if st.Unknown != tc.unknown || st.Known() || st.IsCurrent() || st.LastHopKnown() {
				t.Errorf("%s at %s: unknown=%d known=%v current=%v last hop known=%v, want unknown=%d and no values", tc.name, at, st.Unknown, st.Known(), st.IsCurrent(), st.LastHopKnown(), tc.unknown)
			}
			if !st.HasChart {
				t.Errorf("%s at %s: no chart; the chart is there, only the comparison fails", tc.name, at)
			}
			ex := tl.Explain(st)
			for _, want := range tc.explain {
				if !contains(ex, want) {
					t.Errorf("%s at %s: no notice says %q: %q", tc.name, at, want, ex)
				}
			}
			if ev := tl.VerdictAt(ts(at), engine.VerdictParams{}.OrDefaults()); ev.Verdict != engine.VerdictNoData {
				t.Errorf("%s at %s: verdict %q, want %q", tc.name, at, ev.Verdict, engine.VerdictNoData)
			}
			swept := tl.Sweep([]time.Time{ts(at)})[0]
			if swept.Unknown != st.Unknown {
				t.Errorf("%s at %s: Sweep says unknown=%d, At %d", tc.name, at, swept.Unknown, st.Unknown)
			}
		}
	}
	// The fix names the chart's appVersion at that time.
	tl, _ := ollamaFromVersion.timeline(t)
	ex := tl.Explain(tl.At(ts("2025-09-30T00:00:00Z")))
	if want := `packaged version 1.30.0 (chart 1.30.0, version "1.30.0") is no upstream version and is above the newest one, 0.12.3`; !contains(ex, want) || !contains(ex, `it ships "0.12.2"`) {
		t.Errorf("versionFrom: version at 2025-09-30: %q, want %q and the fix naming 0.12.2", ex, want)
	}
	_, notices := ollamaNoMatch.timeline(t)
	if len(notices) != 1 || !strings.Contains(notices[0], `none of the 635 upstream tags match tagPattern '^release-(\d+\.\d+\.\d+)$'`) ||
		!strings.Contains(notices[0], `tagPattern '^v(\d+\.\d+\.\d+)$' keeps 245 of them`) {
		t.Errorf("pattern matching nothing: notices %q, want one naming the pattern and one that keeps 245", notices)
	}
}

func TestChromaWithoutPatternOneNotice(t *testing.T) {
	tl, notices := chromaNoPattern.timeline(t)
	want := `66 upstream tags left out (not a version), e.g. "js_release_1.5.7", "js_release_alpha_1.5.7", "js_release_1.5.8"; set upstream.tagPattern: '^(\d+\.\d+\.\d+)$' keeps 129 of the 195 tags`
	if len(notices) != 1 || notices[0] != want {
		t.Errorf("notices = %q\nwant one: %q", notices, want)
	}
	// The numbers are the worked example's: the tags left out are other streams.
	st := tl.At(ts("2025-09-30T00:00:00Z"))
	if !st.Known() || st.VersionsBehind != 11 || st.UpstreamLatest.Version.String() != "1.1.0" {
		t.Errorf("chromadb without pattern at 2025-09-30: %s", describe(st))
	}
}

func TestWrongUpstreamLowCoverage(t *testing.T) {
	tl, _ := ollamaWrongUpstream.timeline(t)
	st := tl.At(ts("2025-09-30T00:00:00Z"))
	// 0.12.2 is below ChromaDB's 1.1.0: numbers are given, with warnings.
	if !st.Known() || st.VersionsBehind == 0 {
		t.Fatalf("wrong upstream: %s, want numbers", describe(st))
	}
	cov := tl.Coverage()
	if !cov.Low() || cov.Matched != 0 || cov.Of != 20 {
		t.Errorf("coverage %+v, want 0 of 20, low", cov)
	}
	ex := tl.Explain(st)
	if !contains(ex, `low coverage: 0 of the chart's last 20 versions ship an upstream version (not upstream: "0.32.15", "0.32.14", "0.32.13")`) {
		t.Errorf("no low-coverage warning: %q", ex)
	}
	if !contains(ex, "packaged version 0.12.2 (chart 1.30.0) is no upstream version (a pulled release") {
		t.Errorf("the packaged version missing upstream is not named: %q", ex)
	}
}

// Correct catalogs: no null, no notice, at the worked examples' times.
func TestCorrectCatalogsAreTrusted(t *testing.T) {
	for name, svc := range map[string]fixtureService{"ollama": ollama, "chromadb": chromadb, "vllm-stack": vllmStack, "gpu-operator": gpuOperator} {
		tl, _ := svc.timeline(t)
		for _, at := range []string{"2025-09-20T00:00:00Z", "2025-09-30T00:00:00Z"} {
			st := tl.At(ts(at))
			if !st.Known() {
				t.Errorf("%s at %s: unknown=%d", name, at, st.Unknown)
			}
			if ex := tl.Explain(st); len(ex) != 0 {
				t.Errorf("%s at %s: %q", name, at, ex)
			}
		}
	}
}

// A vendor that publishes the chart minutes before its GitHub release stays
// current; a packaged version below the newest but missing upstream (a
// pulled release) is counted, named in one notice.
func TestChartBeforeReleaseAndPulledRelease(t *testing.T) {
	t0 := ts("2025-06-01T12:00:00Z")
	ups := []sources.Release{{Tag: "v1.0.0", Time: t0}, {Tag: "v1.1.0", Time: t0.Add(24 * time.Hour)}, {Tag: "v1.3.0", Time: t0.Add(72 * time.Hour)}}
	charts := []sources.ChartVersion{
		{Version: "1.0.0", AppVersion: "1.0.0", Created: t0.Add(time.Hour)},
		{Version: "1.1.0", AppVersion: "1.1.0", Created: t0.Add(24*time.Hour - 5*time.Minute)}, // before the release
		{Version: "1.2.0", AppVersion: "1.2.0", Created: t0.Add(48 * time.Hour)},               // 1.2.0 was pulled upstream
	}
	tl, _, err := engine.Build(engine.Spec{}, ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	early := tl.At(t0.Add(24*time.Hour - time.Minute))
	if !early.Known() || !early.IsCurrent() || early.UpstreamLatest.Version.String() != "1.0.0" {
		t.Errorf("chart ahead of its release: %s unknown=%d, want current", describe(early), early.Unknown)
	}
	if ex := tl.Explain(early); len(ex) != 0 {
		t.Errorf("chart ahead of its release: notices %q", ex)
	}
	pulled := tl.At(t0.Add(96 * time.Hour))
	if !pulled.Known() || pulled.VersionsBehind != 1 || pulled.Drift != nil {
		t.Errorf("pulled release: %s, want 1 behind, counted, drift null", describe(pulled))
	}
	if ex := tl.Explain(pulled); len(ex) != 1 || !strings.Contains(ex[0], "packaged version 1.2.0 (chart 1.2.0) is no upstream version") {
		t.Errorf("pulled release: notices %q, want one naming 1.2.0", ex)
	}
	// A chart shipping an upstream prerelease that is not counted.
	rc := append(charts, sources.ChartVersion{Version: "1.3.0", AppVersion: "1.3.0-rc.1", Created: t0.Add(60 * time.Hour)})
	tlRC, _, err := engine.Build(engine.Spec{}, append(ups, sources.Release{Tag: "v1.3.0-rc.1", Time: t0.Add(50 * time.Hour), Prerelease: true}), rc)
	if err != nil {
		t.Fatal(err)
	}
	if ex := tlRC.Explain(tlRC.At(t0.Add(96 * time.Hour))); len(ex) != 1 || !strings.Contains(ex[0], "1.3.0-rc.1 (chart 1.3.0) is no upstream version (a prerelease, and upstream prereleases are not counted") {
		t.Errorf("prerelease shipped: notices %q", ex)
	}
	before := tl.At(t0.Add(-time.Hour)) // no chart, no upstream yet
	if before.Unknown != engine.UnknownNoUpstream || before.LastHopKnown() {
		t.Errorf("before any release: unknown=%d", before.Unknown)
	}
}

// No upstream version, by cause: each says why, and the state is unknown.
func TestNoUpstreamCauses(t *testing.T) {
	at := ts("2025-06-01T00:00:00Z")
	charts := []sources.ChartVersion{{Version: "1.0.0", AppVersion: "1.0.0", Created: at.Add(-time.Hour)}}
	for name, tc := range map[string]struct {
		ups  []sources.Release
		want string
	}{
		"none fetched":   {nil, "the upstream source returned no releases or tags"},
		"all prerelease": {[]sources.Release{{Tag: "v1.0.0-rc.1", Time: at.Add(-2 * time.Hour)}, {Tag: "v1.0.0-rc.2", Time: at.Add(-2 * time.Hour), Prerelease: true}}, "2 upstream versions left out (all are prereleases, and prereleases are not counted), e.g. \"v1.0.0-rc.1\", \"v1.0.0-rc.2\"; set upstream.prereleases: true"},
		"none a version": {[]sources.Release{{Tag: "latest", Time: at.Add(-2 * time.Hour)}}, `upstream tags left out (not a version): "latest"; set upstream.tagPattern`},
	} {
		tl, notices, err := engine.Build(engine.Spec{}, tc.ups, charts)
		if err != nil {
			t.Fatal(err)
		}
		st := tl.At(at)
		if st.Unknown != engine.UnknownNoUpstream || len(notices) != 1 || !strings.Contains(notices[0], tc.want) {
			t.Errorf("%s: unknown=%d notices %q, want %q", name, st.Unknown, notices, tc.want)
		}
		if ex := tl.Explain(st); len(ex) != 1 || !strings.HasPrefix(ex[0], "no upstream version") {
			t.Errorf("%s: explain %q", name, ex)
		}
	}
}
