package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// nulled names what an unknown state leaves null.
const nulled = "upstream_latest, versions_behind, lag, drift, is_current and the last hop are null, never a reassuring zero"

// Explain says, for a state of this timeline, why values are null and what
// the data shows about the catalog entry (lag-metrics.md, "When the catalog
// and the data disagree"): one notice per cause, with the likely fix where
// the data names one. Nothing is said when the entry and the data agree.
func (tl *Timeline) Explain(st State) []string {
	var out []string
	cov := tl.cachedCoverage()
	switch st.Unknown {
	case UnknownNoUpstream:
		if len(tl.Upstream) == 0 {
			out = append(out, "no upstream version (the notices on the upstream tags say why): "+nulled)
		} else if st.HasChart { // before the first chart every value is null anyway
			first := tl.Upstream[0]
			for _, r := range tl.Upstream {
				if r.Time.Before(first.Time) {
					first = r
				}
			}
			out = append(out, fmt.Sprintf("no upstream release at or before %s (the first, %s, is from %s): %s",
				st.At.UTC().Format(time.RFC3339), quote.Value(first.Tag), first.Time.Format(time.RFC3339), nulled))
		}
	case UnknownPackaged:
		out = append(out, fmt.Sprintf("packaged version %s (chart %s, %s %s) is no upstream version and is above the newest one, %s: %s; %s",
			st.Chart.App, st.Chart.Version, tl.field(), quote.Value(st.Chart.RawApp), st.UpstreamLatest.Version, nulled, tl.likelyFix(st.Chart, cov)))
	}
	if st.Known() && !tl.HasUpstream(st.Chart.App) {
		why := "a pulled release, or a tag the tag pattern leaves out"
		if st.Chart.App.Prerelease() != "" {
			why = "a prerelease, and upstream prereleases are not counted: upstream.prereleases: true counts them"
		}
		out = append(out, fmt.Sprintf("packaged version %s (chart %s) is no upstream version (%s): counted as usual, drift is null",
			st.Chart.App, st.Chart.Version, why))
	}
	if cov.Low() && len(tl.Upstream) > 0 { // with no upstream version, the notices above say it all
		ex := make([]string, 0, sources.MaxExamples)
		for _, m := range cov.Missing[:min(len(cov.Missing), sources.MaxExamples)] {
			ex = append(ex, quote.Value(m))
		}
		out = append(out, fmt.Sprintf("low coverage: %d of the chart's last %d versions ship an upstream version (not upstream: %s): the chart is probably paired with the wrong upstream repository, or the tag or version pattern cuts the wrong part",
			cov.Matched, cov.Of, strings.Join(ex, ", ")))
	}
	return out
}

// field is the chart field the packaged version is read from, in catalog words.
func (tl *Timeline) field() string {
	if tl.FromVersion {
		return "version"
	}
	return "appVersion"
}

// likelyFix is the fix the data points at for a packaged version that is no
// upstream version and above the newest.
func (tl *Timeline) likelyFix(c Chart, cov Coverage) string {
	if other, err := parseVersion(c.Other); err == nil && tl.HasUpstream(other) {
		swap := "appVersion"
		if !tl.FromVersion {
			swap = "version"
		}
		return fmt.Sprintf("did you mean chart.versionFrom: %s? it ships %s, an upstream version", swap, quote.Value(c.Other))
	}
	if c.App.Prerelease() != "" {
		return "the chart ships a prerelease: set upstream.prereleases: true to count upstream's prereleases"
	}
	if cov.Low() && len(tl.Upstream) > 0 { // with no upstream version, the notices above say it all
		return "few of the chart's versions are upstream versions: check upstream.repo (the chart may package another project) and the tag and version patterns"
	}
	return "check upstream.repo, upstream.tagPattern and chart.versionPattern"
}

// cachedCoverage is the coverage Build computed, or computed now for a
// timeline made otherwise.
func (tl *Timeline) cachedCoverage() Coverage {
	if tl.coverage != nil {
		return *tl.coverage
	}
	return tl.Coverage()
}
