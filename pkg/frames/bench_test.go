package frames_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/collector"
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

// BenchmarkLagSecurity100Services90Days: the security metrics of the chart
// and the last hop (what the "Security and support" row draws) for 100
// services, each Ollama with its 16 advisories from golang/vulndb and a
// deployed 0.1.32, over 90 days at 1 h (2 161 grid points plus events).
func BenchmarkLagSecurity100Services90Days(b *testing.B) {
	one := secResults(b)[0]
	rs := make([]collector.Result, 100)
	for i := range rs {
		rs[i] = one
		rs[i].Service.Name = fmt.Sprintf("ollama-%d", i)
	}
	from, to := ts("2025-06-01T00:00:00Z"), ts("2025-08-30T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		fs := frames.Lag(context.Background(), rs, models.SecurityMetrics, from, to, time.Hour, 0)
		if len(fs) != 600 {
			b.Fatal(len(fs))
		}
	}
}
