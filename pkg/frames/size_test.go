package frames_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// responseSize is the size of a query response holding fs, JSON-encoded (as
// Grafana's HTTP API sends it) and Arrow-encoded (as the plugin sends it to
// Grafana over gRPC).
func responseSize(t testing.TB, fs data.Frames) (jsonBytes, arrowBytes int) {
	t.Helper()
	b, err := json.Marshal(backend.DataResponse{Frames: fs})
	if err != nil {
		t.Fatal(err)
	}
	arrow, err := fs.MarshalArrow()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arrow {
		arrowBytes += len(a)
	}
	return len(b), arrowBytes
}

// TestChromaWithoutPatternSize measures the responses for ChromaDB with no
// tagPattern (chroma-core/chroma has several tag streams), the case whose
// notices docs/benchmarks.md reports (go test -run ChromaWithoutPatternSize -v
// ./pkg/frames prints the figures), and holds the responses' size down.
func TestChromaWithoutPatternSize(t *testing.T) {
	r := result(t, "chromadb", "community", "chroma-core/chroma", "chroma-core__chroma/tags.tsv", "", "amikos-tech__chromadb-chart/index.yaml", "chromadb")
	rs := []collector.Result{r}
	at := ts("2025-09-30T00:00:00Z")
	cur := frames.Current(rs, models.Metrics, at, engine.VerdictParams{})
	lag := frames.Lag(context.Background(), rs, chartMetrics, at.Add(-30*24*time.Hour), at, time.Hour, 1000)
	status := data.Frames{frames.Status(rs, at.Add(-365*24*time.Hour), at, engine.VerdictParams{})}
	for name, fs := range map[string]data.Frames{"current": cur, "lag": lag, "status": status} {
		j, a := responseSize(t, fs)
		most := 0
		for _, f := range fs {
			if f.Meta != nil {
				most = max(most, len(f.Meta.Notices))
			}
		}
		t.Logf("%s: %d frames, %d bytes JSON, %d bytes Arrow, at most %d notices per frame", name, len(fs), j, a, most)
		// With one notice per tag left out, current was 57 KB of JSON and
		// status 13 KB (docs/benchmarks.md); the numbers themselves take ~4 KB.
		if name != "lag" && j > 8_000 {
			t.Errorf("%s: %d bytes of JSON for one service", name, j)
		}
	}
}
