// Package frames turns collected timelines into Grafana data frames. Every
// frame Lagwatch returns is built here.
package frames

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// Ceilings of a lag query. Grafana sends maxDataPoints from the panel width,
// but any user who can query can send any value: these hold whatever comes.
const (
	// DefaultMaxPoints bounds the grid of a series when Grafana gives no limit.
	DefaultMaxPoints = 1000
	// MaxPointsPerSeries bounds the grid of one series (Grafana's own ceiling
	// for maxDataPoints in the query editor is of this order).
	MaxPointsPerSeries = 11_000
	// MaxPointsPerResponse bounds the points of all series of one query.
	MaxPointsPerResponse = 2_000_000
	// MaxEventPoints bounds the release events added to a series' grid.
	MaxEventPoints = 20_000
	// MaxDeployedEvents bounds the deployed-version changes added to a
	// series' grid as they are; beyond it, one per grid step is kept
	// (engine.Deployed.GridChanges) and a notice counts the others. Events
	// list the newest MaxDeployedEvents changes of a service, with a notice.
	MaxDeployedEvents = 1_000
)

var typeVersion = data.FrameTypeVersion{0, 1}

// labels identify one series. "metric" keeps the label sets of several
// metrics of one service apart: alerting identifies series by labels alone.
// A security metric that counts only advisories rated at least some
// severity (a query's minSeverity) says so in "min_severity", so it never
// shares a label set with the same metric counting every advisory.
func labels(svc collector.Result, metric string) data.Labels {
	s := svc.Service
	l := data.Labels{
		"service":    s.Name,
		"chart":      s.Chart.Name,
		"repo":       s.Upstream.Repo,
		"maintainer": s.Maintainer,
		"metric":     metric,
	}
	if svc.MinSeverity > engine.SeverityNone && models.IsSecurity(metric) {
		l["min_severity"] = svc.MinSeverity.String()
	}
	return l
}

// metricValue reads one metric from a state; nil when it has no value.
func metricValue(st engine.State, metric string) *float64 {
	if v, ok := metricNumber(st, metric); ok {
		return &v
	}
	return nil
}

// metricNumber reads one metric from a state; false when it has no value.
func metricNumber(st engine.State, metric string) (float64, bool) {
	if !st.HasChart {
		return 0, false // before the first chart release: null, never zero
	}
	if metric != models.MetricChartAge && !st.Known() {
		return 0, false // no comparison with upstream: null, never a reassuring zero
	}
	switch metric {
	case models.MetricLag:
		return st.Lag.Seconds(), true
	case models.MetricVersionsBehind:
		return float64(st.VersionsBehind), true
	case models.MetricDrift:
		if st.Drift == nil {
			return 0, false
		}
		return st.Drift.Seconds(), true
	case models.MetricChartAge:
		return st.ChartAge.Seconds(), true
	case models.MetricIsCurrent:
		if st.IsCurrent() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func valueConfig(svc collector.Result, metric string) *data.FieldConfig {
	cfg := &data.FieldConfig{DisplayNameFromDS: svc.Service.Name + " " + metric, Unit: metricUnit(metric)}
	if l := labels(svc, metric)["min_severity"]; l != "" {
		cfg.DisplayNameFromDS += " (" + l + " and above)"
	}
	switch metric {
	case models.MetricIsCurrent, models.MetricEOL, models.MetricDeployedEOL:
		min, max := data.ConfFloat64(0), data.ConfFloat64(1)
		cfg.Min, cfg.Max = &min, &max
	case models.MetricSecuritySeverity, models.MetricDeployedSecuritySeverity:
		min, max := data.ConfFloat64(0), data.ConfFloat64(4)
		cfg.Min, cfg.Max = &min, &max
		cfg.Mappings = data.ValueMappings{severityMapping}
	case models.MetricVerdict:
		min, max := data.ConfFloat64(0), data.ConfFloat64(4)
		cfg.Min, cfg.Max = &min, &max
		cfg.Mappings = data.ValueMappings{verdictMapping}
	}
	return cfg
}

// metricUnit is the Grafana unit of a metric on every frame: "s" for
// durations, "" for counts and flags.
func metricUnit(metric string) string {
	switch metric {
	case models.MetricLag, models.MetricDrift, models.MetricChartAge, models.MetricDeployedLag, models.MetricRolloutLag,
		models.MetricSecurityLag, models.MetricSupportLeft, models.MetricDeployedSecurityLag, models.MetricDeployedSupportLeft:
		return "s"
	}
	return ""
}

// verdictMapping shows a verdict code as the spec's words.
var verdictMapping = func() data.ValueMapper {
	m := data.ValueMapper{}
	for i, v := range []engine.Verdict{engine.VerdictNoData, engine.VerdictKeepsUp, engine.VerdictMostlyKeep, engine.VerdictLags, engine.VerdictAbandoned} {
		m[fmt.Sprint(v.Code())] = data.ValueMappingResult{Text: string(v), Color: verdictColors[v], Index: i}
	}
	return m
}()

// severityMapping shows a severity code as GitHub's word.
var severityMapping = func() data.ValueMapper {
	m := data.ValueMapper{}
	colors := []string{"green", "blue", "yellow", "orange", "red"}
	for s := engine.SeverityNone; s <= engine.SeverityCritical; s++ {
		m[fmt.Sprint(int(s))] = data.ValueMappingResult{Text: s.String(), Color: colors[s], Index: int(s)}
	}
	return m
}()

var verdictColors = map[engine.Verdict]string{
	engine.VerdictNoData: "text", engine.VerdictKeepsUp: "green", engine.VerdictMostlyKeep: "yellow",
	engine.VerdictLags: "orange", engine.VerdictAbandoned: "red",
}

// hasSeries reports whether a service gets a series of metric: the last-hop
// metrics only for services that say what they run (the catalog's deployed,
// or a what-if version). A service that says so but whose version could not
// be read keeps its series, null: NoData for that alert instance only. One
// that never says so has none, so a rule over every service does not hold a
// NoData instance per service that has no last hop.
func hasSeries(r collector.Result, metric string) bool {
	return !models.IsLastHop(metric) || r.Service.Deployed != nil || r.Deployed != nil
}

// deployedNumber reads one last-hop metric; false when the deployed version
// at that time is unknown (null, never zero).
func deployedNumber(ds engine.DeployedState, known bool, metric string) (float64, bool) {
	if !known {
		return 0, false
	}
	switch metric {
	case models.MetricDeployedVersionsBehind:
		return float64(ds.VersionsBehind), true
	case models.MetricDeployedLag:
		return ds.Lag.Seconds(), true
	case models.MetricRolloutLag:
		return ds.RolloutLag.Seconds(), true
	}
	return 0, false
}

// value reads any metric of a service at t (current queries).
func value(r collector.Result, metric string, at time.Time, p engine.VerdictParams) *float64 {
	tl := r.Timeline
	switch {
	case tl == nil:
		return nil
	case isSecOrEOL(metric):
		st := tl.At(at)
		x := packagedX(&st)
		if models.IsLastHop(metric) {
			x = nil
			if r.Deployed != nil && st.LastHopKnown() {
				x = r.Deployed.At(at)
			}
		}
		if v, ok := newSecReader(r, false).number(metric, x, at); ok {
			return &v
		}
		return nil
	case models.IsLastHop(metric):
		if r.Deployed == nil || !tl.At(at).LastHopKnown() {
			return nil
		}
		ds, known := tl.DeployedAt(*r.Deployed, at)
		if v, ok := deployedNumber(ds, known, metric); ok {
			return &v
		}
		return nil
	case metric == models.MetricVerdict:
		if tl.At(at).Unknown != engine.UnknownNone {
			return nil // a verdict rule goes NoData, not OK on code 0
		}
		v := float64(tl.VerdictAt(at, p).Verdict.Code())
		return &v
	}
	return metricValue(tl.At(at), metric)
}

// notices carries a service's error and notices onto its frame, and what the
// data says about its catalog entry at the query's time (engine.Explain).
func notices(f *data.Frame, r collector.Result, explained []string) {
	if r.Err != nil {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityError, Text: fmt.Sprintf("%s: %v", r.Service.Name, r.Err)})
	}
	for _, n := range explained {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: r.Service.Name + ": " + n})
	}
	for _, n := range r.Notices {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: r.Service.Name + ": " + n})
	}
}

// MaxNotices bounds the notices of one frame: past it, one last notice says
// how many more there are.
const MaxNotices = 20

// limitNotices cuts every frame's notices to MaxNotices, errors kept first.
func limitNotices(fs data.Frames) data.Frames {
	for _, f := range fs {
		if f.Meta == nil || len(f.Meta.Notices) <= MaxNotices {
			continue
		}
		ns := f.Meta.Notices
		slices.SortStableFunc(ns, func(a, b data.Notice) int { return int(b.Severity) - int(a.Severity) })
		more := len(ns) - (MaxNotices - 1)
		f.Meta.Notices = append(ns[:MaxNotices-1:MaxNotices-1], data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("and %d more notices (the status table and lagwatch report show each service's)", more)})
	}
	return fs
}

// explain is engine.Explain for a service with a timeline.
func explain(r collector.Result, st engine.State) []string {
	if r.Timeline == nil {
		return nil
	}
	return r.Timeline.Explain(st)
}

// Grid returns the times at which a lag query is evaluated: from, every
// multiple of the step inside the range, every release event inside it, and
// to, sorted and without duplicates. maxPoints (DefaultMaxPoints when 0, at
// most MaxPointsPerSeries) bounds the regular points; events are added only
// while there are at most MaxEventPoints of them (dropped reports that).
func Grid(from, to time.Time, interval time.Duration, maxPoints int64, events []time.Time) (grid []time.Time, dropped bool) {
	return mergeGrid(gridTicks(from, to, interval, maxPoints), from, to, events)
}

// gridTicks are the regular points of a grid: from, every multiple of the
// step inside the range, and to. They are the same for every service of a
// query, so a query computes them once.
func gridTicks(from, to time.Time, interval time.Duration, maxPoints int64) []time.Time {
	if maxPoints <= 0 {
		maxPoints = DefaultMaxPoints
	}
	maxPoints = min(maxPoints, MaxPointsPerSeries)
	if to.Before(from) {
		return nil // a range that ends before it starts: no points
	}
	step := max(interval, to.Sub(from)/time.Duration(maxPoints), time.Second)
	ticks := make([]time.Time, 1, max(int64(to.Sub(from)/step), 0)+3)
	ticks[0] = from.UTC()
	for t := from.Truncate(step); !t.After(to); t = t.Add(step) {
		if t.After(from) {
			ticks = append(ticks, t.UTC())
		}
	}
	if to.After(ticks[len(ticks)-1]) {
		ticks = append(ticks, to.UTC())
	}
	return ticks
}

// mergeGrid adds the release events inside [from, to] to the ticks, sorted
// and without duplicates, while there are at most MaxEventPoints of them
// (dropped reports that). With no event inside, the ticks themselves are
// returned (callers do not modify a grid).
func mergeGrid(ticks []time.Time, from, to time.Time, events []time.Time) (grid []time.Time, dropped bool) {
	var evs []time.Time
	if len(events) > MaxEventPoints {
		dropped = true
	} else {
		for _, e := range events {
			if !e.Before(from) && !e.After(to) {
				evs = append(evs, e)
			}
		}
		slices.SortFunc(evs, time.Time.Compare)
	}
	if len(evs) == 0 {
		return ticks, dropped
	}
	out := make([]time.Time, 0, len(ticks)+len(evs))
	add := func(t time.Time) {
		if len(out) == 0 || t.After(out[len(out)-1]) {
			out = append(out, t.UTC())
		}
	}
	for i, k := 0, 0; i < len(ticks) || k < len(evs); {
		if k == len(evs) || (i < len(ticks) && !ticks[i].After(evs[k])) {
			add(ticks[i])
			i++
		} else {
			add(evs[k])
			k++
		}
	}
	return out, dropped
}

// Lag builds one timeseries-multi frame per (service, metric). A failed
// service gets empty frames carrying its error. Each series is computed in
// one sweep (engine.Timeline.Sweep). The points per series and per response
// are capped (MaxPointsPerSeries, MaxPointsPerResponse): when a cap bites,
// the step is coarsened and the first frame says so. When ctx ends, the
// services not drawn yet get frames carrying that error.
func Lag(ctx context.Context, results []collector.Result, metrics []string, from, to time.Time, interval time.Duration, maxPoints int64) data.Frames {
	var out data.Frames
	if maxPoints <= 0 {
		maxPoints = DefaultMaxPoints
	}
	asked := maxPoints
	if series := int64(max(len(results)*len(metrics), 1)); maxPoints*series > MaxPointsPerResponse {
		maxPoints = max(MaxPointsPerResponse/series, 2)
	}
	maxPoints = min(maxPoints, MaxPointsPerSeries)
	ticks := gridTicks(from, to, interval, maxPoints)
	lastHop, secMetric := make([]bool, len(metrics)), make([]bool, len(metrics)) // looked up once, not at every point
	for j, m := range metrics {
		lastHop[j], secMetric[j] = models.IsLastHop(m), isSecOrEOL(m)
	}
	var capNotice string
	if maxPoints < asked {
		capNotice = fmt.Sprintf("the query asks for up to %d points per series; showing at most %d (at most %d per series and %d per query): widen the interval or shorten the time range", asked, maxPoints, MaxPointsPerSeries, MaxPointsPerResponse)
	}
	for _, r := range results {
		if err := ctx.Err(); err != nil && r.Err == nil {
			r.Timeline, r.Err = nil, fmt.Errorf("not drawn: the query ended before this service was computed (%v)", context.Cause(ctx))
		}
		var (
			grid    []time.Time
			dropped bool
			hops    []engine.DeployedState // the last hop at each point, when asked
			known   []bool
		)
		// One slab of numbers per series. A series with a null (before the
		// first chart, or while the deployed version is unknown) also gets
		// pointers into its slab, from its first null on; one without is sent
		// as plain numbers, which costs the garbage collector nothing to scan.
		slabs, values := make([][]float64, len(metrics)), make([][]*float64, len(metrics))
		withDeployed := r.Timeline != nil && r.Deployed != nil && slices.ContainsFunc(metrics, models.IsLastHop)
		// The state at the range's end, and the last one with no comparison
		// with upstream, for the notices (engine.Explain).
		var last, odd engine.State
		if r.Timeline != nil {
			events := append(r.Timeline.EventTimes(from, to), secEventTimes(r, metrics, from, to)...)
			if withDeployed {
				changes, folded := r.Deployed.GridChanges(from, to, ticks, MaxDeployedEvents)
				events = append(events, changes...)
				if folded > 0 {
					r.Notices = append(r.Notices, fmt.Sprintf("%d deployed-version changes in the time range, more than %d: %d of them, each followed by another before the next point of the grid, are not drawn as steps (the value at every point is exact); narrow the time range or the interval to see them", len(changes)+folded, MaxDeployedEvents, folded))
				}
			}
			grid, dropped = mergeGrid(ticks, from, to, events)
			if withDeployed {
				hops, known = make([]engine.DeployedState, len(grid)), make([]bool, len(grid))
				if err := r.Timeline.DeployedSweep(ctx, *r.Deployed, grid, func(i int, st engine.DeployedState, ok bool) { hops[i], known[i] = st, ok }); err != nil {
					r.Timeline, r.Err, grid = nil, fmt.Errorf("not drawn: the query ended before this service was computed (%v)", context.Cause(ctx)), nil
				}
			}
		}
		if r.Timeline != nil {
			for j := range metrics {
				slabs[j] = make([]float64, len(grid))
			}
			chartSec, hopSec := newSecReader(r, true), newSecReader(r, true)
			r.Timeline.SweepEach(grid, func(i int, st *engine.State) {
				last = *st
				if st.Unknown != engine.UnknownNone && st.HasChart {
					odd = *st
				}
				for j, m := range metrics {
					v, ok := 0.0, false
					switch {
					case secMetric[j] && lastHop[j]:
						if withDeployed && st.LastHopKnown() && known[i] {
							v, ok = hopSec.number(m, hops[i].Version, st.At)
						}
					case secMetric[j]:
						v, ok = chartSec.number(m, packagedX(st), st.At)
					case lastHop[j]:
						if withDeployed && st.LastHopKnown() {
							v, ok = deployedNumber(hops[i], known[i], m)
						}
					default:
						v, ok = metricNumber(*st, m)
					}
					switch {
					case ok:
						slabs[j][i] = v
						if values[j] != nil {
							values[j][i] = &slabs[j][i]
						}
					case values[j] == nil:
						values[j] = make([]*float64, len(grid))
						for k := range i {
							values[j][k] = &slabs[j][k]
						}
					}
				}
			})
		}
		if dropped {
			r.Notices = append(slices.Clip(r.Notices), fmt.Sprintf("more than %d release and deployment events in the time range: drawn on the regular grid only, steps may look late", MaxEventPoints))
		}
		explained := append(explain(r, last), secNotices(r, metrics, last, to)...)
		if last.Unknown == engine.UnknownNone && odd.Unknown != engine.UnknownNone {
			if ex := explain(r, odd); len(ex) > 0 {
				explained = append(ex[:1], explained...) // null earlier in the range: say why
			}
		}
		for j, m := range metrics {
			if !hasSeries(r, m) {
				continue
			}
			var field *data.Field // NewField copies
			switch {
			case values[j] != nil:
				field = data.NewField(m, labels(r, m), values[j])
			case slabs[j] != nil:
				field = data.NewField(m, labels(r, m), slabs[j])
			default: // a failed service: no points
				field = data.NewField(m, labels(r, m), []*float64{})
			}
			f := data.NewFrame(r.Service.Name+" "+m,
				data.NewField("time", nil, grid),
				field.SetConfig(valueConfig(r, m)),
			)
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: typeVersion})
			if capNotice != "" && len(out) == 0 {
				f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: capNotice})
			}
			notices(f, r, explained)
			out = append(out, f)
		}
	}
	return limitNotices(out)
}

// Current builds one numeric-multi frame per (service, metric) with the value
// at the given time. A failed service keeps its series, with a null value and
// the error as a notice, so an alert rule sees that series without data
// instead of seeing it vanish.
func Current(results []collector.Result, metrics []string, at time.Time, p engine.VerdictParams) data.Frames {
	var out data.Frames
	p = p.OrDefaults()
	for _, r := range results {
		var explained []string
		if r.Timeline != nil {
			st := r.Timeline.At(at)
			explained = append(r.Timeline.Explain(st), secNotices(r, metrics, st, at)...)
		}
		for _, m := range metrics {
			if !hasSeries(r, m) {
				continue
			}
			values := []*float64{value(r, m, at, p)}
			f := data.NewFrame(r.Service.Name+" "+m,
				data.NewField(m, labels(r, m), values).SetConfig(valueConfig(r, m)))
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeNumericMulti, TypeVersion: typeVersion})
			notices(f, r, explained)
			out = append(out, f)
		}
	}
	return limitNotices(out)
}

// advisoryEvent is an advisory's publication: its id, severity and first
// patched versions (the version field holds them, comma-separated; empty
// when none is patched).
func advisoryEvent(service string, a engine.Advisory) event {
	var fixed, ranges []string
	for _, aff := range a.Affects {
		ranges = append(ranges, aff.Range.String())
		if aff.Patched != nil && !slices.Contains(fixed, aff.Patched.String()) {
			fixed = append(fixed, aff.Patched.String())
		}
	}
	fix := "no patched version"
	if len(fixed) > 0 {
		fix = "fixed in " + strings.Join(fixed, ", ")
	}
	return event{a.Published, fmt.Sprintf("%s advisory %s (%s)", service, a.ID, a.Severity),
		fmt.Sprintf("%s published: %s severity, affects %s, %s", a.ID, a.Severity, strings.Join(ranges, "; "), fix),
		service, models.EventAdvisory, strings.Join(fixed, ",")}
}

type event struct {
	t                                   time.Time
	title, text, service, kind, version string
}

// Events builds one frame of upstream and chart releases in [from, to],
// sorted by time, with the fields Grafana's annotations read: time, title,
// text and tags (comma-separated).
func Events(results []collector.Result, kinds []string, from, to time.Time) *data.Frame {
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var evs []event
	f := data.NewFrame("events")
	for _, r := range results {
		notices(f, r, nil)
		if r.Timeline == nil {
			continue
		}
		s := r.Service
		in := func(t time.Time) bool { return !t.Before(from) && !t.After(to) }
		if want[models.EventUpstream] {
			for _, u := range r.Timeline.Upstream {
				if in(u.Time) {
					evs = append(evs, event{u.Time, fmt.Sprintf("%s %s released", s.Name, u.Version),
						fmt.Sprintf("%s published %s (%s)", s.Upstream.Repo, u.Tag, s.Upstream.Source), s.Name, models.EventUpstream, u.Version.String()})
				}
			}
		}
		if want[models.EventDeployed] && r.Deployed != nil {
			changes := r.Deployed.Changes(from, to)
			if n := len(changes); n > MaxDeployedEvents {
				// A flipping version label: annotations by the thousand
				// help nobody and weigh on the browser.
				f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: fmt.Sprintf("%s: %d deployed-version changes in the time range, more than %d: only the newest %d are listed; narrow the time range to see the others", s.Name, n, MaxDeployedEvents, MaxDeployedEvents)})
				changes = changes[n-MaxDeployedEvents:]
			}
			for _, c := range changes {
				text := fmt.Sprintf("%s runs %s (first seen)", s.Name, c.Version)
				if c.From != nil {
					text = fmt.Sprintf("%s runs %s, was %s", s.Name, c.Version, c.From)
				}
				evs = append(evs, event{c.At, fmt.Sprintf("%s %s deployed", s.Name, c.Version), text, s.Name, models.EventDeployed, c.Version.String()})
			}
		}
		if want[models.EventForecast] {
			// Forecasts look ahead: they are kept when they fall after the
			// range's start, also beyond its end.
			fcs, reason := r.Timeline.Forecasts(to, engine.DefaultForecastWindow)
			if reason != "" {
				f.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: s.Name + ": " + reason})
			}
			for _, fc := range fcs {
				if fc.P50.Before(from) && fc.P90.Before(from) {
					continue
				}
				state := "expected"
				if fc.Overdue {
					state = "overdue"
				}
				evs = append(evs, event{fc.P50, fmt.Sprintf("%s %s %s in chart %s", s.Name, fc.Release.Version, state, s.Chart.Name),
					fmt.Sprintf("%s %s, published %s, is not in a chart yet: likely shipped by %s (p50), by %s (p90), judging by the packaging delays of up to %d recent shipped releases",
						s.Upstream.Repo, fc.Release.Tag, fc.Release.Time.Format(time.DateOnly), fc.P50.Format(time.DateOnly), fc.P90.Format(time.DateOnly), engine.DefaultForecastWindow),
					s.Name, models.EventForecast, fc.Release.Version.String()})
			}
		}
		if want[models.EventAdvisory] && r.Security != nil {
			for _, a := range r.Security.Advisories() {
				if in(a.Published) {
					evs = append(evs, advisoryEvent(s.Name, a))
				}
			}
		}
		if want[models.EventEOL] && r.Cycles != nil {
			for _, c := range r.Cycles.List() {
				if !c.EOL.IsZero() && in(c.EOL) {
					evs = append(evs, event{c.EOL, fmt.Sprintf("%s %s end of life", s.Name, c.Name),
						fmt.Sprintf("cycle %s of endoflife.date product %s gets no more fixes from %s", c.Name, r.Cycles.Product, c.EOL.Format(time.DateOnly)),
						s.Name, models.EventEOL, c.Name})
				}
			}
		}
		if want[models.EventChart] {
			for _, c := range r.Timeline.Charts {
				if in(c.Created) {
					evs = append(evs, event{c.Created, fmt.Sprintf("chart %s %s ships %s", s.Chart.Name, c.Version, c.App),
						fmt.Sprintf("Helm chart %s %s (%s %s) published in %s", s.Chart.Name, c.Version, s.Chart.VersionFrom, c.RawApp, s.Chart.Repository),
						s.Name, models.EventChart, c.Version.String()})
				}
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].t.Before(evs[j].t) })
	n := len(evs)
	ts, title, text, tags := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	service, kind, version := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range evs {
		ts[i], title[i], text[i] = e.t, e.title, e.text
		tags[i] = strings.Join([]string{"lagwatch", e.service, e.kind}, ",")
		service[i], kind[i], version[i] = e.service, e.kind, e.version
	}
	f.Fields = append(f.Fields,
		data.NewField("time", nil, ts),
		data.NewField("title", nil, title),
		data.NewField("text", nil, text),
		data.NewField("tags", nil, tags),
		data.NewField("service", nil, service),
		data.NewField("kind", nil, kind),
		data.NewField("version", nil, version),
	)
	limitNotices(data.Frames{f})
	return f
}
