package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/engine"
)

// row is one row of the status frame, keyed by field name. Values are
// string, int64, float64 (seconds), time.Time, or nil when null.
type row map[string]any

// statusRows reads the status frame (frames.Status, the same table the
// plugin's status query returns) into rows.
func statusRows(f *data.Frame) []row {
	n, _ := f.RowLen()
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{}
		for _, fd := range f.Fields {
			var v any
			switch x := fd.At(i).(type) {
			case *int64:
				if x != nil {
					v = *x
				}
			case *float64:
				if x != nil {
					v = *x
				}
			case *time.Time:
				if x != nil {
					v = x.UTC()
				}
			default:
				v = x
			}
			rows[i][fd.Name] = v
		}
	}
	return rows
}

func (r row) str(k string) string {
	s, _ := r[k].(string)
	return s
}

// columns of the table: header and how to format the value.
var columns = []struct {
	header string
	cell   func(row) string
}{
	{"SERVICE", func(r row) string { return r.str("service") }},
	{"MAINTAINER", func(r row) string { return r.str("maintainer") }},
	{"CHART", func(r row) string { return r.str("chart") + " " + r.str("chart_version") }},
	{"PACKAGED", func(r row) string { return orDash(r.str("packaged")) }},
	{"UPSTREAM LATEST", func(r row) string { return orDash(r.str("upstream_latest")) }},
	{"BEHIND", func(r row) string { return integer(r["versions_behind"]) }},
	{"LAG", func(r row) string { return days(r["lag"]) }},
	{"CHART AGE", func(r row) string { return days(r["chart_age"]) }},
	{"LAST CHART", func(r row) string { return date(r["last_chart_release"]) }},
	{"DELAY MEDIAN", func(r row) string { return days(r["delay_median"]) }},
	{"DELAY P90", func(r row) string { return days(r["delay_p90"]) }},
	{"OPEN", func(r row) string { return integer(r["open_releases"]) }},
	{"SECURITY", func(r row) string { return security(r, "") }},
	{"EOL", func(r row) string { return endOfLife(r, "") }},
	{"DEPLOYED", func(r row) string { return orDash(r.str("deployed")) }},
	{"DEPLOYED LAG", func(r row) string { return days(r["deployed_lag"]) }},
	{"ROLLOUT LAG", func(r row) string { return days(r["rollout_lag"]) }},
	{"DEPLOYED SECURITY", func(r row) string { return security(r, "deployed_") }},
	{"DEPLOYED EOL", func(r row) string { return endOfLife(r, "deployed_") }},
	{"VERDICT", func(r row) string { return orDash(r.str("verdict")) }},
	{"NEXT SHIP", func(r row) string { return date(r["next_expected_ship"]) }},
	{"OVERDUE", func(r row) string { return integer(r["overdue_releases"]) }},
}

func writeTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = c.cell(r)
		}
		if e := r.str("error"); e != "" {
			cells[3] = "FAILED"
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeJSON prints the status rows with the frame's field names; durations
// are seconds, times RFC3339, missing values null.
func writeJSON(w io.Writer, at, from time.Time, minSeverity engine.Severity, rows []row) error {
	out := struct {
		At   time.Time `json:"at"`
		From time.Time `json:"from"`
		// MinSeverity is --min-severity: the security fields count only
		// advisories rated at least this; absent, every advisory counts.
		MinSeverity string `json:"minSeverity,omitempty"`
		Services    []row  `json:"services"`
	}{At: at, From: from, Services: rows}
	if minSeverity > engine.SeverityNone {
		out.MinSeverity = minSeverity.String()
	}
	if out.Services == nil {
		out.Services = []row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// security is the compact security cell: "0" when no released fix is
// missing, else "2 high 51d" (fixes behind, the highest severity, how long
// the oldest missing fix has been out); "-" when null. prefix is "" for the
// chart, "deployed_" for the last hop.
func security(r row, prefix string) string {
	n, ok := r[prefix+"security_fixes_behind"].(int64)
	switch {
	case !ok:
		return "-"
	case n == 0:
		return "0"
	}
	sev := "-"
	if c, ok := r[prefix+"security_severity"].(int64); ok && c >= int64(engine.SeverityNone) && c <= int64(engine.SeverityCritical) {
		sev = engine.Severity(c).String()
	}
	return fmt.Sprintf("%d %s %s", n, sev, days(r[prefix+"security_lag"]))
}

// endOfLife is the compact end-of-life cell: the cycle's EOL date, with
// "ended" once it has passed; "no date" for a cycle that has not ended and
// has no date; "-" when null.
func endOfLife(r row, prefix string) string {
	flag, ok := r[prefix+"eol"].(int64)
	if !ok {
		return "-"
	}
	d := date(r[prefix+"eol_date"])
	switch {
	case d == "-":
		return "no date"
	case flag == 1:
		return d + " ended"
	}
	return d
}

func integer(v any) string {
	if n, ok := v.(int64); ok {
		return fmt.Sprint(n)
	}
	return "-"
}

// days formats seconds as human days: 0, 5h, 3.9d, 125d.
func days(v any) string {
	s, ok := v.(float64)
	if !ok {
		return "-"
	}
	switch d := s / 86400; {
	case s == 0:
		return "0"
	case d < 1:
		return fmt.Sprintf("%.0fh", math.Max(1, math.Round(s/3600)))
	case d < 10:
		return fmt.Sprintf("%.1fd", d)
	default:
		return fmt.Sprintf("%.0fd", d)
	}
}

func date(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.DateOnly)
	}
	return "-"
}

// requestCounter counts the requests a report sends, by kind, so a run shows
// what it costs against GitHub's rate limits.
type requestCounter struct {
	next       http.RoundTripper
	githubHost string
	promHost   string
	eolHost    string

	mu                                                         sync.Mutex
	rest, notModified, graphql, helm, prom, e, advisories, eol int
}

// requestCounter counts the requests sent to the hosts the flags name
// (--github-url, --prometheus-url, --eol-url); any other host is a chart
// repository or registry.
func (o *sourceOptions) requestCounter() *requestCounter {
	return &requestCounter{next: http.DefaultTransport, githubHost: host(o.githubURL), promHost: host(o.promURL), eolHost: host(o.eolURL)}
}

// host is the host of a URL the flags checked, "" for none.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Rebase counts the requests sent through base as well (sources.Rebaser:
// redirects of public content followed to a CDN).
func (c *requestCounter) Rebase(base http.RoundTripper) http.RoundTripper {
	return rebased{c, base}
}

type rebased struct {
	c    *requestCounter
	base http.RoundTripper
}

func (r rebased) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	r.c.count(req, resp, err)
	return resp, err
}

func (c *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	c.count(req, resp, err)
	return resp, err
}

func (c *requestCounter) count(req *http.Request, resp *http.Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.promHost != "" && strings.EqualFold(req.URL.Host, c.promHost):
		c.prom++
	case c.eolHost != "" && strings.EqualFold(req.URL.Host, c.eolHost):
		c.eol++
	case !strings.EqualFold(req.URL.Host, c.githubHost):
		c.helm++
	case strings.HasSuffix(req.URL.Path, "/graphql"):
		c.graphql++
	default:
		c.rest++
		if strings.HasSuffix(req.URL.Path, "/advisories") {
			c.advisories++
		}
		if err == nil && resp.StatusCode == http.StatusNotModified {
			c.notModified++
		}
	}
	if err != nil {
		c.e++
	}
}

// followedSummary names the hosts that public content (Helm indexes, OCI
// blobs) was read from through a redirect: they are not in the catalog.
func followedSummary(followed map[string]int) string {
	if len(followed) == 0 {
		return ""
	}
	hosts := make([]string, 0, len(followed))
	total := 0
	for h, n := range followed {
		hosts = append(hosts, fmt.Sprintf("%s ×%d", h, n))
		total += n
	}
	sort.Strings(hosts)
	return fmt.Sprintf(", redirects followed to other hosts %d (%s)", total, strings.Join(hosts, ", "))
}

func (c *requestCounter) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	advisories := ""
	if c.advisories > 0 {
		advisories = fmt.Sprintf(", %d for advisories", c.advisories)
	}
	s := fmt.Sprintf("requests: GitHub REST %d (%d answered 304%s), GitHub GraphQL %d, chart repositories and registries %d",
		c.rest, c.notModified, advisories, c.graphql, c.helm)
	if c.prom > 0 {
		s += fmt.Sprintf(", Prometheus %d", c.prom)
	}
	if c.eol > 0 {
		s += fmt.Sprintf(", endoflife.date %d", c.eol)
	}
	if c.e > 0 {
		s += fmt.Sprintf(", %d failed before an answer", c.e)
	}
	return s
}
