package engine

import (
	"sort"
	"time"
)

// Verdict is the velocity verdict of lag-metrics.md ("Velocity evidence and
// verdict"): evidence for one weighted criterion of the native-or-chart
// decision, not the whole decision.
type Verdict string

// The verdicts, in the spec's words.
const (
	VerdictNoData     Verdict = "no data"
	VerdictAbandoned  Verdict = "possibly abandoned"
	VerdictKeepsUp    Verdict = "chart keeps up"
	VerdictLags       Verdict = "chart lags: consider a native install"
	VerdictMostlyKeep Verdict = "chart mostly keeps up"
)

// Code is the verdict as a number for alert rules: the higher, the worse.
// 0 no data, 1 chart keeps up, 2 chart mostly keeps up, 3 chart lags, 4
// possibly abandoned.
func (v Verdict) Code() int {
	switch v {
	case VerdictKeepsUp:
		return 1
	case VerdictMostlyKeep:
		return 2
	case VerdictLags:
		return 3
	case VerdictAbandoned:
		return 4
	}
	return 0
}

// VerdictParams are W, T and A of the spec.
type VerdictParams struct {
	Window      time.Duration // W: the releases looked at end at t (default 365 days)
	Tolerance   time.Duration // T: a delay a user accepts (default 7 days)
	Abandonment time.Duration // A: a chart silent this long may be abandoned (default 120 days)
}

// DefaultVerdictParams are the spec's defaults.
var DefaultVerdictParams = VerdictParams{Window: 365 * 24 * time.Hour, Tolerance: 7 * 24 * time.Hour, Abandonment: 120 * 24 * time.Hour}

// OrDefaults fills the parameters left at zero with the spec's defaults.
func (p VerdictParams) OrDefaults() VerdictParams {
	if p.Window <= 0 {
		p.Window = DefaultVerdictParams.Window
	}
	if p.Tolerance <= 0 {
		p.Tolerance = DefaultVerdictParams.Tolerance
	}
	if p.Abandonment <= 0 {
		p.Abandonment = DefaultVerdictParams.Abandonment
	}
	return p
}

// Evidence is what a verdict is drawn from, shown beside it.
type Evidence struct {
	Verdict        Verdict
	Releases       int           // upstream releases with t − W < t_i ≤ t
	Open           int           // of which not shipped at t
	DelayMedian    time.Duration // d50 of their packaging delays at t (open ones so far), nearest rank
	DelayP90       time.Duration // d90
	HasChart       bool          // false before the first chart: chart_age is null
	ChartAge       time.Duration // chart_age(t)
	VersionsBehind int           // versions_behind(t)
}

// VerdictAt applies the spec's rules, first match wins:
//  1. no data — fewer than 3 upstream releases in W, or the packaged
//     version cannot be compared with upstream (State.Unknown);
//  2. possibly abandoned — chart_age(t) > A and versions_behind(t) > 0
//     (never before the first chart: chart_age is null then);
//  3. chart keeps up — d90 ≤ T;
//  4. chart lags: consider a native install — d50 > T;
//  5. chart mostly keeps up — otherwise.
func (tl *Timeline) VerdictAt(t time.Time, p VerdictParams) Evidence {
	var ds []time.Duration
	var ev Evidence
	for _, d := range tl.Delays(t) {
		if !d.Release.Time.After(t.Add(-p.Window)) { // the window is (t − W, t]
			continue
		}
		ds = append(ds, d.Delay)
		if d.Open {
			ev.Open++
		}
	}
	ev.Releases = len(ds)
	st := tl.At(t)
	ev.HasChart, ev.ChartAge, ev.VersionsBehind = st.HasChart, st.ChartAge, st.VersionsBehind
	if len(ds) > 0 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		ev.DelayMedian, ev.DelayP90 = nearestRank(ds, 50), nearestRank(ds, 90)
	}
	switch {
	case ev.Releases < 3:
		ev.Verdict = VerdictNoData
	case st.Unknown != UnknownNone: // the delays measure nothing then
		ev.Verdict = VerdictNoData
	case st.HasChart && st.ChartAge > p.Abandonment && st.VersionsBehind > 0:
		ev.Verdict = VerdictAbandoned
	case ev.DelayP90 <= p.Tolerance:
		ev.Verdict = VerdictKeepsUp
	case ev.DelayMedian > p.Tolerance:
		ev.Verdict = VerdictLags
	default:
		ev.Verdict = VerdictMostlyKeep
	}
	return ev
}
