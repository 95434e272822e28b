package engine

import (
	"sort"

	"github.com/Masterminds/semver/v3"
)

// CoverageWindow is how many of the chart's newest versions (by chart
// version) coverage looks at.
const CoverageWindow = 20

// CoverageLow is the share below which a pairing or pattern is probably
// wrong (lag-metrics.md, "When the catalog and the data disagree").
const CoverageLow = 0.5

// Coverage is the share of the chart's last CoverageWindow packaged versions
// (by chart version) that equal an upstream version of the timeline.
type Coverage struct {
	Matched int      // packaged versions that equal an upstream version
	Of      int      // packaged versions looked at (≤ CoverageWindow)
	Missing []string // packaged versions (as read) that equal no upstream version, newest chart first
}

// Share is Matched/Of, or 1 when there is no chart to look at.
func (c Coverage) Share() float64 {
	if c.Of == 0 {
		return 1
	}
	return float64(c.Matched) / float64(c.Of)
}

// Low reports whether the share is below CoverageLow (and there is a chart).
func (c Coverage) Low() bool { return c.Of > 0 && c.Share() < CoverageLow }

// Coverage computes the timeline's coverage over its whole upstream history.
// A chart version published more than once counts once (its newest build).
func (tl *Timeline) Coverage() Coverage {
	byVersion := map[string]Chart{}
	for _, c := range tl.Charts { // time order: the newest build of a version wins
		byVersion[c.Version.String()] = c
	}
	charts := make([]Chart, 0, len(byVersion))
	for _, c := range byVersion {
		charts = append(charts, c)
	}
	sort.Slice(charts, func(i, j int) bool { return charts[j].Version.LessThan(charts[i].Version) })
	if len(charts) > CoverageWindow {
		charts = charts[:CoverageWindow]
	}
	var cov Coverage
	for _, c := range charts {
		cov.Of++
		if tl.HasUpstream(c.App) {
			cov.Matched++
		} else {
			cov.Missing = append(cov.Missing, c.RawApp)
		}
	}
	return cov
}

// HasUpstream reports whether v equals a version of the upstream history
// (at any time).
func (tl *Timeline) HasUpstream(v *semver.Version) bool {
	for _, r := range tl.Upstream {
		if r.Version.Equal(v) {
			return true
		}
	}
	return false
}
