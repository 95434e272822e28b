// Package exporter serves Lagwatch's numbers as Prometheus metrics: one
// fetcher for many Grafanas. It collects every service of a catalog with the
// same sources and engine as the plugin, on a schedule, turns the `current`
// frames (pkg/frames, where every number is built) into gauges, and serves
// the last snapshot on /metrics. A scrape never triggers a fetch.
package exporter

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricNames maps Lagwatch metrics to Prometheus names and help texts.
var metricNames = map[string][2]string{
	models.MetricLag:                         {"lagwatch_lag_seconds", "How long the packaged version has been outdated: now minus the publish time of the oldest upstream release newer than it; 0 when current; absent when the packaged version cannot be compared with upstream (no upstream version, or a packaged version above every upstream one: see the notices of lagwatch report)."},
	models.MetricVersionsBehind:              {"lagwatch_versions_behind", "Upstream releases published so far that are newer (semver) than the packaged version; absent when that cannot be compared."},
	models.MetricDrift:                       {"lagwatch_drift_seconds", "Publish time of the newest upstream release minus that of the packaged one (libyear); absent when the packaged version is no upstream release."},
	models.MetricChartAge:                    {"lagwatch_chart_age_seconds", "Time since the chart last released anything."},
	models.MetricIsCurrent:                   {"lagwatch_is_current", "1 when no upstream release is newer than the packaged version, else 0; absent when that cannot be compared."},
	models.MetricDeployedVersionsBehind:      {"lagwatch_deployed_versions_behind", "Upstream releases published so far that are newer (semver) than the deployed version; absent when no deployed version is known."},
	models.MetricDeployedLag:                 {"lagwatch_deployed_lag_seconds", "Now minus the publish time of the oldest upstream release newer than the deployed version (the whole pipeline); 0 when none."},
	models.MetricRolloutLag:                  {"lagwatch_rollout_lag_seconds", "Now minus the time of the first chart shipping something newer than the deployed version (chart to cluster); 0 when none."},
	models.MetricSecurityFixesBehind:         {"lagwatch_security_fixes_behind", "Advisories of the upstream's package that affect the packaged version and whose fix upstream has released; absent when the service names no advisories."},
	models.MetricSecurityLag:                 {"lagwatch_security_lag_seconds", "Now minus the release time of the oldest released fix missing from the packaged version; 0 when none; absent when the service names no advisories."},
	models.MetricSecuritySeverity:            {"lagwatch_security_severity", "Highest severity of the advisories counted in lagwatch_security_fixes_behind: 0 none, 1 low, 2 medium, 3 high, 4 critical; absent when the service names no advisories."},
	models.MetricEOL:                         {"lagwatch_eol", "1 when the packaged version's release cycle is past its end of life (endoflife.date), else 0; absent when the service names no eol product or the version has no cycle."},
	models.MetricSupportLeft:                 {"lagwatch_support_left_seconds", "End of life of the packaged version's cycle minus now (negative after the end); absent when unknown."},
	models.MetricDeployedSecurityFixesBehind: {"lagwatch_deployed_security_fixes_behind", "lagwatch_security_fixes_behind for the deployed version."},
	models.MetricDeployedSecurityLag:         {"lagwatch_deployed_security_lag_seconds", "lagwatch_security_lag_seconds for the deployed version."},
	models.MetricDeployedSecuritySeverity:    {"lagwatch_deployed_security_severity", "lagwatch_security_severity for the deployed version."},
	models.MetricDeployedEOL:                 {"lagwatch_deployed_eol", "lagwatch_eol for the deployed version."},
	models.MetricDeployedSupportLeft:         {"lagwatch_deployed_support_left_seconds", "lagwatch_support_left_seconds for the deployed version."},
	models.MetricVerdict:                     {"lagwatch_verdict", "Velocity verdict: 0 no data, 1 chart keeps up, 2 chart mostly keeps up, 3 chart lags: consider a native install, 4 possibly abandoned."},
}

// serviceLabels are the labels of every series, as in the frames (the
// metric label is the metric name here).
var serviceLabels = []string{"service", "chart", "repo", "maintainer"}

// Exporter holds the last snapshot and the exporter's own counters.
type Exporter struct {
	collector *collector.Collector
	services  []catalog.Service
	verdict   engine.VerdictParams
	now       func() time.Time

	mu       sync.RWMutex
	snapshot data.Frames // current frames of the last refresh
	failed   map[string]bool
	last     time.Time

	registry  *prometheus.Registry
	refreshes prometheus.Counter
	errors    *prometheus.CounterVec
	lastTime  prometheus.Gauge
	duration  prometheus.Gauge
}

// Config configures an Exporter.
type Config struct {
	Collector *collector.Collector
	Services  []catalog.Service
	Verdict   engine.VerdictParams // the spec's defaults where zero
	Now       func() time.Time     // time.Now when nil
	// Requests, when set, counts the HTTP requests of the sources (see
	// InstrumentTransport) and is registered with the exporter's metrics.
	Requests *prometheus.CounterVec
}

// New returns an Exporter; call Refresh (or Run) before it has numbers.
func New(cfg Config) *Exporter {
	e := &Exporter{collector: cfg.Collector, services: cfg.Services, verdict: cfg.Verdict, now: cfg.Now, registry: prometheus.NewRegistry()}
	if e.now == nil {
		e.now = time.Now
	}
	e.refreshes = prometheus.NewCounter(prometheus.CounterOpts{Name: "lagwatch_exporter_refreshes_total", Help: "Refreshes of every service of the catalog."})
	e.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lagwatch_exporter_refresh_errors_total", Help: "Services that failed in a refresh, by service."}, []string{"service"})
	e.lastTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lagwatch_exporter_last_refresh_timestamp_seconds", Help: "When the last refresh finished (Unix time)."})
	e.duration = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lagwatch_exporter_refresh_duration_seconds", Help: "How long the last refresh took."})
	e.registry.MustRegister(e, e.refreshes, e.errors, e.lastTime, e.duration)
	if cfg.Requests != nil {
		e.registry.MustRegister(cfg.Requests)
	}
	return e
}

// NewRequestCounter is the counter InstrumentTransport fills.
func NewRequestCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lagwatch_exporter_http_requests_total", Help: "HTTP requests the sources sent, by host and status code (0: no answer)."}, []string{"host", "code"})
}

// InstrumentTransport counts every request of next by host and status code.
func InstrumentTransport(next http.RoundTripper, requests *prometheus.CounterVec) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return instrumented{next: next, requests: requests}
}

type instrumented struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec
}

func (t instrumented) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	code := "0"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.requests.WithLabelValues(req.URL.Host, code).Inc()
	return resp, err
}

// Rebase counts the requests of base too (sources.Rebaser: the redirects
// of public content the allow-list follows to a CDN).
func (t instrumented) Rebase(base http.RoundTripper) http.RoundTripper {
	return instrumented{next: base, requests: t.requests}
}

// Refresh collects every service and replaces the snapshot.
func (e *Exporter) Refresh(ctx context.Context) {
	start := e.now()
	results := e.collector.Collect(ctx, e.services, nil)
	at := e.now()
	e.collector.AddDeployed(ctx, results, collector.DeployedRange{From: at, To: at})
	fs := frames.Current(results, models.Metrics, at, e.verdict)
	failed := map[string]bool{}
	for _, r := range results {
		if r.Err != nil {
			failed[r.Service.Name] = true
			e.errors.WithLabelValues(r.Service.Name).Inc()
		}
	}
	e.mu.Lock()
	e.snapshot, e.failed, e.last = fs, failed, at
	e.mu.Unlock()
	e.refreshes.Inc()
	e.lastTime.Set(float64(at.UnixMilli()) / 1000)
	e.duration.Set(e.now().Sub(start).Seconds())
}

// Run refreshes now and then every interval until ctx ends.
func (e *Exporter) Run(ctx context.Context, every time.Duration) {
	e.Refresh(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.Refresh(ctx)
		}
	}
}

// Describe implements prometheus.Collector. The series change with the
// catalog and the data, so the collector is unchecked.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: one gauge per service and metric
// of the last snapshot; a null value (a failed service, no chart yet) is
// left out, and lagwatch_service_up says which services failed.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	fs, failed := e.snapshot, e.failed
	e.mu.RUnlock()
	up := prometheus.NewDesc("lagwatch_service_up", "1 when the service's upstream and chart were read in the last refresh, else 0.", serviceLabels, nil)
	seen := map[string]bool{}
	for _, f := range fs {
		field := f.Fields[0]
		l := field.Labels
		values := []string{l["service"], l["chart"], l["repo"], l["maintainer"]}
		if !seen[l["service"]] {
			seen[l["service"]] = true
			v := 1.0
			if failed[l["service"]] {
				v = 0
			}
			ch <- prometheus.MustNewConstMetric(up, prometheus.GaugeValue, v, values...)
		}
		name, ok := metricNames[l["metric"]]
		if !ok {
			continue
		}
		x, ok := field.ConcreteAt(0)
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name[0], name[1], serviceLabels, nil), prometheus.GaugeValue, x.(float64), values...)
	}
}

// Handler serves /metrics and /healthz.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		e.mu.RLock()
		last, failed, total := e.last, len(e.failed), len(e.services)
		e.mu.RUnlock()
		if last.IsZero() {
			http.Error(w, "not ready: the first refresh of the catalog has not finished", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok: last refresh %s, %d of %d services failed\n", last.UTC().Format(time.RFC3339), failed, total)
	})
	return mux
}
