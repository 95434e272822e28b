package plugin

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// scaleDatasource is an instance on 100 synthetic services (80 releases each
// over two years, charts shipping 70 % of them) served by the fakes, with
// its caches warmed by one query.
func scaleDatasource(b *testing.B) *Datasource {
	b.Helper()
	dir := b.TempDir()
	cat := fakes.SyntheticCatalog(b, dir, 100)
	gh, helm := fakes.NewGitHub(b, dir), fakes.NewHelm(b, dir)
	raw, _ := json.Marshal(map[string]any{"githubUrl": gh.URL(), "catalog": strings.ReplaceAll(cat, "HELM_URL", helm.URL()), "cacheTtl": "1h"})
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: raw, DecryptedSecureJSONData: map[string]string{"githubToken": "t"}})
	if err != nil {
		b.Fatal(err)
	}
	ds := inst.(*Datasource)
	b.Cleanup(ds.Dispose)
	return ds
}

// benchQuery runs one query per iteration and reports its 99th percentile.
func benchQuery(b *testing.B, queryType, model string, span, interval time.Duration, maxPoints int64, wantFrames int) {
	ds := scaleDatasource(b)
	to := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	req := &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: queryType, JSON: json.RawMessage(model),
		TimeRange: backend.TimeRange{From: to.Add(-span), To: to}, Interval: interval, MaxDataPoints: maxPoints,
	}}}
	run := func() {
		resp, err := ds.QueryData(context.Background(), req)
		if err != nil || resp.Responses["A"].Error != nil || len(resp.Responses["A"].Frames) != wantFrames {
			b.Fatalf("%v %v %d frames", err, resp.Responses["A"].Error, len(resp.Responses["A"].Frames))
		}
	}
	run() // cold: fills the caches
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		run()
		took = append(took, time.Since(start))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[(len(took)*99+99)/100-1].Microseconds())/1000, "p99-ms")
}

// Targets (issue "Speed and scale"): p99 ≤ 50 ms, ≤ 100 ms, ≤ 10 ms.
func BenchmarkQueryLag100Services90Days(b *testing.B) {
	benchQuery(b, "lag", `{"metrics":["lag","versions_behind"]}`, 90*24*time.Hour, time.Hour, 2161, 200)
}

func BenchmarkQueryLag100ServicesYear(b *testing.B) {
	benchQuery(b, "lag", `{"metrics":["lag","versions_behind","drift","chart_age","is_current"]}`, 365*24*time.Hour, 4*time.Hour, 2191, 500)
}

func BenchmarkQueryCurrent100Services(b *testing.B) {
	benchQuery(b, "current", `{"metrics":["lag","versions_behind","drift","chart_age","is_current"]}`, time.Hour, time.Minute, 100, 500)
}

// The last hop and the verdict for 100 services (a what-if version makes
// every service deployed): an alert rule on every hop.
func BenchmarkQueryCurrentLastHop100Services(b *testing.B) {
	benchQuery(b, "current", `{"metrics":["deployed_versions_behind","deployed_lag","rollout_lag","verdict"],"deployedVersion":"1.0.0"}`, time.Hour, time.Minute, 100, 400)
}

// The three hops of 100 services over 90 days at 1 h.
func BenchmarkQueryLagLastHop100Services90Days(b *testing.B) {
	benchQuery(b, "lag", `{"metrics":["lag","rollout_lag","deployed_lag"],"deployedVersion":"1.0.0"}`, 90*24*time.Hour, time.Hour, 2161, 300)
}

// The status table of 100 services: verdict, evidence and forecast included.
func BenchmarkQueryStatus100Services(b *testing.B) {
	benchQuery(b, "status", `{}`, 90*24*time.Hour, time.Hour, 100, 1)
}
