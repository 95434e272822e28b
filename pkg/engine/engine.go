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
	Other      string          // the other field as written: appVersion when reading version, and back ("" when absent)
	Created    time.Time
	Deprecated bool
}

// Timeline is a service's normalised upstream and chart releases, each sorted
// by time (ties by version).
type Timeline struct {
	Upstream    []Release
	Charts      []Chart
	FromVersion bool // the packaged version was read from the chart version, not appVersion

	coverage *Coverage // computed once by Build: timelines are not modified after it
}

// Build normalises raw timelines. Values that do not parse are left out and
// reported, one notice per cause naming how many and at most three of them
// (sources.Summarize); nothing is guessed. When no upstream version is left,
// a notice says why, with a tag pattern the tags suggest where there is one.
func Build(spec Spec, ups []sources.Release, charts []sources.ChartVersion) (*Timeline, []string, error) {
	tagRe, err := CompilePattern(spec.TagPattern)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream.tagPattern: %w", err)
	}
	appRe, err := CompilePattern(spec.VersionPattern)
	if err != nil {
		return nil, nil, fmt.Errorf("chart.versionPattern: %w", err)
	}
	var (
		notSemver, undated, prereleases                []string
		badChart, undatedChart, noValue, badApp, noPat []string
		badCreated                                     = map[string][]string{}
	)
	tl := &Timeline{FromVersion: spec.FromVersion}
	unmatched := 0
	for _, r := range ups {
		raw, ok := Extract(tagRe, r.Tag)
		if !ok {
			unmatched++
			continue
		}
		v, err := parseVersion(raw)
		if err != nil {
			notSemver = append(notSemver, r.Tag)
			continue
		}
		if (r.Prerelease || v.Prerelease() != "") && !spec.Prereleases {
			prereleases = append(prereleases, r.Tag)
			continue
		}
		if r.Time.IsZero() {
			undated = append(undated, r.Tag)
			continue
		}
		tl.Upstream = append(tl.Upstream, Release{Version: v, Tag: r.Tag, Time: r.Time.UTC()})
	}
	var notices []string
	note := func(n sources.Notice, hint string) {
		if n != "" {
			notices = append(notices, string(n)+hint)
		}
	}
	// Tags of other streams (js_release_*, cli-*, latest) not matching the
	// pattern are expected; a pattern that matches nothing is a mistake.
	if unmatched > 0 && unmatched == len(ups) {
		n := fmt.Sprintf("none of the %d upstream tags match tagPattern %s (first: %s)", unmatched, yamlQuote(spec.TagPattern), quote.Value(ups[0].Tag))
		if p, kept := SuggestTagPattern(tagsOf(ups)); kept > 0 {
			n += fmt.Sprintf("; tagPattern %s keeps %d of them", p, kept)
		}
		notices = append(notices, n)
	}
	hint := ""
	if spec.TagPattern == "" {
		hint = "; set upstream.tagPattern"
		if p, kept := SuggestTagPattern(tagsOf(ups)); kept > 0 {
			hint = fmt.Sprintf("; set upstream.tagPattern: %s keeps %d of the %d tags", p, kept, len(ups))
		}
	}
	if spec.TagPattern != "" {
		note(sources.Summarize(fmt.Sprintf("upstream tags left out (what tagPattern %s captures is not a version)", yamlQuote(spec.TagPattern)), notSemver), "")
	} else {
		note(sources.Summarize("upstream tags left out (not a version)", notSemver), hint)
	}
	note(sources.Summarize("upstream tags left out (no date)", undated), "")
	switch {
	case len(ups) == 0:
		notices = append(notices, "the upstream source returned no releases or tags: check upstream.repo, and upstream.source (a repository that publishes no GitHub releases needs source: tags)")
	case len(tl.Upstream) == 0 && len(prereleases) > 0 && len(prereleases)+unmatched == len(ups):
		note(sources.Summarize("upstream versions left out (all are prereleases, and prereleases are not counted)", prereleases), "; set upstream.prereleases: true to count them")
	}
	for _, c := range charts {
		cv, err := parseVersion(c.Version)
		if err != nil {
			badChart = append(badChart, c.Version)
			continue
		}
		if cv.Prerelease() != "" {
			continue // helm install without --devel never picks a prerelease chart
		}
		if c.Created.IsZero() {
			problem, value := createdProblem(c.Version, c.CreatedRaw)
			if _, ok := badCreated[problem]; !ok {
				undatedChart = append(undatedChart, problem) // first-seen order of the problems
			}
			badCreated[problem] = append(badCreated[problem], value)
			continue
		}
		value, other := c.AppVersion, c.Version
		if spec.FromVersion {
			value, other = c.Version, c.AppVersion
		}
		if value == "" {
			noValue = append(noValue, c.Version)
			continue
		}
		raw, ok := Extract(appRe, value)
		if !ok {
			noPat = append(noPat, value)
			continue
		}
		av, err := parseVersion(raw)
		if err != nil {
			badApp = append(badApp, value)
			continue
		}
		tl.Charts = append(tl.Charts, Chart{Version: cv, App: av, RawApp: value, Other: other, Created: c.Created.UTC(), Deprecated: c.Deprecated})
	}
	field := "appVersion"
	if spec.FromVersion {
		field = "version"
	}
	note(sources.Summarize("chart versions left out (not semver)", badChart), "")
	for _, problem := range undatedChart {
		note(sources.Summarize(problem, badCreated[problem]), "")
	}
	note(sources.Summarize("chart versions left out (no "+field+")", noValue), noValueHint(spec.FromVersion))
	note(sources.Summarize(fmt.Sprintf("chart %ss left out (no match for versionPattern %s)", field, yamlQuote(spec.VersionPattern)), noPat), "")
	note(sources.Summarize(fmt.Sprintf("chart %ss left out (not semver)", field), badApp), "")
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
	cov := tl.Coverage()
	tl.coverage = &cov
	return tl, notices, nil
}

func noValueHint(fromVersion bool) string {
	if fromVersion {
		return ""
	}
	return "; a chart that sets no appVersion may carry the upstream version in its own version (chart.versionFrom: version)"
}

func tagsOf(ups []sources.Release) []string {
	out := make([]string, len(ups))
	for i, r := range ups {
		out[i] = r.Tag
	}
	return out
}

// plainSemver is a release version with nothing around it.
var plainSemver = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// SuggestTagPattern is a cheap hint, not a search: among tags of the shape
// PREFIX + MAJOR.MINOR.PATCH (prefix up to the first digit, "v" included, at
// most 40 bytes), the pattern of the prefix with the most tags, YAML
// single-quoted to be pasted into a catalog, and how many tags it keeps.
// "lagwatch check" searches properly. kept is 0 when no tag has that shape.
func SuggestTagPattern(tags []string) (pattern string, kept int) {
	count := map[string]int{}
	best := ""
	for _, tag := range tags {
		i := strings.IndexFunc(tag, func(r rune) bool { return r >= '0' && r <= '9' })
		if i < 0 || i > 40 || !plainSemver.MatchString(tag[i:]) {
			continue
		}
		p := tag[:i]
		count[p]++
		if c := count[p]; c > count[best] || (c == count[best] && len(p) < len(best)) {
			best = p
		}
	}
	if count[best] == 0 {
		return "", 0
	}
	return yamlQuote("^" + regexp.QuoteMeta(best) + `(\d+\.\d+\.\d+)$`), count[best]
}

// yamlQuote writes a pattern as a YAML single-quoted string, as a catalog
// holds it (no backslash escapes), cut to quote.MaxRunes characters.
func yamlQuote(p string) string { return quote.YAML(quote.Cut(p)) }

// createdProblem says why a chart's created value gave no time, as the cause
// of a notice, and the value to name as its example.
func createdProblem(version, raw string) (cause, value string) {
	switch _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(raw)); {
	case strings.TrimSpace(raw) == "":
		return "chart versions left out (no created time)", version
	case err == nil:
		return "chart created times left out (before 1970: not a plausible chart date)", raw
	}
	return "chart created times left out (not an RFC 3339 time)", raw
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

// Extract is what pattern re captures of s (a tag, an appVersion): its one
// group, or s itself when re is nil; false when re does not match.
func Extract(re *regexp.Regexp, s string) (string, bool) {
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
// packaged and the metrics are null, never zero. Unknown says when the
// metrics measured against upstream have no value although a chart exists.
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
	Unknown        Unknown // why the metrics against upstream are null; UnknownNone when they have values
}

// Unknown is why, at a time, the packaged version cannot be compared with
// upstream (lag-metrics.md, "When the catalog and the data disagree"). Then
// upstream_latest, versions_behind, lag, drift, is_current and every
// last-hop value are null: a wrong catalog entry never reads "up to date".
type Unknown uint8

const (
	// UnknownNone: the comparison holds.
	UnknownNone Unknown = iota
	// UnknownNoUpstream: no upstream version at or before the time (none
	// fetched, none matching tagPattern, all left out, or all later).
	UnknownNoUpstream
	// UnknownPackaged: the packaged version equals no upstream version in the
	// whole history and is above upstream_latest (a chart version read as
	// the app version, or the wrong upstream repository).
	UnknownPackaged
)

// judge sets st.Unknown: the one place the rule is written, for At and the
// sweeps alike. inHistory says whether the packaged version equals an
// upstream version at any time.
func (st *State) judge(inHistory bool) {
	switch {
	case st.UpstreamLatest == nil:
		st.Unknown = UnknownNoUpstream
	case st.HasChart && !inHistory && st.Chart.App.GreaterThan(st.UpstreamLatest.Version):
		st.Unknown = UnknownPackaged
	default:
		st.Unknown = UnknownNone
	}
}

// Known reports whether the metrics against upstream (upstream_latest,
// versions_behind, lag, drift, is_current) have values: there is a chart and
// the comparison holds. Every surface (frames, exporter, CLI) reads it.
func (s State) Known() bool { return s.HasChart && s.Unknown == UnknownNone }

// LastHopKnown reports whether the last-hop values may have values at this
// state: not when the comparison with upstream does not hold.
func (s State) LastHopKnown() bool { return s.Unknown == UnknownNone }

// IsCurrent is 1 when no released upstream version is newer than the packaged
// one; false also when that is unknown (Known).
func (s State) IsCurrent() bool { return s.Known() && s.VersionsBehind == 0 }

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
		st.judge(false)
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
	st.judge(tl.HasUpstream(st.Chart.App))
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
