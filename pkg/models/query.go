package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
)

// Query types. The type travels in the standard DataQuery "queryType" field.
const (
	QueryLag     = "lag"     // timeseries-multi: one frame per (service, metric)
	QueryCurrent = "current" // numeric-multi: one number per (service, metric) at the range end
	QueryStatus  = "status"  // table: one row per service
	QueryEvents  = "events"  // table of upstream and chart releases, for annotations
)

// Metrics of the lag and current query types.
const (
	MetricLag            = "lag"
	MetricVersionsBehind = "versions_behind"
	MetricDrift          = "drift"
	MetricChartAge       = "chart_age"
	MetricIsCurrent      = "is_current"
	// The last hop (lag-metrics.md): null when no deployed version is known.
	MetricDeployedVersionsBehind = "deployed_versions_behind"
	MetricDeployedLag            = "deployed_lag"
	MetricRolloutLag             = "rollout_lag"
	// Security fixes and end of life (lag-metrics.md): null when the service
	// names no advisories (no eol product), or the version has no cycle.
	MetricSecurityFixesBehind = "security_fixes_behind"
	MetricSecurityLag         = "security_lag"
	MetricSecuritySeverity    = "security_severity"
	MetricEOL                 = "eol"
	MetricSupportLeft         = "support_left"
	// Their last hop: the same with x = deployed(t).
	MetricDeployedSecurityFixesBehind = "deployed_security_fixes_behind"
	MetricDeployedSecurityLag         = "deployed_security_lag"
	MetricDeployedSecuritySeverity    = "deployed_security_severity"
	MetricDeployedEOL                 = "deployed_eol"
	MetricDeployedSupportLeft         = "deployed_support_left"
	// MetricVerdict is the velocity verdict coded 0–4 (engine.Verdict.Code);
	// current queries only.
	MetricVerdict = "verdict"
)

// Event kinds of the events query type.
const (
	EventUpstream = "upstream"
	EventChart    = "chart"
	EventDeployed = "deployed" // the deployed version changed
	EventForecast = "forecast" // expected ship time of an open upstream release
	EventAdvisory = "advisory" // an advisory of the upstream's package published
	EventEOL      = "eol"      // a release cycle's end of life
)

// QueryTypes and Metrics list the accepted values, in display order.
var (
	QueryTypes = []string{QueryLag, QueryCurrent, QueryStatus, QueryEvents}
	Metrics    = []string{MetricLag, MetricVersionsBehind, MetricDrift, MetricChartAge, MetricIsCurrent,
		MetricDeployedVersionsBehind, MetricDeployedLag, MetricRolloutLag,
		MetricSecurityFixesBehind, MetricSecurityLag, MetricSecuritySeverity, MetricEOL, MetricSupportLeft,
		MetricDeployedSecurityFixesBehind, MetricDeployedSecurityLag, MetricDeployedSecuritySeverity, MetricDeployedEOL, MetricDeployedSupportLeft,
		MetricVerdict}
	EventKinds = []string{EventUpstream, EventChart, EventDeployed, EventForecast, EventAdvisory, EventEOL}
	// CurrentOnlyMetrics have one value at a time, not a history.
	CurrentOnlyMetrics = []string{MetricVerdict}
	// LastHopMetrics read the deployed version.
	LastHopMetrics = []string{MetricDeployedVersionsBehind, MetricDeployedLag, MetricRolloutLag,
		MetricDeployedSecurityFixesBehind, MetricDeployedSecurityLag, MetricDeployedSecuritySeverity, MetricDeployedEOL, MetricDeployedSupportLeft}
	// SecurityMetrics read advisories, EOLMetrics end-of-life cycles: for the
	// chart, then for the last hop.
	SecurityMetrics = []string{MetricSecurityFixesBehind, MetricSecurityLag, MetricSecuritySeverity,
		MetricDeployedSecurityFixesBehind, MetricDeployedSecurityLag, MetricDeployedSecuritySeverity}
	EOLMetrics = []string{MetricEOL, MetricSupportLeft, MetricDeployedEOL, MetricDeployedSupportLeft}
	// LagMetrics are the metrics of lag queries: all but the current-only ones.
	LagMetrics = slices.Clip(Metrics[:len(Metrics)-len(CurrentOnlyMetrics)])
)

// Query is the JSON model of one Lagwatch query; src/types.ts declares the same
// shape and both sides are tested against testdata/queries/*.json.
type Query struct {
	QueryType  string   `json:"queryType,omitempty"`
	Services   []string `json:"services,omitempty"`   // service names; empty means all
	Maintainer string   `json:"maintainer,omitempty"` // only services with this maintainer; empty means any
	Metrics    []string `json:"metrics,omitempty"`    // lag and current; empty means ["lag"]
	EventKinds []string `json:"eventKinds,omitempty"` // events; empty means all
	// DeployedVersion is the what-if version ("if we ran X"): the deployed
	// version of every service of this query, instead of the catalog's.
	DeployedVersion string `json:"deployedVersion,omitempty"`
	// MinSeverity counts only advisories rated at least this (one of
	// MinSeverities) in the security metrics and the status table's
	// advisory columns; empty means every advisory counts.
	MinSeverity string `json:"minSeverity,omitempty"`
}

// MinSeverities are the accepted values of a query's minSeverity, lowest first.
var MinSeverities = []string{"low", "medium", "high", "critical"}

// ParseQuery reads a query's JSON, applies defaults and rejects unknown values.
// queryType may also come from the DataQuery envelope; a non-empty envelope value wins.
func ParseQuery(raw json.RawMessage, envelopeType string) (Query, error) {
	var q Query
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &q); err != nil {
			return q, fmt.Errorf("query JSON: %w", err)
		}
	}
	if envelopeType != "" {
		q.QueryType = envelopeType
	}
	if q.QueryType == "" {
		q.QueryType = QueryLag
	}
	if !contains(QueryTypes, q.QueryType) {
		return q, fmt.Errorf("queryType %q is not one of %s", q.QueryType, strings.Join(QueryTypes, ", "))
	}
	if len(q.Metrics) == 0 {
		q.Metrics = []string{MetricLag}
	}
	// A repeated metric would give two series with one label set, which
	// alerting rejects: each counts once.
	q.Metrics, q.EventKinds = unique(q.Metrics), unique(q.EventKinds)
	for _, m := range q.Metrics {
		if !contains(Metrics, m) {
			return q, fmt.Errorf("metric %q is not one of %s", m, strings.Join(Metrics, ", "))
		}
	}
	if q.QueryType == QueryLag {
		for _, m := range q.Metrics {
			if contains(CurrentOnlyMetrics, m) {
				return q, fmt.Errorf("metric %q has no history: use it in a current query or read the verdict column of the status table", m)
			}
		}
	}
	if len(q.EventKinds) == 0 {
		q.EventKinds = EventKinds
	}
	for _, k := range q.EventKinds {
		if !contains(EventKinds, k) {
			return q, fmt.Errorf("event kind %q is not one of %s", k, strings.Join(EventKinds, ", "))
		}
	}
	if err := unreplaced("services", q.Services...); err != nil {
		return q, err
	}
	if err := unreplaced("maintainer", q.Maintainer); err != nil {
		return q, err
	}
	q.Services = services(q.Services)
	q.DeployedVersion = strings.TrimSpace(q.DeployedVersion)
	if err := unreplaced("deployedVersion", q.DeployedVersion); err != nil {
		return q, err
	}
	if q.DeployedVersion != "" {
		if q.QueryType == QueryEvents {
			return q, errors.New("deployedVersion (what-if version) applies to lag, current and status queries, not events: remove it")
		}
		if _, err := engine.PinnedDeployed(q.DeployedVersion); err != nil {
			return q, fmt.Errorf("deployedVersion (what-if version): %v", err)
		}
	}
	q.MinSeverity = strings.TrimSpace(q.MinSeverity)
	if q.MinSeverity != "" {
		if q.QueryType == QueryEvents {
			return q, errors.New("minSeverity (minimum severity) applies to lag, current and status queries, not events: remove it")
		}
		if !contains(MinSeverities, q.MinSeverity) {
			return q, fmt.Errorf("minSeverity %q is not one of %s", q.MinSeverity, strings.Join(MinSeverities, ", "))
		}
	}
	return q, nil
}

// Severity is the query's minimum severity as a code; SeverityNone (every
// advisory counts) when it sets none.
func (q Query) Severity() engine.Severity {
	s, _ := engine.ParseSeverity(q.MinSeverity)
	return s
}

// MaxDuration is the longest duration Lagwatch accepts anywhere (a query's
// time range, a CLI duration flag): the whole days a time.Duration holds,
// 106751 days (about 292 years). Anything longer wraps around or saturates.
const MaxDuration = math.MaxInt64 / (24 * time.Hour) * (24 * time.Hour)

// CheckTimeRange refuses a query time range longer than MaxDuration: its
// length does not fit in a time.Duration, and the lag grid, sized by the
// saturated length, drew 18 820 points per series for 1700–2200 where the
// ceiling is 11 000, and Prometheus range queries got a one-minute step.
func CheckTimeRange(from, to time.Time) error {
	if to.Sub(from) > MaxDuration { // Sub saturates above it
		return fmt.Errorf("the time range %s to %s is longer than %d days (about 292 years), the longest a query covers: shorten the time range",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), MaxDuration/(24*time.Hour))
	}
	return nil
}

// variableRe matches a template variable Grafana left as it was: $name,
// ${name}, ${name:csv}, [[name]].
var variableRe = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_]\w*|\[\[[^\]]*\]\]`)

// unreplaced reports a template variable Grafana did not replace (the
// dashboard does not define it), instead of answering for no service.
func unreplaced(field string, values ...string) error {
	for _, v := range values {
		if m := variableRe.FindString(v); m != "" && m != "$__all" {
			return fmt.Errorf("%s: template variable %s was not replaced: check that the dashboard defines it", field, m)
		}
	}
	return nil
}

// services splits entries on commas (a multi-value variable interpolated as
// csv, or as a glob {a,b}), trims names and drops empty ones and repeats. Grafana's "All" markers
// ($__all, *, All) anywhere mean every service (an empty list). It reads names
// exactly as normalizeNames in src/queryModel.ts; both are tested against
// testdata/queries/services-normalisation.json.
func services(entries []string) []string {
	var out []string
	for _, e := range entries {
		// A multi-value variable in Grafana's glob format: {a,b}.
		if t := strings.TrimSpace(e); strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			e = t[1 : len(t)-1]
		}
		for _, n := range strings.Split(e, ",") {
			n = strings.TrimSpace(n)
			switch n {
			case "$__all", "*", "All":
				return nil
			case "":
				continue
			}
			out = append(out, n)
		}
	}
	return unique(out)
}

// unique keeps the first of each value, in order.
func unique(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// NeedsDeployed reports whether the query reads deployed versions: a
// last-hop metric, the status table, or deployed events.
func (q Query) NeedsDeployed() bool {
	switch q.QueryType {
	case QueryStatus:
		return true
	case QueryEvents:
		return contains(q.EventKinds, EventDeployed)
	}
	return slices.ContainsFunc(q.Metrics, IsLastHop)
}

// IsLastHop reports whether a metric reads the deployed version.
func IsLastHop(metric string) bool { return contains(LastHopMetrics, metric) }

// IsSecurity reports whether a metric reads advisories.
func IsSecurity(metric string) bool { return contains(SecurityMetrics, metric) }

// IsEOL reports whether a metric reads end-of-life cycles.
func IsEOL(metric string) bool { return contains(EOLMetrics, metric) }
