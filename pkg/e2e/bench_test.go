package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// BenchmarkGRPCLag100Services90Days is the 100-service lag panel of
// pkg/plugin's benchmarks, sent over gRPC to the built plugin binary as
// Grafana sends it (warm caches): what the frames cost to encode and carry
// on top of computing them.
func BenchmarkGRPCLag100Services90Days(b *testing.B) {
	dir := b.TempDir()
	cat := fakes.SyntheticCatalog(b, dir, 100)
	gh, helm := fakes.NewGitHub(b, dir), fakes.NewHelm(b, dir)
	pc := start(b)
	pctx := instance(21, gh.URL(), strings.ReplaceAll(cat, "HELM_URL", helm.URL()), "t")
	to := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: "lag", JSON: json.RawMessage(`{"metrics":["lag","versions_behind"]}`),
		TimeRange: backend.TimeRange{From: to.Add(-90 * 24 * time.Hour), To: to}, Interval: time.Hour, MaxDataPoints: 2161,
	}}})
	req.PluginContext = pctx
	run := func() {
		resp, err := pc.data.QueryData(context.Background(), req)
		if err != nil || len(resp.Responses["A"].Frames) != 200 {
			b.Fatalf("%v", err)
		}
	}
	run() // cold: fills the caches
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}
