package frames_test

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func result(t *testing.T, name, maintainer, repo, tags, pattern, index, chart string) collector.Result {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	svc := catalog.Service{Name: name, Maintainer: maintainer,
		Upstream: catalog.Upstream{Repo: repo, Source: "tags", TagPattern: pattern},
		Chart:    catalog.Chart{Repository: "https://charts.example/" + name, Name: chart, VersionFrom: catalog.FromAppVersion}}
	ups, err := fixtures.Releases(filepath.Join(dir, tags))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := fixtures.ChartVersions(filepath.Join(dir, index), chart)
	if err != nil {
		t.Fatal(err)
	}
	tl, notices, err := engine.Build(collector.Spec(svc), ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	return collector.Result{Service: svc, Timeline: tl, Notices: notices}
}

func results(t *testing.T) []collector.Result {
	return []collector.Result{
		result(t, "ollama", "community", "ollama/ollama", "ollama__ollama/tags.tsv", `^v(\d+\.\d+\.\d+)$`, "otwld__ollama-helm/index.yaml", "ollama"),
		result(t, "chromadb", "community", "chroma-core/chroma", "chroma-core__chroma/tags.tsv", `^(\d+\.\d+\.\d+)$`, "amikos-tech__chromadb-chart/index.yaml", "chromadb"),
		{Service: catalog.Service{Name: "broken", Maintainer: "vendor", Upstream: catalog.Upstream{Repo: "acme/broken"}, Chart: catalog.Chart{Name: "broken"}},
			Err: errors.New("upstream acme/broken (releases): HTTP 500")},
	}
}

func TestLagFrames(t *testing.T) {
	rs := results(t)
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	fs := frames.Lag(context.Background(), rs, chartMetrics, from, to, time.Hour, 1000)
	if err := dataplanetest.CheckTimeSeriesMulti(fs); err != nil {
		t.Fatal(err)
	}
	if len(fs) != len(rs)*len(chartMetrics) {
		t.Fatalf("%d frames, want %d", len(fs), len(rs)*len(chartMetrics))
	}
	for _, f := range fs {
		value := f.Fields[1]
		svc, metric := value.Labels["service"], value.Labels["metric"]
		if svc == "broken" {
			if rows, _ := f.RowLen(); rows != 0 || f.Meta == nil || len(f.Meta.Notices) == 0 || !strings.Contains(f.Meta.Notices[0].Text, "HTTP 500") {
				t.Errorf("broken frame: %d rows, meta %+v", rows, f.Meta)
			}
			continue
		}
		times := f.Fields[0]
		last := times.Len() - 1
		if !times.At(0).(time.Time).Equal(from) || !times.At(last).(time.Time).Equal(to) {
			t.Errorf("%s %s: grid %v .. %v, want %s .. %s", svc, metric, times.At(0), times.At(last), from, to)
		}
		// The last point is the value at the range end: what an alert reads.
		st := rs[0].Timeline.At(to)
		if svc == "chromadb" {
			st = rs[1].Timeline.At(to)
		}
		got, _ := value.ConcreteAt(last)
		want := map[string]float64{
			"lag": st.Lag.Seconds(), "versions_behind": float64(st.VersionsBehind), "drift": st.Drift.Seconds(),
			"chart_age": st.ChartAge.Seconds(), "is_current": 0,
		}[metric]
		if got != want {
			t.Errorf("%s %s at range end = %v, want %v", svc, metric, got, want)
		}
	}
	// Steps are exact: ollama's versions_behind changes at the v0.12.0 tag itself.
	vb := fs[1]
	for i := 0; i < vb.Fields[0].Len(); i++ {
		if vb.Fields[0].At(i).(time.Time).Equal(ts("2025-09-18T23:11:08Z")) {
			if v, _ := vb.Fields[1].ConcreteAt(i); v != 1.0 {
				t.Errorf("versions_behind at v0.12.0 = %v, want 1", v)
			}
			if v, _ := vb.Fields[1].ConcreteAt(i - 1); v != 0.0 {
				t.Errorf("versions_behind just before v0.12.0 = %v, want 0", v)
			}
			return
		}
	}
	t.Error("no point at the v0.12.0 release")
}

func TestLagNullBeforeFirstChart(t *testing.T) {
	rs := results(t)[:1]
	fs := frames.Lag(context.Background(), rs, []string{models.MetricLag}, ts("2023-11-01T00:00:00Z"), ts("2023-12-01T00:00:00Z"), 24*time.Hour, 100)
	v := fs[0].Fields[1]
	if _, ok := v.ConcreteAt(0); ok {
		t.Error("lag before the first chart (2023-11-24) is not null")
	}
	if _, ok := v.ConcreteAt(v.Len() - 1); !ok {
		t.Error("lag after the first chart is null")
	}
}

func TestCurrentFrames(t *testing.T) {
	rs := results(t)
	at := ts("2025-09-30T00:00:00Z")
	fs := frames.Current(rs, models.Metrics, at, engine.VerdictParams{})
	if err := dataplanetest.CheckNumericMulti(fs); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fs {
		if v, ok := f.Fields[0].ConcreteAt(0); ok {
			got[f.Fields[0].Labels["service"]+" "+f.Fields[0].Labels["metric"]] = v.(float64)
		}
	}
	want := map[string]float64{
		"ollama lag":               at.Sub(ts("2025-09-26T01:30:45Z")).Seconds(),
		"ollama versions_behind":   1,
		"ollama is_current":        0,
		"chromadb versions_behind": 11,
		"chromadb lag":             at.Sub(ts("2025-05-27T23:26:56Z")).Seconds(),
		"chromadb chart_age":       at.Sub(ts("2025-05-23T11:14:09.742373995Z")).Seconds(),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	for _, k := range []string{"ollama is_current", "chromadb is_current"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s has no value", k)
		}
	}
	for _, f := range fs {
		if f.Fields[0].Labels["service"] != "broken" {
			continue
		}
		if v, ok := f.Fields[0].ConcreteAt(0); f.Fields[0].Len() != 1 || ok {
			t.Errorf("failed service: %d rows, value %v; want one null row", f.Fields[0].Len(), v)
		}
	}
}

func TestGoldenStatusAndEvents(t *testing.T) {
	rs := results(t)
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	experimental.CheckGoldenJSONFrame(t, "testdata", "status", frames.Status(rs, from, to, engine.VerdictParams{}), *update)
	experimental.CheckGoldenJSONFrame(t, "testdata", "events", frames.Events(rs, models.EventKinds, from, to), *update)
	experimental.CheckGoldenJSONFrame(t, "testdata", "events-chart-only", frames.Events(rs, []string{models.EventChart}, from, to), *update)
}

func TestStatusRow(t *testing.T) {
	rs := results(t)
	f := frames.Status(rs, ts("2025-01-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})
	row := func(name string, i int) any {
		fd, _ := f.FieldByName(name)
		if v, ok := fd.ConcreteAt(i); ok {
			return v
		}
		return nil
	}
	if row("packaged", 0) != "0.12.2" || row("chart_version", 0) != "1.30.0" || row("upstream_latest", 0) != "0.12.3" || row("versions_behind", 0) != int64(1) {
		t.Errorf("ollama row: packaged %v chart %v latest %v behind %v", row("packaged", 0), row("chart_version", 0), row("upstream_latest", 0), row("versions_behind", 0))
	}
	if row("open_releases", 0) != int64(1) {
		t.Errorf("ollama open releases = %v, want 1 (v0.12.3)", row("open_releases", 0))
	}
	if e := row("error", 2); !strings.Contains(e.(string), "HTTP 500") {
		t.Errorf("broken row error = %q", e)
	}
	if v := row("lag", 2); v != nil {
		t.Errorf("broken row lag = %v, want null", v)
	}
}

func TestGrid(t *testing.T) {
	from, to := ts("2025-01-01T00:00:30Z"), ts("2025-01-02T00:00:00Z")
	ev := []time.Time{ts("2025-01-01T06:30:00Z"), ts("2025-01-01T06:00:00Z"), ts("2024-12-31T00:00:00Z"), ts("2025-01-03T00:00:00Z")}
	g, _ := frames.Grid(from, to, time.Hour, 0, ev)
	// from, 23 whole hours after it, to (a whole hour too), one event off the grid; events outside are dropped.
	if len(g) != 1+23+1+1 {
		t.Errorf("grid has %d points: %v", len(g), g)
	}
	for i := 1; i < len(g); i++ {
		if !g[i-1].Before(g[i]) {
			t.Fatalf("grid not strictly ascending at %d: %v", i, g)
		}
	}
	if capped, _ := frames.Grid(from, to, time.Second, 10, nil); len(capped) > 12 {
		t.Errorf("maxPoints 10 gave %d points", len(capped))
	}
}

var _ = data.Frames{}
