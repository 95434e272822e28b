package frames_test

import (
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
)

// statusCases are services whose status rows take every shape a column
// knows: a pinned last hop, a deployed version unknown at the table's time,
// a failed service that says what it runs, catalog mistakes (no comparison
// with upstream, what runs still known), ChromaDB's forecasts with overdue
// releases, and Ollama before its first chart.
func statusCases(t *testing.T) []collector.Result {
	rs := results(t)
	rs[0].Deployed = pinned(t, "0.11.10")
	rs[2].Service.Deployed = &catalog.Deployed{Version: "1.0.0"}
	late, _ := engine.NewDeployed([]engine.DeployedSample{{At: ts("2025-10-10T00:00:00Z"), Versions: []string{"0.12.0"}}})
	early := rs[0]
	early.Service.Name, early.Deployed = "ollama-deployed-late", &late
	ms, _ := mistakes(t)
	return append(append(rs, early), ms...)
}

// TestGoldenStatusCases pins the whole status table (fields, their order,
// types, configs, values and notices) on those services at several times.
func TestGoldenStatusCases(t *testing.T) {
	rs := statusCases(t)
	for _, c := range []struct{ name, from, to string }{
		{"status-cases-2025-09", "2025-09-01T00:00:00Z", "2025-09-30T00:00:00Z"},
		{"status-cases-2025-10", "2024-10-01T00:00:00Z", "2025-10-15T00:00:00Z"},
		{"status-cases-2023-11", "2023-11-01T00:00:00Z", "2023-11-20T00:00:00Z"},
		{"status-cases-2024-01", "2023-12-01T00:00:00Z", "2024-01-10T00:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := frames.Status(rs, ts(c.from), ts(c.to), engine.VerdictParams{})
			experimental.CheckGoldenJSONFrame(t, "testdata", c.name, f, *update)
			configs := map[string]*data.FieldConfig{}
			for _, fd := range f.Fields {
				configs[fd.Name] = fd.Config
			}
			if configs["lag"] == nil || configs["lag"].Unit != "s" || configs["verdict_code"] == nil || len(configs["verdict_code"].Mappings) != 1 {
				t.Errorf("field configs: lag %+v verdict_code %+v", configs["lag"], configs["verdict_code"])
			}
		})
	}
}

// BenchmarkStatus is one refresh of the status table over the cases above.
func BenchmarkStatus(b *testing.B) {
	rs := statusCases(&testing.T{})
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		frames.Status(rs, from, to, engine.VerdictParams{})
	}
}
