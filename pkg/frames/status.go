package frames

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// statusRow is what the status table knows of one service at its time,
// computed once; the columns read their values from it.
type statusRow struct {
	r      *collector.Result
	at     time.Time    // the table's time
	failed bool         // r.Err: every measured column is null
	st     engine.State // the chart's state at the table's time
	// measured: the state has a comparison with upstream, so the verdict's
	// code, the packaging delays, the last hop and the forecasts measure
	// something; without one they are null.
	measured bool
	ev       engine.Evidence // the verdict
	sum      engine.Summary  // packaging delays of the releases in [from, to]
	deployed string          // what runs, when known ("" when not)
	hop      engine.DeployedState
	hopKnown bool // the last hop is measured (hop is set)
	fcs      []engine.Forecast
	fcReason string // why there is no forecast ("" when there are some)
	// Security and end of life: x is the packaged version when measured,
	// hopX the deployed one when the last hop is (nil: null).
	sec     *secReader
	x, hopX *semver.Version
}

// security is the security state of the chart's (or the last hop's)
// version at the table's time; false when null.
func (row *statusRow) security(hop bool) (engine.SecurityState, bool) {
	if row.sec == nil {
		return engine.SecurityState{}, false
	}
	if hop {
		return row.sec.security(row.hopX, row.at)
	}
	return row.sec.security(row.x, row.at)
}

// eolDate is the end of life of the chart's (or the last hop's) version's
// cycle; false when null (no product, no cycle, or a cycle with no date).
func (row *statusRow) eolDate(hop bool) (time.Time, bool) {
	if row.sec == nil {
		return time.Time{}, false
	}
	x := row.x
	if hop {
		x = row.hopX
	}
	cy, ok := row.sec.cycle(x)
	if !ok || cy.EOL.IsZero() {
		return time.Time{}, false
	}
	return cy.EOL, true
}

// securityColumns are the columns of security and end of life, for the
// chart's version or (hop) the deployed one: the metrics as lag and current
// queries read them, the advisories that count (ids, comma-separated), how
// many affect the version with no patched version, and the EOL date.
func securityColumns(hop bool) []column {
	p := ""
	if hop {
		p = "deployed_"
	}
	name := func(m string) string { return p + m }
	display := func(d string) string {
		if hop {
			return "deployed " + d
		}
		return d
	}
	return []column{
		metricColumn(name(models.MetricSecurityFixesBehind), ""),
		metricColumn(name(models.MetricSecuritySeverity), "").mapped(severityMapping),
		metricColumn(name(models.MetricSecurityLag), display("security lag")),
		textColumn(name("advisories"), func(row *statusRow) string {
			st, _ := row.security(hop)
			ids := make([]string, len(st.Counting))
			for i, c := range st.Counting {
				ids[i] = c.Advisory.ID
			}
			return strings.Join(ids, ",")
		}),
		countColumn(name("advisories_unfixed"), func(row *statusRow) (int, bool) {
			st, ok := row.security(hop)
			return st.Unfixed, ok
		}),
		metricColumn(name(models.MetricEOL), ""),
		timeColumn(name("eol_date"), func(row *statusRow) (time.Time, bool) { return row.eolDate(hop) }),
		metricColumn(name(models.MetricSupportLeft), display("support left")),
	}
}

// newStatusRow reads one service at to. It adds the service's notices to f,
// in the table's order: its error or what the data says of its catalog entry,
// its own notices, then why it has no forecast.
func newStatusRow(f *data.Frame, r *collector.Result, from, to time.Time, p engine.VerdictParams) statusRow {
	row := statusRow{r: r, at: to, failed: r.Err != nil}
	if row.failed {
		notices(f, *r, nil)
		return row
	}
	row.st = r.Timeline.At(to)
	notices(f, *r, r.Timeline.Explain(row.st))
	row.ev = r.Timeline.VerdictAt(to, p)
	if row.st.Unknown != engine.UnknownNone {
		if r.Deployed != nil {
			if v := r.Deployed.At(to); v != nil {
				row.deployed = v.String() // what runs is known; how far behind it is, is not
			}
		}
		return row
	}
	row.measured = true
	row.sum = engine.Summarize(r.Timeline.Delays(to), from, to)
	if r.Deployed != nil {
		if ds, ok := r.Timeline.DeployedAt(*r.Deployed, to); ok {
			row.deployed, row.hop, row.hopKnown = ds.Version.String(), ds, true
		}
	}
	if r.Security != nil || r.Cycles != nil {
		row.sec = newSecReader(*r, false)
		row.x = packagedX(&row.st)
		if row.hopKnown {
			row.hopX = row.hop.Version
		}
		for _, n := range secNotices(*r, models.EOLMetrics, row.st, to) {
			f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: r.Service.Name + ": " + n})
		}
	}
	row.fcs, row.fcReason = r.Timeline.Forecasts(to, engine.DefaultForecastWindow)
	if row.fcReason != "" {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: r.Service.Name + ": " + row.fcReason})
	}
	return row
}

// column is one column of the status table: its name, its Grafana field
// config (unit, display name, value mappings) and its values, read from
// each service's row. The constructors below give each kind of value its
// Go type (nullable or not) and unit.
type column struct {
	name          string
	unit, display string
	mappings      data.ValueMappings
	values        func(name string, rows []statusRow) *data.Field
}

func (c column) field(rows []statusRow) *data.Field {
	fd := c.values(c.name, rows)
	if c.unit != "" || c.display != "" || c.mappings != nil {
		fd.SetConfig(&data.FieldConfig{Unit: c.unit, DisplayNameFromDS: c.display, Mappings: c.mappings})
	}
	return fd
}

// mapped shows the column's values as the mapping's words.
func (c column) mapped(m data.ValueMapper) column {
	c.mappings = data.ValueMappings{m}
	return c
}

// textColumn is a column of strings, "" where there is nothing to say.
func textColumn(name string, get func(*statusRow) string) column {
	return column{name: name, values: func(name string, rows []statusRow) *data.Field {
		vs := make([]string, len(rows))
		for i := range rows {
			vs[i] = get(&rows[i])
		}
		return data.NewField(name, nil, vs)
	}}
}

// nullable reads a column of values, null where get has none: one slab of
// values per column, pointed into.
func nullable[T int64 | float64 | time.Time](get func(*statusRow) (T, bool)) func(string, []statusRow) *data.Field {
	return func(name string, rows []statusRow) *data.Field {
		slab, vs := make([]T, len(rows)), make([]*T, len(rows))
		for i := range rows {
			if v, ok := get(&rows[i]); ok {
				slab[i], vs[i] = v, &slab[i]
			}
		}
		return data.NewField(name, nil, vs)
	}
}

// countColumn is a nullable column of whole numbers.
func countColumn(name string, get func(*statusRow) (int, bool)) column {
	return column{name: name, values: nullable(func(row *statusRow) (int64, bool) {
		v, ok := get(row)
		return int64(v), ok
	})}
}

// secondsColumn is a nullable column of durations, in seconds.
func secondsColumn(name, display string, get func(*statusRow) (time.Duration, bool)) column {
	return column{name: name, unit: "s", display: display, values: nullable(func(row *statusRow) (float64, bool) {
		v, ok := get(row)
		return v.Seconds(), ok
	})}
}

// timeColumn is a nullable column of instants.
func timeColumn(name string, get func(*statusRow) (time.Time, bool)) column {
	return column{name: name, values: nullable(get)}
}

// metricColumn is the column of one metric of lag and current queries, read
// as they read it (metricNumber, deployedNumber) and in its unit: seconds, or
// whole numbers for the metrics without a unit (counts and flags).
func metricColumn(metric, display string) column {
	read := func(row *statusRow) (float64, bool) {
		switch {
		case isSecOrEOL(metric) && row.sec == nil:
			return 0, false
		case isSecOrEOL(metric) && models.IsLastHop(metric):
			return row.sec.number(metric, row.hopX, row.at)
		case isSecOrEOL(metric):
			return row.sec.number(metric, row.x, row.at)
		case models.IsLastHop(metric):
			return deployedNumber(row.hop, row.hopKnown, metric)
		}
		return metricNumber(row.st, metric)
	}
	c := column{name: metric, unit: metricUnit(metric), display: display, values: nullable(read)}
	if c.unit == "" {
		c.values = nullable(func(row *statusRow) (int64, bool) {
			v, ok := read(row)
			return int64(v), ok
		})
	}
	return c
}

// statusColumns are the status table's columns, in order. A new metric
// family adds entries here (and, when it needs new inputs, fields to
// statusRow, read once in newStatusRow).
var statusColumns = slices.Concat([]column{
	textColumn("service", func(row *statusRow) string { return row.r.Service.Name }),
	textColumn("maintainer", func(row *statusRow) string { return row.r.Service.Maintainer }),
	textColumn("chart", func(row *statusRow) string { return row.r.Service.Chart.Name }),
	textColumn("repo", func(row *statusRow) string { return row.r.Service.Upstream.Repo }),
	textColumn("chart_version", func(row *statusRow) string {
		if !row.st.HasChart {
			return ""
		}
		return str(row.st.Chart.Version)
	}),
	textColumn("packaged", func(row *statusRow) string {
		if !row.st.HasChart {
			return ""
		}
		return str(row.st.Chart.App)
	}),
	textColumn("upstream_latest", func(row *statusRow) string {
		if row.st.UpstreamLatest == nil || row.st.Unknown != engine.UnknownNone {
			return ""
		}
		return row.st.UpstreamLatest.Version.String()
	}),
	metricColumn(models.MetricVersionsBehind, ""),
	metricColumn(models.MetricLag, "lag"),
	metricColumn(models.MetricDrift, "drift"),
	metricColumn(models.MetricChartAge, "chart age"),
	timeColumn("last_chart_release", func(row *statusRow) (time.Time, bool) { return row.st.LastChart, row.st.HasChart }),
	metricColumn(models.MetricIsCurrent, ""),
	// Packaging delays of the releases in [from, to] (a summary has a count
	// only when measured).
	countColumn("releases", func(row *statusRow) (int, bool) { return row.sum.Count, row.measured }),
	secondsColumn("delay_median", "packaging delay median", func(row *statusRow) (time.Duration, bool) { return row.sum.Median, row.sum.Count > 0 }),
	secondsColumn("delay_p90", "packaging delay p90", func(row *statusRow) (time.Duration, bool) { return row.sum.P90, row.sum.Count > 0 }),
	secondsColumn("delay_max", "packaging delay max", func(row *statusRow) (time.Duration, bool) { return row.sum.Max, row.sum.Count > 0 }),
	countColumn("open_releases", func(row *statusRow) (int, bool) { return row.sum.Open, row.measured }),
	// The last hop.
	textColumn("deployed", func(row *statusRow) string { return row.deployed }),
	metricColumn(models.MetricDeployedVersionsBehind, ""),
	metricColumn(models.MetricDeployedLag, "deployed lag"),
	metricColumn(models.MetricRolloutLag, "rollout lag"),
	// The verdict: its word whenever the service was collected, its code
	// only when measured (a verdict rule goes NoData, not OK on code 0).
	textColumn("verdict", func(row *statusRow) string { return string(row.ev.Verdict) }),
	countColumn("verdict_code", func(row *statusRow) (int, bool) { return row.ev.Verdict.Code(), row.measured }).mapped(verdictMapping),
	countColumn("verdict_releases", func(row *statusRow) (int, bool) { return row.ev.Releases, !row.failed }),
	secondsColumn("verdict_delay_median", "verdict delay median", func(row *statusRow) (time.Duration, bool) {
		return row.ev.DelayMedian, row.measured && row.ev.Releases > 0
	}),
	secondsColumn("verdict_delay_p90", "verdict delay p90", func(row *statusRow) (time.Duration, bool) {
		return row.ev.DelayP90, row.measured && row.ev.Releases > 0
	}),
	// The forecast.
	timeColumn("next_expected_ship", func(row *statusRow) (time.Time, bool) {
		if next := nextExpected(row.fcs, row.at); next != nil {
			return *next, true
		}
		return time.Time{}, false
	}),
	countColumn("overdue_releases", func(row *statusRow) (int, bool) {
		if len(row.fcs) == 0 {
			return 0, row.measured && row.fcReason == "" // nothing open: nothing overdue
		}
		od := 0
		for _, fc := range row.fcs {
			if fc.Overdue {
				od++
			}
		}
		return od, true
	}),
}, securityColumns(false), securityColumns(true), []column{
	textColumn("error", func(row *statusRow) string {
		if !row.failed {
			return ""
		}
		return row.r.Err.Error()
	}),
})

// Status builds the status table: one row per service at time to, with the
// packaging delays of the releases published in [from, to].
func Status(results []collector.Result, from, to time.Time, p engine.VerdictParams) *data.Frame {
	p = p.OrDefaults()
	f := data.NewFrame("status")
	rows := make([]statusRow, len(results))
	for i := range results {
		rows[i] = newStatusRow(f, &results[i], from, to, p)
	}
	f.Fields = make([]*data.Field, len(statusColumns))
	for j, c := range statusColumns {
		f.Fields[j] = c.field(rows)
	}
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.Meta.PreferredVisualization = data.VisTypeTable
	if len(results) > 0 && results[0].MinSeverity > engine.SeverityNone {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf("security columns count only advisories rated %s or higher (the query's minimum severity)", results[0].MinSeverity)})
	}
	limitNotices(data.Frames{f})
	return f
}

func str(v fmt.Stringer) string {
	if v == nil {
		return ""
	}
	return v.String()
}

// nextExpected is the next expected chart release at t: the earliest p50
// still ahead of t; when every p50 has passed, the earliest p90 still ahead;
// nil when all are overdue (overdue_releases counts them).
func nextExpected(fcs []engine.Forecast, t time.Time) *time.Time {
	var next *time.Time
	for _, pick := range []func(engine.Forecast) time.Time{
		func(f engine.Forecast) time.Time { return f.P50 },
		func(f engine.Forecast) time.Time { return f.P90 },
	} {
		for _, fc := range fcs {
			if at := pick(fc); !at.Before(t) && (next == nil || at.Before(*next)) {
				next = &at
			}
		}
		if next != nil {
			return next
		}
	}
	return nil
}
