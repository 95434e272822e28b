package engine_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
)

// ollamaAdvisories reads the advisories fixture (golang/vulndb's Ollama
// reports with GitHub's own ratings, dates and ranges) with the GitHub
// source's decoder.
func ollamaAdvisories(t *testing.T) []engine.Advisory {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "golang__vulndb/advisories.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, notes, err := github.DecodeAdvisoriesPage(f)
	if err != nil || len(notes) > 0 {
		t.Fatal(err, notes)
	}
	raw := make([]sources.Advisory, len(page))
	for i, a := range page {
		raw[i] = a.Advisory
	}
	advs, notices := engine.BuildAdvisories(raw)
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	return advs
}

func cycles(t *testing.T, product string) *engine.Cycles {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "endoflife-date__endoflife.date/products", product+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, notes, err := eol.DecodeProduct(body)
	if err != nil || len(notes) > 0 {
		t.Fatal(err, notes)
	}
	c, notices := engine.BuildCycles(product, raw)
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	return c
}

func ids(st engine.SecurityState) string {
	var out []string
	for _, c := range st.Counting {
		out = append(out, c.Advisory.ID)
	}
	return strings.Join(out, " ")
}

// Fix times: the tag dates of ollama__ollama/tags.tsv.
var (
	fix0134 = ts("2024-05-07T17:48:32Z") // v0.1.34: Probllama (GHSA-8hqg-whrw-pv92), GHSA-93jv-pvg8-hf3v
	fix0146 = ts("2024-06-25T04:47:52Z") // v0.1.46: GHSA-95j2-w8x7-hm88
	fix0147 = ts("2024-06-27T04:38:21Z") // v0.1.47: GHSA-846m-99qv-67mg
	fix0400 = ts("2024-11-05T23:07:25Z") // v0.4.0: the first stable release ≥ 0.4.0-ci1
	fix0171 = ts("2026-02-25T23:29:55Z") // v0.17.1 (GHSA-x8qc-fggm-mpqg)
)

// TestSecurityOnFixtures pins lag-metrics.md "Security fixes and end of
// life" on the otwld Ollama chart and pinned deployed versions, with the
// Ollama advisories as GitHub publishes them (severity, published_at and
// ranges from github/advisory-database; SOURCE.md), at several times of
// 2024–2026. The expected values were worked out from the spec's table
// apart from the engine (the advisories, the tag dates, the chart index).
func TestSecurityOnFixtures(t *testing.T) {
	tl, _ := ollama.timeline(t)
	sec := engine.NewSecurity(tl, ollamaAdvisories(t))
	const (
		probllama = "GHSA-8hqg-whrw-pv92" // medium (GitHub: MODERATE), < 0.1.34, published 2024-05-31T06:30:27Z
		zip       = "GHSA-846m-99qv-67mg" // high, < 0.1.47, 2024-08-29T03:30:49Z
		oob       = "GHSA-95j2-w8x7-hm88" // high, < 0.1.46, 2024-10-31T21:31:45Z
		late      = "GHSA-93jv-pvg8-hf3v" // medium, < 0.1.34, 2025-08-07T17:34:41Z: 15 months after its fix
		gguf      = "GHSA-x8qc-fggm-mpqg" // high, < 0.17.1 (vulndb's range), 2026-05-04T15:31:14Z
	)
	for _, tc := range []struct {
		name     string
		deployed string // "" for the chart: x = packaged(t)
		at       string
		ids      string
		lagFrom  time.Time // zero: lag 0
		severity engine.Severity
		unfixed  int
	}{
		// One second before GitHub published Probllama its fix had been out
		// for 23 days, but nothing counts: no hindsight.
		{"before any advisory", "0.1.32", "2024-05-31T06:30:26Z", "", time.Time{}, 0, 0},
		{"Probllama published", "0.1.32", "2024-05-31T06:30:27Z", probllama, fix0134, engine.SeverityMedium, 0},
		// The case: late June 2024, 0.1.32 runs, a fix has been out
		// since 2024-05-07: ~7.3 weeks. GitHub rates it moderate (2).
		{"Probllama public", "0.1.32", "2024-06-28T00:00:00Z", probllama, fix0134, engine.SeverityMedium, 0},
		// The chart then ships 0.1.46 (chart 0.38.0): not affected.
		{"chart June 2024", "", "2024-06-28T00:00:00Z", "", time.Time{}, 0, 0},
		// Two high ones join the moderate one: the highest is 3.
		{"three advisories", "0.1.32", "2024-11-04T12:00:00Z", strings.Join([]string{probllama, zip, oob}, " "), fix0134, engine.SeverityHigh, 0},
		// GitHub's five of 2025-03-20 without a fix: `<= 0.3.14` holds 0.3.14
		// (last_affected is inclusive), `<= 0.3.3` does not.
		{"0.3.14 before GitHub's March advisories", "0.3.14", "2025-03-20T12:32:41Z", "", time.Time{}, 0, 0},
		{"0.3.14 in April 2025", "0.3.14", "2025-04-01T00:00:00Z", "", time.Time{}, 0, 5},
		{"0.3.15 in April 2025", "0.3.15", "2025-04-01T00:00:00Z", "", time.Time{}, 0, 0},
		{"0.1.32 in April 2025", "0.1.32", "2025-04-01T00:00:00Z", strings.Join([]string{probllama, zip, oob}, " "), fix0134, engine.SeverityHigh, 6},
		// The chart ships 0.6.3 (chart 1.12.0): above every range then published.
		{"chart April 2025", "", "2025-04-01T00:00:00Z", "", time.Time{}, 0, 0},
		// GHSA-93jv-pvg8-hf3v was published 2025-08-07T17:34:41Z, 15 months
		// after its fix: it counts from then, and its lag runs from the fix.
		// Moderate, it leaves the highest at 3.
		{"before the late advisory", "0.1.32", "2025-08-07T17:34:40Z", strings.Join([]string{probllama, zip, oob}, " "), fix0134, engine.SeverityHigh, 8},
		{"after the late advisory", "0.1.32", "2025-08-07T17:34:41Z", strings.Join([]string{probllama, zip, oob, late}, " "), fix0134, engine.SeverityHigh, 8},
		{"0.1.34 runs", "0.1.34", "2025-09-01T00:00:00Z", strings.Join([]string{zip, oob}, " "), fix0146, engine.SeverityHigh, 8},
		{"0.17.0 before its advisory", "0.17.0", "2026-05-04T15:31:13Z", "", time.Time{}, 0, 1},
		{"0.17.0 at its advisory", "0.17.0", "2026-05-04T15:31:14Z", gguf, fix0171, engine.SeverityHigh, 1},
		{"0.17.0 after its advisory", "0.17.0", "2026-08-01T00:00:00Z", gguf, fix0171, engine.SeverityHigh, 1},
		// GHSA-x99g-8v8j-25j2 (low, `<= 0.20.2`, no fix) holds 0.20.2, not 0.20.3.
		{"0.20.2 in August 2026", "0.20.2", "2026-08-01T00:00:00Z", "", time.Time{}, 0, 1},
		{"0.20.3 in August 2026", "0.20.3", "2026-08-01T00:00:00Z", "", time.Time{}, 0, 0},
		{"0.1.32 in August 2026", "0.1.32", "2026-08-01T00:00:00Z", strings.Join([]string{probllama, zip, oob, late, gguf}, " "), fix0134, engine.SeverityHigh, 10},
		// The chart ships 0.32.4 (chart 1.70.0).
		{"chart August 2026", "", "2026-08-01T00:00:00Z", "", time.Time{}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := ts(tc.at)
			var st engine.SecurityState
			var ok bool
			if tc.deployed == "" {
				st, ok = sec.PackagedAt(at)
			} else {
				d, err := engine.PinnedDeployed(tc.deployed)
				if err != nil {
					t.Fatal(err)
				}
				st, ok = sec.DeployedAt(d, at)
			}
			if !ok {
				t.Fatal("no version at", at)
			}
			wantLag := time.Duration(0)
			if !tc.lagFrom.IsZero() {
				wantLag = at.Sub(tc.lagFrom)
			}
			if got := ids(st); got != tc.ids || st.FixesBehind != len(st.Counting) || st.Lag != wantLag || st.Severity != tc.severity || st.Unfixed != tc.unfixed {
				t.Errorf("%s at %s: counting %q (want %q), lag %s (want %s), severity %d (want %d), unfixed %d (want %d)",
					st.Version, tc.at, got, tc.ids, st.Lag, wantLag, st.Severity, tc.severity, st.Unfixed, tc.unfixed)
			}
		})
	}
	// The alert counts high and critical advisories only (a
	// query's minSeverity "high"): for a deployed 0.1.32 nothing counts
	// while Probllama (moderate) is the only one; from GHSA-846m's
	// publication its fix (0.1.47) has been out for 62.95 days; the
	// moderate one published in 2025 changes nothing.
	high := sec.AtLeast(engine.SeverityHigh)
	d132, _ := engine.PinnedDeployed("0.1.32")
	for _, tc := range []struct {
		at      string
		ids     string
		lagFrom time.Time
		unfixed int
	}{
		{"2024-06-28T00:00:00Z", "", time.Time{}, 0},
		{"2024-08-29T03:30:48Z", "", time.Time{}, 0},
		{"2024-08-29T03:30:49Z", zip, fix0147, 0},
		{"2024-11-04T12:00:00Z", zip + " " + oob, fix0146, 0},
		// Of the eight advisories without a fix holding 0.1.32 then, seven
		// are high; GHSA-x9hg-5q6g-q3jr is moderate.
		{"2025-08-07T17:34:41Z", zip + " " + oob, fix0146, 7},
	} {
		at := ts(tc.at)
		st, _ := high.DeployedAt(d132, at)
		wantLag, wantSev := time.Duration(0), engine.SeverityNone
		if !tc.lagFrom.IsZero() {
			wantLag, wantSev = at.Sub(tc.lagFrom), engine.SeverityHigh
		}
		if got := ids(st); got != tc.ids || st.Lag != wantLag || st.Severity != wantSev || st.Unfixed != tc.unfixed {
			t.Errorf("high or critical, 0.1.32 at %s: counting %q (want %q), lag %s (want %s), severity %d (want %d), unfixed %d (want %d)",
				tc.at, ids(st), tc.ids, st.Lag, wantLag, st.Severity, wantSev, st.Unfixed, tc.unfixed)
		}
	}
	if sec.AtLeast(engine.SeverityNone) != sec {
		t.Error("AtLeast(none) is not the same security")
	}

	// The figure: "missing a released fix for about seven weeks".
	d, _ := engine.PinnedDeployed("0.1.32")
	st, _ := sec.DeployedAt(d, ts("2024-06-28T00:00:00Z"))
	if weeks := st.Lag.Hours() / 24 / 7; weeks < 7 || weeks > 7.5 {
		t.Errorf("Probllama lag for 0.1.32 in late June 2024: %.1f weeks, want about seven", weeks)
	}
	// Before the first chart: null, not zero.
	if _, ok := sec.PackagedAt(ts("2023-01-01T00:00:00Z")); ok {
		t.Error("security metrics of the chart before its first release: want null")
	}
	if _, ok := sec.DeployedAt(engine.Deployed{}, ts("2025-01-01T00:00:00Z")); ok {
		t.Error("security metrics with no deployed version: want null")
	}
}

func TestEOLOnFixtures(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		product, version, at string
		cycle                string // "" for no cycle (null)
		eol                  bool
		left                 *time.Duration
	}{
		{"redis", "7.2.5", "2026-01-01T00:00:00Z", "7.2", false, ptr(ts("2029-12-01T00:00:00Z").Sub(ts("2026-01-01T00:00:00Z")))},
		// The end is e_c ≤ t: from midnight UTC of the eolFrom day.
		{"redis", "7.0.15", "2024-07-28T00:00:00Z", "7.0", false, ptr(day)},
		{"redis", "7.0.15", "2024-07-29T00:00:00Z", "7.0", true, ptr(time.Duration(0))},
		{"redis", "6.0.20", "2025-01-01T00:00:00Z", "6.0", true, ptr(ts("2022-05-31T00:00:00Z").Sub(ts("2025-01-01T00:00:00Z")))},
		{"redis", "9.0.0", "2026-01-01T00:00:00Z", "", false, nil},
		// Cycles that are majors: jaeger "1" for 1.60.0.
		{"jaeger", "1.60.0", "2026-01-01T00:00:00Z", "1", true, ptr(ts("2025-12-31T00:00:00Z").Sub(ts("2026-01-01T00:00:00Z")))},
		{"jaeger", "2.5.0", "2026-01-01T00:00:00Z", "2", false, nil},
		// 8.1 is not 8.10 (components compare as numbers).
		{"apache-kafka", "3.9.1", "2026-01-01T00:00:00Z", "3.9", false, nil},
		{"grafana", "12.3.1", "2026-08-20T00:00:00Z", "12.3", true, ptr(-day)},
		{"prometheus", "3.13.2", "2026-08-01T00:00:00Z", "3.13", false, ptr(ts("2027-07-31T00:00:00Z").Sub(ts("2026-08-01T00:00:00Z")))},
	} {
		c := cycles(t, tc.product)
		v := semver.MustParse(tc.version)
		st, ok, reason := c.At(v, ts(tc.at))
		if tc.cycle == "" {
			if ok || reason == "" {
				t.Errorf("%s %s: want null with a reason, got %+v", tc.product, tc.version, st)
			}
			continue
		}
		if !ok || st.Cycle.Name != tc.cycle || st.EOL != tc.eol || (st.SupportLeft == nil) != (tc.left == nil) || (tc.left != nil && *st.SupportLeft != *tc.left) {
			t.Errorf("%s %s at %s: %+v (ok %v, %s), want cycle %s eol %v left %v", tc.product, tc.version, tc.at, st, ok, reason, tc.cycle, tc.eol, tc.left)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCycleMatching(t *testing.T) {
	c, notices := engine.BuildCycles("p", []sources.EOLCycle{{Name: "3"}, {Name: "3.1"}, {Name: "8.1"}, {Name: "jammy"}, {Name: "2024.04"}})
	if len(notices) != 1 || !strings.Contains(notices[0], `"jammy"`) {
		t.Errorf("notices %q", notices)
	}
	for v, want := range map[string]string{"3.1.0": "3.1", "3.2.0": "3", "8.10.0": "", "8.1.9": "8.1", "2024.4.1": "2024.04", "4.0.0": ""} {
		got := ""
		if cy := c.Of(semver.MustParse(v)); cy != nil {
			got = cy.Name
		}
		if got != want {
			t.Errorf("cycle of %s: %q, want %q", v, got, want)
		}
	}
	// An ended cycle without a date: null, with the reason.
	c, _ = engine.BuildCycles("p", []sources.EOLCycle{{Name: "1", IsEOL: true}})
	if _, ok, reason := c.At(semver.MustParse("1.2.3"), time.Now()); ok || !strings.Contains(reason, "does not give") {
		t.Errorf("ended cycle without a date: ok %v, %q", ok, reason)
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		rng, v string
		in     bool
	}{
		{"< 0.1.34", "0.1.33", true}, {"< 0.1.34", "0.1.34", false}, {"< 0.1.34", "0.1.34-rc1", true},
		{">= 0.3.0, < 0.3.12", "0.3.11", true}, {">= 0.3.0, < 0.3.12", "0.2.9", false}, {">= 0.3.0, < 0.3.12", "0.3.12", false},
		{"= 1.2.3", "1.2.3", true}, {"= 1.2.3", "1.2.4", false}, {"<= 1.2.3", "1.2.3", true}, {"> 1.2.3", "1.2.3", false},
		{">= 0", "0.0.1", true}, {">= 0", "0.0.0-rc1", true}, {"< 0.4.0-ci1", "0.3.14", true}, {"< 0.4.0-ci1", "0.4.0", false},
		{"<v1.0.0", "0.9.0", true},
	} {
		r, err := engine.ParseRange(tc.rng)
		if err != nil {
			t.Errorf("%q: %v", tc.rng, err)
			continue
		}
		if got := r.Contains(semver.MustParse(tc.v)); got != tc.in {
			t.Errorf("%s in %q: %v, want %v", tc.v, tc.rng, got, tc.in)
		}
	}
	for rng, want := range map[string]string{
		"":                `empty`,
		"0.1.34":          `"0.1.34" does not start with <`,
		"< banana":        `"banana" is not a version`,
		">= 0.3.0,, < 1":  `"" does not start with <`,
		"~> 1.2":          `"~> 1.2" does not start with <`,
		"< 1.2.3.4.5.6.7": `"1.2.3.4.5.6.7" is not a version`,
	} {
		if _, err := engine.ParseRange(rng); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("range %q: error %v, want %q", rng, err, want)
		}
	}
	// The advisory is named in the notice.
	_, notices := engine.BuildAdvisories([]sources.Advisory{{ID: "GHSA-xxxx-yyyy-zzzz", Severity: "severe", Vulnerabilities: []sources.AdvisoryVulnerability{
		{Package: "p", Range: "< nope", Patched: "1.0.0"}, {Package: "p", Range: "< 1.0.0", Patched: "one"}}}})
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "3 advisory values do not read: ") || !strings.Contains(notices[0], `GHSA-xxxx-yyyy-zzzz: severity "severe"`) ||
		!strings.Contains(notices[0], `GHSA-xxxx-yyyy-zzzz (p): vulnerable range "< nope"`) || !strings.Contains(notices[0], `first patched version "one"`) {
		t.Errorf("notices: %q", notices)
	}
}

// GitHub's "unknown" (no rating) is read as 0: an unrated advisory that
// counts is in security_fixes_behind and the lag, but never raises the
// severity (0 when it is the only one; a low one beside it gives 1), and a
// notice names it. Ranges and dates are those of Probllama on the fixtures.
func TestSecurityUnknownSeverity(t *testing.T) {
	tl, _ := ollama.timeline(t)
	adv := func(id, sev, published, rng, patched string) sources.Advisory {
		return sources.Advisory{ID: id, Severity: sev, Published: ts(published), Vulnerabilities: []sources.AdvisoryVulnerability{
			{Package: "github.com/ollama/ollama", Range: rng, Patched: patched}}}
	}
	unrated := adv("GHSA-unkn-0000-0000", "unknown", "2024-05-31T06:30:27Z", "< 0.1.34", "0.1.34")
	low := adv("GHSA-loww-0000-0000", "low", "2024-06-01T00:00:00Z", "< 0.1.34", "0.1.34")
	blank := adv("GHSA-blnk-0000-0000", "", "2024-06-01T00:00:00Z", ">= 0", "")
	advs, notices := engine.BuildAdvisories([]sources.Advisory{unrated, low, blank})
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "2 advisories have no severity rating on GitHub") ||
		!strings.Contains(notices[0], "GHSA-unkn-0000-0000, GHSA-blnk-0000-0000") || !strings.Contains(notices[0], "do not raise security_severity") {
		t.Errorf("notices: %q", notices)
	}
	sec := engine.NewSecurity(tl, advs)
	x := semver.MustParse("0.1.32")
	at := ts("2024-05-31T12:00:00Z") // only the unrated one is published
	if st := sec.At(x, at); st.FixesBehind != 1 || st.Severity != engine.SeverityNone || st.Lag != at.Sub(fix0134) {
		t.Errorf("unrated alone: %+v, want 1 behind, severity 0, lag from 0.1.34", st)
	}
	at = ts("2024-06-28T00:00:00Z")
	if st := sec.At(x, at); st.FixesBehind != 2 || st.Severity != engine.SeverityLow || st.Unfixed != 1 {
		t.Errorf("unrated and low: %+v, want 2 behind, severity 1, 1 unfixed", st)
	}
	// A query's minimum severity counts rated advisories only: the unrated
	// one is left out, even at "low", and the notice says so.
	if !strings.Contains(notices[0], "minSeverity leaves them out") {
		t.Errorf("notice %q does not say a minSeverity leaves them out", notices[0])
	}
	if st := sec.AtLeast(engine.SeverityLow).At(x, at); st.FixesBehind != 1 || st.Severity != engine.SeverityLow || st.Unfixed != 0 {
		t.Errorf("unrated and low, at least low: %+v, want 1 behind (the low one), severity 1, none unfixed", st)
	}
	_, notices = engine.BuildAdvisories([]sources.Advisory{low})
	if len(notices) != 0 {
		t.Errorf("rated advisories: notices %q", notices)
	}
}

// A prerelease patched version is met by the first counted (stable) upstream
// release at or above it. GitHub's advisories of Ollama have none; this is
// vulndb's range for GHSA-v464-r2r9-www7 (GO-2025-3548, `< 0.4.0-ci1`), on
// the real tags: 0.4.0 (2024-11-05T23:07:25Z), not the 0.4.0 release
// candidates before it.
func TestSecurityPrereleasePatch(t *testing.T) {
	tl, _ := ollama.timeline(t)
	advs, notices := engine.BuildAdvisories([]sources.Advisory{{ID: "GO-2025-3548", Severity: "medium", Published: ts("2024-11-01T00:00:00Z"),
		Vulnerabilities: []sources.AdvisoryVulnerability{{Package: "github.com/ollama/ollama", Range: "< 0.4.0-ci1", Patched: "0.4.0-ci1"}}}})
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	sec := engine.NewSecurity(tl, advs)
	x := semver.MustParse("0.3.14")
	if st := sec.At(x, fix0400.Add(-time.Second)); st.FixesBehind != 0 || st.Unfixed != 0 {
		t.Errorf("before 0.4.0: %+v, want nothing counting (its fix is not released) and nothing unfixed", st)
	}
	at := ts("2025-04-01T00:00:00Z")
	if st := sec.At(x, at); st.FixesBehind != 1 || st.Lag != at.Sub(fix0400) || st.Severity != engine.SeverityMedium || st.Counting[0].Patched.String() != "0.4.0-ci1" {
		t.Errorf("after 0.4.0: %+v, want 1 behind since 0.4.0", st)
	}
}

// naiveSecurity is a straightforward reading of the spec's table, written
// apart from the engine: every advisory, every release, every time.
func naiveSecurity(ups []engine.Release, advs []naiveAdvisory, x *semver.Version, t time.Time) (ids []string, lag time.Duration, sev engine.Severity, unfixed int) {
	var oldest *time.Time
	for _, a := range advs {
		if a.published.After(t) {
			continue
		}
		affected, fixed := false, false
		var tf *time.Time
		for _, v := range a.vulns {
			if !v.contains(x) {
				continue
			}
			affected = true
			if v.patched == nil {
				continue
			}
			for _, r := range ups {
				if !r.Time.After(t) && r.Version.Compare(v.patched) >= 0 && (tf == nil || r.Time.Before(*tf)) {
					rt := r.Time
					tf = &rt
				}
			}
			if tf != nil {
				fixed = true
			}
		}
		if !affected {
			continue
		}
		if fixed {
			ids = append(ids, a.id)
			sev = max(sev, a.sev)
			if oldest == nil || tf.Before(*oldest) {
				oldest = tf
			}
			continue
		}
		hasUnpatched := false
		for _, v := range a.vulns {
			if v.contains(x) && v.patched == nil {
				hasUnpatched = true
			}
		}
		if hasUnpatched {
			unfixed++
		}
	}
	if oldest != nil {
		lag = t.Sub(*oldest)
	}
	slices.Sort(ids)
	return ids, lag, sev, unfixed
}

type naiveVuln struct {
	lo, hi  *semver.Version // lo ≤ x < hi; nil: unbounded
	patched *semver.Version
}

func (v naiveVuln) contains(x *semver.Version) bool {
	return (v.lo == nil || !x.LessThan(v.lo)) && (v.hi == nil || x.LessThan(v.hi))
}

type naiveAdvisory struct {
	id        string
	sev       engine.Severity
	published time.Time
	vulns     []naiveVuln
}

// TestSecurityMatchesNaive compares the engine with naiveSecurity on random
// timelines and advisories, ranges written in the advisory syntax.
func TestSecurityMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2024))
	base := ts("2024-01-01T00:00:00Z")
	ver := func() *semver.Version {
		s := fmt.Sprintf("%d.%d.%d", rng.IntN(2), rng.IntN(4), rng.IntN(4))
		if rng.IntN(6) == 0 {
			s += fmt.Sprintf("-rc%d", rng.IntN(3))
		}
		return semver.MustParse(s)
	}
	at := func() time.Time { return base.Add(time.Duration(rng.IntN(400*24)) * time.Hour) }
	sevs := []string{"low", "medium", "moderate", "high", "critical", "unknown"}
	for round := range 300 {
		var ups []sources.Release
		for range rng.IntN(25) {
			v := ver()
			if v.Prerelease() != "" {
				continue
			}
			ups = append(ups, sources.Release{Tag: "v" + v.String(), Time: at()})
		}
		tl, _, err := engine.Build(engine.Spec{}, ups, nil)
		if err != nil {
			t.Fatal(err)
		}
		var raw []sources.Advisory
		var naive []naiveAdvisory
		for i := range rng.IntN(8) {
			s := sevs[rng.IntN(len(sevs))]
			sev, _ := engine.ParseSeverity(s)
			a := sources.Advisory{ID: fmt.Sprintf("GHSA-%d-%d", round, i), Severity: s, Published: at()}
			n := naiveAdvisory{id: a.ID, sev: sev, published: a.Published}
			for range 1 + rng.IntN(2) {
				var nv naiveVuln
				var parts []string
				if rng.IntN(2) == 0 {
					nv.lo = ver()
					parts = append(parts, ">= "+nv.lo.String())
				}
				if rng.IntN(4) > 0 {
					nv.hi = ver()
					parts = append(parts, "< "+nv.hi.String())
				}
				if len(parts) == 0 {
					parts = []string{">= 0"}
				}
				av := sources.AdvisoryVulnerability{Package: "p", Range: strings.Join(parts, ", ")}
				if nv.hi != nil && rng.IntN(5) > 0 {
					nv.patched = nv.hi
					av.Patched = nv.hi.String()
				}
				a.Vulnerabilities = append(a.Vulnerabilities, av)
				n.vulns = append(n.vulns, nv)
			}
			raw = append(raw, a)
			naive = append(naive, n)
		}
		advs, notices := engine.BuildAdvisories(raw)
		for _, n := range notices {
			if !strings.Contains(n, "no severity rating") {
				t.Fatal(notices)
			}
		}
		sec := engine.NewSecurity(tl, advs)
		for range 20 {
			x, tt := ver(), at()
			st := sec.At(x, tt)
			var got []string
			for _, c := range st.Counting {
				got = append(got, c.Advisory.ID)
			}
			slices.Sort(got)
			wantIDs, wantLag, wantSev, wantUnfixed := naiveSecurity(tl.Upstream, naive, x, tt)
			if !slices.Equal(got, wantIDs) || st.FixesBehind != len(wantIDs) || st.Lag != wantLag || st.Severity != wantSev || st.Unfixed != wantUnfixed {
				t.Fatalf("round %d, %s at %s: got %v lag %s sev %d unfixed %d; naive %v lag %s sev %d unfixed %d\nadvisories %+v",
					round, x, tt, got, st.Lag, st.Severity, st.Unfixed, wantIDs, wantLag, wantSev, wantUnfixed, raw)
			}
			// A query's minimum severity: the naive computation over only
			// the advisories rated at least that.
			min := engine.Severity(rng.IntN(5))
			kept := slices.DeleteFunc(slices.Clone(naive), func(a naiveAdvisory) bool { return a.sev < min })
			st = sec.AtLeast(min).At(x, tt)
			got = got[:0]
			for _, c := range st.Counting {
				got = append(got, c.Advisory.ID)
			}
			slices.Sort(got)
			wantIDs, wantLag, wantSev, wantUnfixed = naiveSecurity(tl.Upstream, kept, x, tt)
			if !slices.Equal(got, wantIDs) || st.Lag != wantLag || st.Severity != wantSev || st.Unfixed != wantUnfixed {
				t.Fatalf("round %d, %s at %s, at least %s: got %v lag %s sev %d unfixed %d; naive %v lag %s sev %d unfixed %d",
					round, x, tt, min, got, st.Lag, st.Severity, st.Unfixed, wantIDs, wantLag, wantSev, wantUnfixed)
			}
		}
	}
}

// BenchmarkSecurityAt: the security metrics of one version at one time, on
// the Ollama fixtures (16 advisories, ~250 stable releases): what a lag
// series pays per point. No allocation when nothing counts.
func BenchmarkSecurityAt(b *testing.B) {
	t := &testing.T{}
	tl, _ := ollama.timeline(t)
	sec := engine.NewSecurity(tl, ollamaAdvisories(t))
	x := semver.MustParse("0.1.32")
	at := ts("2026-08-01T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		sec.At(x, at)
	}
}

func TestSecurityAtAllocations(t *testing.T) {
	tl, _ := ollama.timeline(t)
	sec := engine.NewSecurity(tl, ollamaAdvisories(t))
	current := semver.MustParse("0.5.4")
	at := ts("2025-01-01T00:00:00Z") // before the first advisory without a fix
	if st := sec.At(current, at); st.FixesBehind != 0 || st.Unfixed != 0 {
		t.Fatalf("%+v", st)
	}
	if n := testing.AllocsPerRun(100, func() { sec.At(current, at) }); n != 0 {
		t.Errorf("%.0f allocations for a version nothing affects, want 0", n)
	}
}

func TestEOLPackagedAndDeployed(t *testing.T) {
	tl, _ := ollama.timeline(t)
	// Jaeger's cycles are majors; Ollama's 0.x versions have none.
	c := cycles(t, "jaeger")
	if _, ok, reason := c.PackagedAt(tl, ts("2025-09-30T00:00:00Z")); ok || !strings.Contains(reason, "matches version 0.12.2") {
		t.Errorf("packaged: ok %v, %q", ok, reason)
	}
	if _, ok, _ := c.PackagedAt(tl, ts("2023-01-01T00:00:00Z")); ok {
		t.Error("before the first chart: want null")
	}
	d, _ := engine.PinnedDeployed("1.60.0")
	if st, ok, _ := c.DeployedAt(d, ts("2026-01-01T00:00:00Z")); !ok || !st.EOL || st.Cycle.Name != "1" {
		t.Errorf("deployed 1.60.0: %+v", st)
	}
	if _, ok, _ := c.DeployedAt(engine.Deployed{}, ts("2026-01-01T00:00:00Z")); ok {
		t.Error("no deployed version: want null")
	}
}
