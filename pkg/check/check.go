// Package check tells whether a catalog entry fits its data (lag-metrics.md,
// "When the catalog and the data disagree"): given a service's raw upstream
// releases or tags and its chart versions, it reports coverage, the values
// left out, packaged-version problems, and fixes computed from the data —
// the tag pattern that keeps the most tags equal to the chart's app versions,
// versionFrom, prereleases, source — each with its evidence. It is pure: the
// caller fetches (Run does it with the plugin's sources).
package check

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Problem kinds.
const (
	NoUpstreamVersion       = "no-upstream-version"
	PackagedUnknownUpstream = "packaged-unknown-upstream"
	LowCoverage             = "low-coverage"
	TagsNotVersions         = "tags-not-versions"
	NoChartVersion          = "no-chart-version"
)

// Coverage is engine.Coverage in the resource's words.
type Coverage struct {
	Matched int      `json:"matched"`
	Of      int      `json:"of"`
	Share   float64  `json:"share"`
	Missing []string `json:"missing,omitempty"`
}

// coverageOf converts a coverage; the missing values (a chart host's word)
// are cut to quote.MaxRunes characters.
func coverageOf(c engine.Coverage) Coverage {
	out := Coverage{Matched: c.Matched, Of: c.Of, Share: c.Share()}
	for _, m := range c.Missing {
		out.Missing = append(out.Missing, quote.Cut(m))
	}
	return out
}

// UpstreamInfo says what was fetched upstream and what the entry keeps.
type UpstreamInfo struct {
	Source  string `json:"source"`
	Fetched int    `json:"fetched"`
	Kept    int    `json:"kept"`
}

// ChartInfo says what was fetched of the chart and what it packages at At.
type ChartInfo struct {
	Fetched        int    `json:"fetched"`
	Kept           int    `json:"kept"`
	Packaged       string `json:"packaged"`
	UpstreamLatest string `json:"upstreamLatest"`
}

// LeftOut is one cause of values left out: a count and at most 3 examples.
type LeftOut struct {
	Cause    string   `json:"cause"`
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

// Problem is something wrong with the entry.
type Problem struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Fix is a change of one catalog field, computed from the data, with what
// the service gets with it.
type Fix struct {
	Field    string   `json:"field"`
	Value    string   `json:"value"`
	Evidence string   `json:"evidence"`
	Coverage Coverage `json:"coverage"`
}

// Result is the check of one service.
type Result struct {
	Service   string           `json:"service"`
	OK        bool             `json:"ok"`
	Error     string           `json:"error"`
	Coverage  *Coverage        `json:"coverage,omitempty"`
	Upstream  *UpstreamInfo    `json:"upstream,omitempty"`
	Chart     *ChartInfo       `json:"chart,omitempty"`
	LeftOut   []LeftOut        `json:"leftOut"`
	Problems  []Problem        `json:"problems"`
	Fixes     []Fix            `json:"fixes"`
	Suggested *catalog.Service `json:"suggested,omitempty"`
	// What the security inputs gave (security.go); absent when the
	// service has none or the check ran without their sources.
	Advisories *AdvisoriesInfo `json:"advisories,omitempty"`
	EOL        *EOLInfo        `json:"eol,omitempty"`
}

// Report is the check of several services.
type Report struct {
	At       time.Time `json:"at"`
	Services int       `json:"services"`
	Problems int       `json:"problems"`
	Failed   int       `json:"failed"`
	Results  []Result  `json:"results"`
}

// NewReport counts the results.
func NewReport(at time.Time, results []Result) Report {
	r := Report{At: at.UTC(), Services: len(results), Results: results}
	for _, res := range results {
		switch {
		case res.Error != "":
			r.Failed++
		case !res.OK:
			r.Problems++
		}
	}
	return r
}

// Data is what was fetched for a service.
type Data struct {
	Releases []sources.Release      // upstream, read with the entry's source
	Tags     []sources.Release      // the repository's tags, when Releases is empty and source is releases; nil otherwise
	Charts   []sources.ChartVersion // every version of the chart
}

// Check checks one service against its data at time at: only what was
// published at or before at is looked at.
func Check(svc catalog.Service, d Data, at time.Time) Result {
	res := Result{Service: svc.Name, LeftOut: []LeftOut{}, Problems: []Problem{}, Fixes: []Fix{}}
	ups, tags, charts := upTo(d.Releases, at), upTo(d.Tags, at), chartsUpTo(d.Charts, at)
	cur, err := evaluate(svc, ups, charts, at)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	cov := coverageOf(cur.cov)
	res.Coverage = &cov
	res.Upstream = &UpstreamInfo{Source: svc.Upstream.Source, Fetched: len(ups), Kept: len(cur.tl.Upstream)}
	res.Chart = &ChartInfo{Fetched: len(charts), Kept: len(cur.tl.Charts)}
	if cur.st.HasChart {
		res.Chart.Packaged = cur.st.Chart.App.Original()
	}
	if cur.st.UpstreamLatest != nil {
		res.Chart.UpstreamLatest = cur.st.UpstreamLatest.Version.Original()
	}
	res.LeftOut = leftOut(svc, ups, charts)
	if cur.unjudged > 0 {
		res.LeftOut = append(res.LeftOut, LeftOut{Cause: causeBeforeHistory, Count: cur.unjudged, Examples: []string{}})
	}

	// Problems of the entry as it is.
	notVersions := 0
	for _, l := range res.LeftOut {
		if l.Cause == causeNotVersions {
			notVersions = l.Count
		}
	}
	switch {
	case len(cur.tl.Charts) == 0:
		res.Problems = append(res.Problems, Problem{NoChartVersion, fmt.Sprintf("no version of chart %s has a usable %s and created time (%d fetched)", svc.Chart.Name, svc.Chart.VersionFrom, len(charts))})
	case len(cur.tl.Upstream) == 0:
		res.Problems = append(res.Problems, Problem{NoUpstreamVersion, noUpstreamMessage(svc, ups)})
	}
	if cur.unknownAbove {
		res.Problems = append(res.Problems, Problem{PackagedUnknownUpstream, fmt.Sprintf("the packaged version %s (chart %s) is no upstream version and is above the newest one (%s)",
			cur.st.Chart.App.Original(), cur.st.Chart.Version.Original(), cur.st.UpstreamLatest.Version.Original())})
	}
	if cur.cov.Low() && len(cur.tl.Upstream) > 0 {
		res.Problems = append(res.Problems, Problem{LowCoverage, fmt.Sprintf("%d of the last %d chart versions ship an upstream version (e.g. %s): the pairing of chart and upstream, or the pattern, is probably wrong",
			cur.cov.Matched, cur.cov.Of, strings.Join(quoteAll(first(cur.cov.Missing, 3)), ", "))})
	}
	if svc.Upstream.TagPattern == "" && notVersions > 0 {
		res.Problems = append(res.Problems, Problem{TagsNotVersions, fmt.Sprintf("%d upstream tags are not versions and no tagPattern picks the stream of the chart", notVersions)})
	}

	// Fixes: the best entry the data supports, and how it differs.
	best := search(svc, cur, ups, tags, charts, at)
	res.Fixes = fixes(svc, cur, best, ups, tags, charts, res.Problems)
	if len(res.Fixes) > 0 {
		s := best.svc
		res.Suggested = &s
	}
	res.OK = len(res.Problems) == 0
	return res
}

func noUpstreamMessage(svc catalog.Service, ups []sources.Release) string {
	switch {
	case len(ups) == 0:
		return fmt.Sprintf("%s has no %s", svc.Upstream.Repo, svc.Upstream.Source)
	case svc.Upstream.TagPattern != "":
		return fmt.Sprintf("none of the %d upstream %s of %s gives a version with tagPattern %s (e.g. %s)", len(ups), svc.Upstream.Source, svc.Upstream.Repo, quote.Value(svc.Upstream.TagPattern), quote.Value(ups[0].Tag))
	}
	return fmt.Sprintf("none of the %d upstream %s of %s is a counted version (e.g. %s)", len(ups), svc.Upstream.Source, svc.Upstream.Repo, quote.Value(ups[0].Tag))
}

// eval is one candidate entry with what it gives.
type eval struct {
	svc          catalog.Service
	tl           *engine.Timeline
	cov          engine.Coverage
	st           engine.State
	equal        int  // kept upstream versions that equal a chart's packaged version
	unknownAbove bool // packaged version at At is no upstream version and above the newest
	unjudged     int  // chart versions older than the upstream history read
}

func evaluate(svc catalog.Service, ups []sources.Release, charts []sources.ChartVersion, at time.Time) (eval, error) {
	spec := engine.Spec{TagPattern: svc.Upstream.TagPattern, Prereleases: svc.Upstream.Prereleases,
		FromVersion: svc.Chart.VersionFrom == catalog.FromVersion, VersionPattern: svc.Chart.VersionPattern}
	tl, _, err := engine.Build(spec, ups, charts)
	if err != nil {
		return eval{}, err
	}
	e := eval{svc: svc, tl: tl, st: tl.At(at)}
	// Coverage looks at the chart versions published since the oldest
	// upstream release or tag read: a history cut short (the 10 newest tags
	// of GitHub's tag feed without a token, a page limit) cannot say whether
	// older ones ship an upstream version.
	judged := &engine.Timeline{Upstream: tl.Upstream, Charts: tl.Charts}
	if oldest := oldestTime(ups); !oldest.IsZero() {
		judged.Charts = slices.DeleteFunc(slices.Clone(tl.Charts), func(c engine.Chart) bool { return c.Created.Before(oldest) })
		e.unjudged = len(tl.Charts) - len(judged.Charts)
	}
	e.cov = judged.Coverage()
	packaged := map[string]bool{}
	for _, c := range tl.Charts {
		packaged[c.App.String()] = true
	}
	for _, r := range tl.Upstream {
		if v := r.Version.String(); packaged[v] {
			e.equal++
			packaged[v] = false // distinct versions: v1.9.0 and 1.9.0 count once
		}
	}
	if e.st.HasChart && e.st.UpstreamLatest != nil && !tl.HasUpstream(e.st.Chart.App) && e.st.Chart.App.GreaterThan(e.st.UpstreamLatest.Version) {
		e.unknownAbove = true
	}
	return e, nil
}

// better reports whether a gives the service more than b: a higher share of
// the last chart versions matched, then no packaged version above upstream,
// then more upstream versions equal to packaged ones.
func better(a, b eval) bool {
	sa, sb := share(a.cov), share(b.cov)
	switch {
	case sa != sb:
		return sa > sb
	case a.cov.Matched != b.cov.Matched:
		return a.cov.Matched > b.cov.Matched
	case a.unknownAbove != b.unknownAbove:
		return !a.unknownAbove
	}
	return a.equal > b.equal
}

// share is the matched share, 0 when no chart version is usable (the engine
// says 1 there; here an entry that reads no chart is the worst).
func share(c engine.Coverage) float64 {
	if c.Of == 0 {
		return 0
	}
	return float64(c.Matched) / float64(c.Of)
}

// search tries the entries the data suggests and returns the best (cur when
// nothing is better).
func search(svc catalog.Service, cur eval, ups, tags []sources.Release, charts []sources.ChartVersion, at time.Time) eval {
	best := cur
	type variant struct {
		source string
		ups    []sources.Release
	}
	variants := []variant{{svc.Upstream.Source, ups}}
	if svc.Upstream.Source == sources.KindReleases && len(ups) == 0 && len(tags) > 0 {
		variants = append(variants, variant{sources.KindTags, tags})
	}
	froms := []string{svc.Chart.VersionFrom, otherFrom(svc.Chart.VersionFrom)}
	pres := []bool{svc.Upstream.Prereleases}
	if !svc.Upstream.Prereleases && shipsPrereleases(charts) {
		pres = append(pres, true)
	}
	for _, v := range variants {
		for _, pre := range pres {
			patterns := append([]string{svc.Upstream.TagPattern}, Patterns(v.ups, pre)...)
			for _, from := range froms {
				for _, p := range patterns {
					c := svc
					c.Upstream.Source, c.Upstream.TagPattern, c.Upstream.Prereleases, c.Chart.VersionFrom = v.source, p, pre, from
					if c == svc {
						continue
					}
					e, err := evaluate(c, v.ups, charts, at)
					if err == nil && better(e, best) {
						best = e
					}
				}
			}
		}
	}
	// No better coverage, but tags that are not versions and no pattern: the
	// pattern that keeps the same versions makes the stream explicit.
	if best.svc == svc && svc.Upstream.TagPattern == "" {
		for _, p := range Patterns(ups, svc.Upstream.Prereleases) {
			c := svc
			c.Upstream.TagPattern = p
			if e, err := evaluate(c, ups, charts, at); err == nil && !better(cur, e) && e.cov.Of > 0 {
				return e
			}
		}
	}
	return best
}

func otherFrom(from string) string {
	if from == catalog.FromVersion {
		return catalog.FromAppVersion
	}
	return catalog.FromVersion
}

// shipsPrereleases reports whether a final chart version packages a
// prerelease app version (1.0.0-rc.1).
func shipsPrereleases(charts []sources.ChartVersion) bool {
	for _, c := range charts {
		cv, err := engine.ParseVersion(c.Version)
		if err != nil || cv.Prerelease() != "" {
			continue
		}
		for _, raw := range []string{c.AppVersion, c.Version} {
			if v, err := engine.ParseVersion(raw); err == nil && v.Prerelease() != "" {
				return true
			}
		}
	}
	return false
}

// fixes states how best differs from the entry, one fix per field, each
// with its evidence.
func fixes(svc catalog.Service, cur, best eval, ups, tags []sources.Release, charts []sources.ChartVersion, problems []Problem) []Fix {
	out := []Fix{}
	// An entry without a problem keeps its fields unless the data gives
	// strictly more chart versions an upstream version.
	if best.svc == svc || (len(problems) == 0 && best.cov.Matched <= cur.cov.Matched) {
		return out
	}
	// A fix must give an entry without a problem of its own: a pattern that
	// keeps a few coincidental versions is no fix.
	if best.cov.Of == 0 || best.cov.Low() || best.unknownAbove || len(best.tl.Upstream) == 0 {
		return out
	}
	cov := coverageOf(best.cov)
	n := best.svc
	matchText := fmt.Sprintf("%d of the last %d chart versions match", best.cov.Matched, best.cov.Of)
	if n.Upstream.Source != svc.Upstream.Source {
		out = append(out, Fix{Field: "upstream.source", Value: n.Upstream.Source, Coverage: cov,
			Evidence: fmt.Sprintf("%s has no %s but %d tags; with them %s", svc.Upstream.Repo, svc.Upstream.Source, len(tags), matchText)})
	}
	if n.Chart.VersionFrom != svc.Chart.VersionFrom {
		ev := fmt.Sprintf("%s gives %d of the last %d chart versions an upstream version (%s gives %d)", n.Chart.VersionFrom, best.cov.Matched, best.cov.Of, svc.Chart.VersionFrom, cur.cov.Matched)
		if best.st.HasChart {
			ev += fmt.Sprintf("; it ships %s", best.st.Chart.App.Original())
		}
		out = append(out, Fix{Field: "chart.versionFrom", Value: n.Chart.VersionFrom, Coverage: cov, Evidence: ev})
	}
	if n.Upstream.Prereleases != svc.Upstream.Prereleases {
		out = append(out, Fix{Field: "upstream.prereleases", Value: fmt.Sprint(n.Upstream.Prereleases), Coverage: cov,
			Evidence: fmt.Sprintf("the chart ships prerelease versions; counting them, %s (%d without)", matchText, cur.cov.Matched)})
	}
	if n.Upstream.TagPattern != svc.Upstream.TagPattern {
		from := ups
		if n.Upstream.Source != svc.Upstream.Source {
			from = tags
		}
		ev := fmt.Sprintf("keeps %d of %d %s; %s", len(best.tl.Upstream), len(from), n.Upstream.Source, matchText)
		if cur.cov.Matched != best.cov.Matched {
			ev += fmt.Sprintf(" (%d with %s)", cur.cov.Matched, patternName(svc.Upstream.TagPattern))
		}
		out = append(out, Fix{Field: "upstream.tagPattern", Value: n.Upstream.TagPattern, Coverage: cov, Evidence: ev})
	}
	return out
}

func patternName(p string) string {
	if p == "" {
		return "no pattern"
	}
	return "the current pattern"
}

// shapeRe splits a tag into prefix, optional "v", X.Y.Z and a suffix.
var shapeRe = regexp.MustCompile(`^(.*?)(v?)(\d+\.\d+\.\d+)((?:[-+][0-9A-Za-z.+-]*)?)$`)

// maxShapes bounds the tag streams tried (a monorepo tags hundreds of components).
const maxShapes = 12

// Patterns lists the tag patterns the tags' shapes suggest, the most common
// stream first: per prefix, "^PREFIXv(\d+\.\d+\.\d+)$" (anchored, so that a
// chart tag argo-cd-3.x in the same repository is not kept), with v optional
// when the prefix appears with and without it, and with a prerelease suffix
// when prereleases count.
func Patterns(tags []sources.Release, prereleases bool) []string {
	type shape struct {
		prefix string
		v      map[string]int
		n      int
	}
	shapes := map[string]*shape{}
	for _, t := range tags {
		m := shapeRe.FindStringSubmatch(t.Tag)
		if m == nil {
			continue
		}
		s := shapes[m[1]]
		if s == nil {
			s = &shape{prefix: m[1], v: map[string]int{}}
			shapes[m[1]] = s
		}
		s.v[m[2]]++
		s.n++
	}
	list := make([]*shape, 0, len(shapes))
	for _, s := range shapes {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].prefix < list[j].prefix
	})
	version := `(\d+\.\d+\.\d+)`
	if prereleases {
		version = `(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)`
	}
	var out []string
	for _, s := range list[:min(len(list), maxShapes)] {
		p := "^" + regexp.QuoteMeta(s.prefix)
		vs := make([]string, 0, 2)
		for v := range s.v {
			vs = append(vs, v)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(vs))) // "v" first
		for _, v := range vs {
			out = append(out, p+v+version+"$")
		}
		if len(vs) == 2 {
			out = append(out, p+"v?"+version+"$")
		}
	}
	return out
}

// Causes of values left out.
const (
	causeOutsidePattern = "upstream tags outside tagPattern"
	causeNotVersions    = "upstream tags that are not versions"
	causePrereleases    = "upstream prereleases (prereleases: false)"
	causeNoDate         = "upstream tags without a date"
	causeChartNotSemver = "chart versions that are not semver"
	causeChartPre       = "prerelease chart versions (helm install skips them)"
	causeChartCreated   = "chart versions without a valid created time"
	causeChartNoValue   = "chart versions without the value of versionFrom"
	causeChartValue     = "chart versions whose packaged value is not a version"
	causeBeforeHistory  = "chart versions older than the upstream history read (not judged)"
)

// oldestTime is the time of the oldest dated release or tag.
func oldestTime(ups []sources.Release) time.Time {
	var oldest time.Time
	for _, r := range ups {
		if !r.Time.IsZero() && (oldest.IsZero() || r.Time.Before(oldest)) {
			oldest = r.Time
		}
	}
	return oldest
}

// leftOut groups the values the entry leaves out by cause (the engine's
// rules in engine.Build).
func leftOut(svc catalog.Service, ups []sources.Release, charts []sources.ChartVersion) []LeftOut {
	groups := map[string]*LeftOut{}
	var order []string
	add := func(cause, example string) {
		g := groups[cause]
		if g == nil {
			g = &LeftOut{Cause: cause, Examples: []string{}}
			groups[cause] = g
			order = append(order, cause)
		}
		g.Count++
		if len(g.Examples) < 3 {
			g.Examples = append(g.Examples, quote.Cut(example))
		}
	}
	tagRe, _ := engine.CompilePattern(svc.Upstream.TagPattern)
	appRe, _ := engine.CompilePattern(svc.Chart.VersionPattern)
	for _, r := range ups {
		raw, ok := engine.Extract(tagRe, r.Tag)
		if !ok {
			add(causeOutsidePattern, r.Tag)
			continue
		}
		v, err := engine.ParseVersion(raw)
		switch {
		case err != nil:
			add(causeNotVersions, r.Tag)
		case (r.Prerelease || v.Prerelease() != "") && !svc.Upstream.Prereleases:
			add(causePrereleases, r.Tag)
		case r.Time.IsZero():
			add(causeNoDate, r.Tag)
		}
	}
	for _, c := range charts {
		cv, err := engine.ParseVersion(c.Version)
		switch {
		case err != nil:
			add(causeChartNotSemver, c.Version)
			continue
		case cv.Prerelease() != "":
			add(causeChartPre, c.Version)
			continue
		case c.Created.IsZero():
			add(causeChartCreated, c.Version)
			continue
		}
		value := c.AppVersion
		if svc.Chart.VersionFrom == catalog.FromVersion {
			value = c.Version
		}
		if value == "" {
			add(causeChartNoValue, c.Version)
			continue
		}
		raw, ok := engine.Extract(appRe, value)
		if _, err := engine.ParseVersion(raw); !ok || err != nil {
			add(causeChartValue, c.Version+" ("+value+")")
		}
	}
	out := make([]LeftOut, 0, len(order))
	for _, c := range order {
		out = append(out, *groups[c])
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote.Value(s)
	}
	return out
}

func first(ss []string, n int) []string { return ss[:min(n, len(ss))] }

func upTo(rs []sources.Release, at time.Time) []sources.Release {
	if rs == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(rs), func(r sources.Release) bool { return r.Time.After(at) })
}

func chartsUpTo(cs []sources.ChartVersion, at time.Time) []sources.ChartVersion {
	return slices.DeleteFunc(slices.Clone(cs), func(c sources.ChartVersion) bool { return c.Created.After(at) })
}

// Summary is the one-line summary of the results with a problem, for the
// health check: "2 of 11 services look misconfigured: chromadb (…), …".
// "" when every service looks right.
func Summary(r Report) string {
	var bad []string
	for _, res := range r.Results {
		if res.Error != "" || res.OK {
			continue
		}
		msg := res.Problems[0].Message
		if len(res.Fixes) > 0 {
			msg += "; fix: " + res.Fixes[0].Field + ": " + res.Fixes[0].Value
		}
		bad = append(bad, fmt.Sprintf("%s (%s)", res.Service, msg))
	}
	if len(bad) == 0 {
		return ""
	}
	verb := "services look"
	if r.Services == 1 {
		verb = "service looks"
	}
	return fmt.Sprintf("%d of %d %s misconfigured: %s", len(bad), r.Services, verb, strings.Join(bad, ", "))
}

// Inferred is the entry the data supports best, with what it gives.
type Inferred struct {
	Service  catalog.Service
	Coverage Coverage
	Kept     int // upstream versions the entry keeps
	Fetched  int // upstream releases or tags read
}

// Infer returns the best entry for svc's repository and chart (the search
// of Check: tag pattern, versionFrom, prereleases, source), always with an
// explicit tag pattern when one keeps the same versions. lagwatch discover
// uses it on each candidate upstream.
func Infer(svc catalog.Service, d Data, at time.Time) (Inferred, error) {
	ups, tags, charts := upTo(d.Releases, at), upTo(d.Tags, at), chartsUpTo(d.Charts, at)
	cur, err := evaluate(svc, ups, charts, at)
	if err != nil {
		return Inferred{}, err
	}
	best := search(svc, cur, ups, tags, charts, at)
	from := ups
	if best.svc.Upstream.Source != svc.Upstream.Source {
		from = tags
	}
	if best.svc.Upstream.TagPattern == "" {
		for _, p := range Patterns(from, best.svc.Upstream.Prereleases) {
			c := best.svc
			c.Upstream.TagPattern = p
			if e, err := evaluate(c, from, charts, at); err == nil && !better(best, e) {
				best = e
				break
			}
		}
	}
	return Inferred{Service: best.svc, Coverage: coverageOf(best.cov), Kept: len(best.tl.Upstream), Fetched: len(from)}, nil
}
