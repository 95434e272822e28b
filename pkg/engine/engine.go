// Package engine computes release lag as defined in docs/metrics.md (the
// contract in lag-metrics.md): pure functions over release timelines, no I/O.
package engine

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Spec says how to read one service's raw timelines.
type Spec struct {
	TagPattern     string // regexp with one capture group applied to upstream tags; "" = whole tag
	Prereleases    bool   // count upstream prereleases
	FromVersion    bool   // packaged version is the chart version, not appVersion
	VersionPattern string // regexp with one capture group applied to the packaged value; "" = whole value
}

// Release is one normalised upstream release.
type Release struct {
	Version *semver.Version
	Tag     string
	Time    time.Time
}

// Chart is one normalised chart release.
type Chart struct {
	Version    *semver.Version // chart version
	App        *semver.Version // the upstream version it ships
	RawApp     string          // the value the packaged version was read from
	Created    time.Time
	Deprecated bool
}

// Timeline is a service's normalised upstream and chart releases, each sorted
// by time (ties by version).
type Timeline struct {
	Upstream []Release
	Charts   []Chart
}

// Build normalises raw timelines. Values that do not parse are left out and
// reported as notices naming the value; nothing is guessed.
func Build(spec Spec, ups []sources.Release, charts []sources.ChartVersion) (*Timeline, []string, error) {
	tagRe, err := CompilePattern(spec.TagPattern)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream.tagPattern: %w", err)
	}
	appRe, err := CompilePattern(spec.VersionPattern)
	if err != nil {
		return nil, nil, fmt.Errorf("chart.versionPattern: %w", err)
	}
	var notices []string
	var unmatched int
	tl := &Timeline{}
	for _, r := range ups {
		raw, ok := extract(tagRe, r.Tag)
		if !ok {
			unmatched++
			continue
		}
		v, err := parseVersion(raw)
		if err != nil {
			notices = append(notices, fmt.Sprintf("upstream tag %s: version %s does not parse as semver; left out", quote.Value(r.Tag), quote.Value(raw)))
			continue
		}
		if (r.Prerelease || v.Prerelease() != "") && !spec.Prereleases {
			continue
		}
		if r.Time.IsZero() {
			notices = append(notices, fmt.Sprintf("upstream tag %s has no date; left out", quote.Value(r.Tag)))
			continue
		}
		tl.Upstream = append(tl.Upstream, Release{Version: v, Tag: r.Tag, Time: r.Time.UTC()})
	}
	// Tags of other streams (js_release_*, cli-*, latest) not matching the
	// pattern are expected; a pattern that matches nothing is a mistake.
	if unmatched > 0 && unmatched == len(ups) {
		notices = append(notices, fmt.Sprintf("none of the %d upstream tags match tagPattern %s (first: %s)", unmatched, quote.Value(spec.TagPattern), quote.Value(ups[0].Tag)))
	}
	for _, c := range charts {
		cv, err := parseVersion(c.Version)
		if err != nil {
			notices = append(notices, fmt.Sprintf("chart version %s does not parse as semver; left out", quote.Value(c.Version)))
			continue
		}
		if cv.Prerelease() != "" {
			continue // helm install without --devel never picks a prerelease chart
		}
		if c.Created.IsZero() {
			notices = append(notices, fmt.Sprintf("chart %s %s; left out", quote.Value(c.Version), createdProblem(c.CreatedRaw)))
			continue
		}
		field, value := "appVersion", c.AppVersion
		if spec.FromVersion {
			field, value = "version", c.Version
		}
		if value == "" {
			notices = append(notices, fmt.Sprintf("chart %s has no %s; left out", quote.Value(c.Version), field))
			continue
		}
		raw, ok := extract(appRe, value)
		if !ok {
			notices = append(notices, fmt.Sprintf("chart %s %s %s does not match versionPattern %s; left out", quote.Value(c.Version), field, quote.Value(value), quote.Value(spec.VersionPattern)))
			continue
		}
		av, err := parseVersion(raw)
		if err != nil {
			notices = append(notices, fmt.Sprintf("chart %s %s %s does not parse as semver; left out", quote.Value(c.Version), field, quote.Value(value)))
			continue
		}
		tl.Charts = append(tl.Charts, Chart{Version: cv, App: av, RawApp: value, Created: c.Created.UTC(), Deprecated: c.Deprecated})
	}
	sort.SliceStable(tl.Upstream, func(i, j int) bool {
		a, b := tl.Upstream[i], tl.Upstream[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.Version.LessThan(b.Version)
	})
	sort.SliceStable(tl.Charts, func(i, j int) bool {
		a, b := tl.Charts[i], tl.Charts[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.Version.LessThan(b.Version)
	})
	return tl, notices, nil
}

// createdProblem says why a chart's created value gave no time.
func createdProblem(raw string) string {
	switch t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(raw)); {
	case strings.TrimSpace(raw) == "":
		return "has no created time"
	case err == nil:
		return fmt.Sprintf("created %s is in %d, before 1970: not a plausible chart date", quote.Value(raw), t.Year())
	}
	return fmt.Sprintf("created %s is not an RFC 3339 time", quote.Value(raw))
}

// CompilePattern compiles a tagPattern or versionPattern: a regular
// expression whose one capture group is the version. "" gives nil (the whole
// value is the version).
func CompilePattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid regular expression: %w", p, err)
	}
	if re.NumSubexp() != 1 {
		return nil, fmt.Errorf("%q must have exactly one capture group for the version, has %d", p, re.NumSubexp())
	}
	return re, nil
}

func extract(re *regexp.Regexp, s string) (string, bool) {
	if re == nil {
		return s, true
	}
	m := re.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// parseVersion reads a version the way Helm does (Masterminds semver), after
// dropping one leading "v": "v0.12.3", "0.11.11" and "v25.3.4" parse.
func parseVersion(s string) (*semver.Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty version")
	}
	return semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
}

// State is every metric of a service at one time. Pointers and HasChart mark
// values that do not exist yet: before the first chart release nothing is
// packaged and the metrics are null, never zero.
type State struct {
	At             time.Time
	HasChart       bool
	Chart          Chart     // the chart helm install gives at At (valid when HasChart)
	LastChart      time.Time // newest chart creation ≤ At
	UpstreamLatest *Release  // nil before the first upstream release
	VersionsBehind int
	LagSince       *Release       // oldest upstream release newer than packaged; nil when current
	Lag            time.Duration  // At − LagSince.Time, 0 when current
	Drift          *time.Duration // nil when the packaged version is not an upstream release
	ChartAge       time.Duration
}

// IsCurrent is 1 when no released upstream version is newer than the packaged one.
func (s State) IsCurrent() bool { return s.HasChart && s.VersionsBehind == 0 }

// At computes the state at time t.
func (tl *Timeline) At(t time.Time) State {
	st := State{At: t}
	for i := range tl.Upstream {
		r := &tl.Upstream[i]
		if r.Time.After(t) {
			break
		}
		if st.UpstreamLatest == nil || r.Version.GreaterThan(st.UpstreamLatest.Version) {
			st.UpstreamLatest = r
		}
	}
	for _, c := range tl.Charts {
		if c.Created.After(t) {
			break
		}
		st.LastChart = c.Created
		if !st.HasChart || c.Version.GreaterThan(st.Chart.Version) || c.Version.Equal(st.Chart.Version) {
			st.Chart, st.HasChart = c, true // a republished version: the newest build wins
		}
	}
	if !st.HasChart {
		return st
	}
	st.ChartAge = t.Sub(st.LastChart)
	var packagedRelease *Release
	for i := range tl.Upstream {
		r := &tl.Upstream[i]
		if r.Time.After(t) {
			break
		}
		if r.Version.GreaterThan(st.Chart.App) {
			st.VersionsBehind++
			if st.LagSince == nil {
				st.LagSince = r // releases are time-ordered: the first is the oldest
			}
		}
		if r.Version.Equal(st.Chart.App) && packagedRelease == nil {
			packagedRelease = r
		}
	}
	if st.LagSince != nil {
		st.Lag = t.Sub(st.LagSince.Time)
	}
	switch {
	case st.VersionsBehind == 0:
		zero := time.Duration(0)
		st.Drift = &zero
	case packagedRelease != nil:
		d := st.UpstreamLatest.Time.Sub(packagedRelease.Time)
		st.Drift = &d
	}
	return st
}

// Delay is the packaging delay of one upstream release.
type Delay struct {
	Release   Release
	Delay     time.Duration // to the first chart shipping it or newer; so far, when Open
	Open      bool          // no chart ships it yet
	ShippedBy *Chart
}

// Delays computes the packaging delay of every upstream release published at
// or before now. A release already covered by an older-dated chart (a patch of
// an old line released after a newer minor was packaged) has delay 0.
func (tl *Timeline) Delays(now time.Time) []Delay {
	var out []Delay
	for _, r := range tl.Upstream {
		if r.Time.After(now) {
			break
		}
		d := Delay{Release: r, Open: true}
		for i := range tl.Charts {
			c := &tl.Charts[i]
			if c.Created.After(now) {
				break
			}
			if !c.App.LessThan(r.Version) {
				d.ShippedBy, d.Open = c, false
				break // charts are time-ordered: the first match is the earliest
			}
		}
		if d.Open {
			d.Delay = now.Sub(r.Time)
		} else {
			d.Delay = max(0, d.ShippedBy.Created.Sub(r.Time))
		}
		out = append(out, d)
	}
	return out
}

// Summary condenses packaging delays of the releases published in a window.
type Summary struct {
	Count  int // releases in the window
	Open   int // of which not yet shipped
	Median time.Duration
	P90    time.Duration
	Max    time.Duration
}

// Summarize summarises the delays of releases published in [from, to]. Open
// releases count with their delay so far, so a chart that never ships cannot
// look fast. Percentiles use the nearest-rank method.
func Summarize(delays []Delay, from, to time.Time) Summary {
	var ds []time.Duration
	var s Summary
	for _, d := range delays {
		if d.Release.Time.Before(from) || d.Release.Time.After(to) {
			continue
		}
		ds = append(ds, d.Delay)
		if d.Open {
			s.Open++
		}
	}
	s.Count = len(ds)
	if s.Count == 0 {
		return s
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	s.Median = nearestRank(ds, 50)
	s.P90 = nearestRank(ds, 90)
	s.Max = ds[len(ds)-1]
	return s
}

func nearestRank(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}

// EventTimes lists the times in (from, to] at which an upstream or chart
// release happens: the points where a metric steps.
func (tl *Timeline) EventTimes(from, to time.Time) []time.Time {
	var out []time.Time
	for _, r := range tl.Upstream {
		if r.Time.After(from) && !r.Time.After(to) {
			out = append(out, r.Time)
		}
	}
	for _, c := range tl.Charts {
		if c.Created.After(from) && !c.Created.After(to) {
			out = append(out, c.Created)
		}
	}
	return out
}
