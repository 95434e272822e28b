package frames_test

import (
	"context"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// BenchmarkLagYearHourly is a dashboard refresh of the lag panel: two real
// services (Ollama: 245 releases, 163 charts; ChromaDB), all five metrics, one
// year at a one-hour interval capped at 1000 points plus every release event.
func BenchmarkLagYearHourly(b *testing.B) {
	rs := results(&testing.T{})[:2]
	from, to := ts("2025-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		fs := frames.Lag(context.Background(), rs, chartMetrics, from, to, time.Hour, 1000)
		if len(fs) != 10 {
			b.Fatal(len(fs))
		}
	}
}

// BenchmarkCurrent is one alert rule evaluation over the same two services.
func BenchmarkCurrent(b *testing.B) {
	rs := results(&testing.T{})[:2]
	at := ts("2026-01-01T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		frames.Current(rs, chartMetrics, at, engine.VerdictParams{})
	}
}

// chartMetrics are the five metrics of the chart's state, as benchmarked
// before the last hop existed (docs/benchmarks.md).
var chartMetrics = []string{models.MetricLag, models.MetricVersionsBehind, models.MetricDrift, models.MetricChartAge, models.MetricIsCurrent}
