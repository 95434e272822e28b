package frames_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

var lastHop = []string{models.MetricDeployedVersionsBehind, models.MetricDeployedLag, models.MetricRolloutLag}

func pinned(t *testing.T, v string) *engine.Deployed {
	t.Helper()
	d, err := engine.PinnedDeployed(v)
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

func secs(d string) float64 {
	x, err := time.ParseDuration(d)
	if err != nil {
		panic(err)
	}
	return x.Seconds()
}

// The last hop and the verdict in a current query, on the real fixtures at
// the worked example's time: Ollama 0.11.10 runs (engine test
// TestDeployedOnFixtures has the same numbers); ChromaDB says nothing of
// what runs (no last-hop series); the broken service says it runs 1.0.0 but
// failed (null, never zero: NoData for that alert instance only).
func TestCurrentLastHopAndVerdict(t *testing.T) {
	rs := results(t)
	rs[0].Deployed = pinned(t, "0.11.10")
	rs[2].Service.Deployed = &catalog.Deployed{Version: "1.0.0"}
	at := ts("2025-09-30T00:00:00Z")
	metrics := append(append([]string{}, lastHop...), models.MetricVerdict)
	fs := frames.Current(rs, metrics, at, engine.VerdictParams{})
	if err := dataplanetest.CheckNumericMulti(fs); err != nil {
		t.Fatal(err)
	}
	got := map[string]*float64{}
	for _, f := range fs {
		l := f.Fields[0].Labels
		var v *float64
		if x, ok := f.Fields[0].ConcreteAt(0); ok {
			x := x.(float64)
			v = &x
		}
		got[l["service"]+" "+l["metric"]] = v
	}
	want := map[string]float64{
		"ollama deployed_versions_behind": 5,
		"ollama deployed_lag":             secs("408h19m46s"),
		"ollama rollout_lag":              secs("298h11m10s"),
		"ollama verdict":                  float64(engine.VerdictKeepsUp.Code()),
		"chromadb verdict":                float64(engine.VerdictAbandoned.Code()),
	}
	for k, w := range want {
		if v := got[k]; v == nil || *v-w > 1 || w-*v > 1 { // the fixtures keep sub-second times
			t.Errorf("%s = %v, want %v", k, v, w)
		}
	}
	for _, k := range []string{"broken deployed_lag", "broken rollout_lag", "broken verdict"} {
		if v, ok := got[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want a null value", k, v, ok)
		}
	}
	for _, k := range []string{"chromadb deployed_lag", "chromadb rollout_lag", "chromadb deployed_versions_behind"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v: a service that says nothing of what it runs has no last-hop series", k, v)
		}
	}
	for _, f := range fs {
		if f.Fields[0].Labels["metric"] == models.MetricVerdict && len(f.Fields[0].Config.Mappings) != 1 {
			t.Errorf("verdict without its value mapping: %+v", f.Fields[0].Config)
		}
	}
}

// Every series of every metric has its own label set (alerting identifies
// series by labels alone).
func TestLabelSetsUnique(t *testing.T) {
	rs := results(t)
	rs[0].Deployed = pinned(t, "0.11.10")
	seen := map[string]bool{}
	for _, f := range frames.Current(rs, models.Metrics, ts("2025-09-30T00:00:00Z"), engine.VerdictParams{}) {
		key := f.Fields[0].Labels.String()
		if seen[key] {
			t.Errorf("two series with labels %s", key)
		}
		seen[key] = true
	}
	// Ollama all metrics; the others all but the last-hop ones (the
	// security and end-of-life ones among them).
	if want := len(rs)*len(models.Metrics) - 2*len(models.LastHopMetrics); len(seen) != want {
		t.Errorf("%d label sets, want %d", len(seen), want)
	}
	// The same in a lag query over every metric with a history.
	seen = map[string]bool{}
	for _, f := range frames.Lag(context.Background(), rs, models.LagMetrics, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"), time.Hour, 0) {
		key := f.Fields[1].Labels.String()
		if seen[key] {
			t.Errorf("lag: two series with labels %s", key)
		}
		seen[key] = true
	}
	if want := len(rs)*len(models.LagMetrics) - 2*len(models.LastHopMetrics); len(seen) != want {
		t.Errorf("lag: %d label sets, want %d", len(seen), want)
	}
}

// A deployed history: Ollama 0.11.10 from 2025-09-10, 0.12.2 from
// 2025-09-27 12:00. The lag series step exactly there, on a grid without
// duplicate times, and the last point is the value at the range end.
func TestLagLastHopHistory(t *testing.T) {
	rs := results(t)[:1]
	d, notices := engine.NewDeployed([]engine.DeployedSample{
		{At: ts("2025-09-10T00:00:00Z"), Versions: []string{"0.11.10"}},
		{At: ts("2025-09-27T12:00:00Z"), Versions: []string{"0.12.2"}},
	})
	if len(notices) != 0 {
		t.Fatal(notices)
	}
	rs[0].Deployed = &d
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	fs := frames.Lag(context.Background(), rs, lastHop, from, to, 6*time.Hour, 1000)
	if err := dataplanetest.CheckTimeSeriesMulti(fs); err != nil {
		t.Fatal(err)
	}
	series := map[string]*data.Frame{}
	for _, f := range fs {
		series[f.Fields[1].Labels["metric"]] = f
	}
	at := func(metric string, when time.Time) *float64 {
		f := series[metric]
		for i := 0; i < f.Fields[0].Len(); i++ {
			if f.Fields[0].At(i).(time.Time).Equal(when) {
				v, _ := f.Fields[1].NullableFloatAt(i)
				return v
			}
		}
		t.Fatalf("%s has no point at %s", metric, when)
		return nil
	}
	if v := at(models.MetricDeployedLag, from); v != nil {
		t.Errorf("before the first sample: %v, want null", *v)
	}
	step := ts("2025-09-27T12:00:00Z")
	// Just before the step 0.11.10 runs (5 newer releases by then), at it 0.12.2 (v0.12.3 newer).
	if v := at(models.MetricDeployedVersionsBehind, step.Add(-6*time.Hour)); v == nil || *v != 5 {
		t.Errorf("behind before the step = %v", v)
	}
	if v := at(models.MetricDeployedVersionsBehind, step); v == nil || *v != 1 {
		t.Errorf("behind at the step = %v", v)
	}
	if v := at(models.MetricDeployedLag, to); v == nil || *v != to.Sub(ts("2025-09-26T01:30:45Z")).Seconds() {
		t.Errorf("deployed_lag at the end = %v, want since v0.12.3 (2025-09-26T01:30:45Z)", v)
	}
	if v := at(models.MetricRolloutLag, to); v == nil || *v != 0 {
		t.Errorf("rollout_lag at the end = %v: no chart ships anything newer than 0.12.2 by then", v)
	}
	// A deployed version the catalog names but that could not be read: the
	// series exist, with nulls only. None named: no series.
	rs[0].Deployed = nil
	rs[0].Service.Deployed = &catalog.Deployed{Prometheus: &catalog.DeployedPrometheus{Query: "up", Label: "version"}}
	fs = frames.Lag(context.Background(), rs, lastHop, from, to, 6*time.Hour, 1000)
	if len(fs) != len(lastHop) {
		t.Fatalf("%d frames for a service whose deployed version failed", len(fs))
	}
	for _, f := range fs {
		for i := 0; i < f.Fields[1].Len(); i++ {
			if v, _ := f.Fields[1].NullableFloatAt(i); v != nil {
				t.Fatalf("%s has a value without a deployed version", f.Name)
			}
		}
	}
	rs[0].Service.Deployed = nil
	if fs := frames.Lag(context.Background(), rs, lastHop, from, to, 6*time.Hour, 1000); len(fs) != 0 {
		t.Errorf("%d last-hop frames for a service that names no deployed version", len(fs))
	}
}

// The status table's last hop, verdict and forecast columns for Ollama at
// 2025-09-30 (forecast of v0.12.3 as in engine.TestForecastOnFixtures).
func TestStatusLastHop(t *testing.T) {
	rs := results(t)
	rs[0].Deployed = pinned(t, "0.11.10")
	f := frames.Status(rs, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})
	cell := func(name string, i int) any {
		fd, _ := f.FieldByName(name)
		if fd == nil {
			t.Fatalf("no column %s", name)
		}
		if v, ok := fd.ConcreteAt(i); ok {
			return v
		}
		return nil
	}
	if cell("deployed", 0) != "0.11.10" || cell("deployed_versions_behind", 0) != int64(5) || cell("verdict", 0) != string(engine.VerdictKeepsUp) ||
		cell("verdict_code", 0) != int64(1) || cell("verdict_releases", 0) != int64(61) || cell("overdue_releases", 0) != int64(0) {
		t.Errorf("ollama: deployed %v behind %v verdict %v/%v releases %v overdue %v", cell("deployed", 0), cell("deployed_versions_behind", 0),
			cell("verdict", 0), cell("verdict_code", 0), cell("verdict_releases", 0), cell("overdue_releases", 0))
	}
	if next, _ := cell("next_expected_ship", 0).(time.Time); !next.Round(time.Second).Equal(ts("2025-10-02T09:27:38Z")) {
		t.Errorf("ollama next expected ship = %v", next)
	}
	if d50, _ := cell("verdict_delay_median", 0).(float64); d50-secs("70h44m38s") > 1 || secs("70h44m38s")-d50 > 1 {
		t.Errorf("ollama verdict d50 = %v", d50)
	}
	// ChromaDB: 11 open releases, 6 overdue (engine.TestForecastOnFixtures),
	// no deployed version; the next expected chart release is 1.0.21's p50,
	// the earliest still ahead (1.0.18 to 1.0.20 are past p50, before p90).
	if next, _ := cell("next_expected_ship", 1).(time.Time); !next.Round(time.Second).Equal(ts("2025-10-13T04:18:21Z")) {
		t.Errorf("chromadb next expected ship = %v", next)
	}
	if cell("deployed", 1) != "" || cell("deployed_lag", 1) != nil || cell("overdue_releases", 1) != int64(6) || cell("verdict", 1) != string(engine.VerdictAbandoned) {
		t.Errorf("chromadb: deployed %q lag %v overdue %v verdict %v", cell("deployed", 1), cell("deployed_lag", 1), cell("overdue_releases", 1), cell("verdict", 1))
	}
	if cell("verdict", 2) != "" || cell("verdict_code", 2) != nil {
		t.Errorf("broken service has a verdict: %v", cell("verdict", 2))
	}
}

// Deployed and forecast events: a forecast lies ahead of the range end.
func TestEventsLastHop(t *testing.T) {
	rs := results(t)[:1]
	d, _ := engine.NewDeployed([]engine.DeployedSample{
		{At: ts("2025-09-10T00:00:00Z"), Versions: []string{"0.11.10"}},
		{At: ts("2025-09-20T00:00:00Z"), Versions: []string{"0.11.10"}},
		{At: ts("2025-09-27T12:00:00Z"), Versions: []string{"0.12.2"}},
	})
	rs[0].Deployed = &d
	from, to := ts("2025-09-15T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	f := frames.Events(rs, []string{models.EventDeployed, models.EventForecast}, from, to)
	title, _ := f.FieldByName("title")
	text, _ := f.FieldByName("text")
	tm, _ := f.FieldByName("time")
	if title.Len() != 2 {
		t.Fatalf("%d events: %v", title.Len(), f)
	}
	if title.At(0) != "ollama 0.12.2 deployed" || !strings.Contains(text.At(0).(string), "was 0.11.10") || !tm.At(0).(time.Time).Equal(ts("2025-09-27T12:00:00Z")) {
		t.Errorf("deployed event: %v %v %v", title.At(0), text.At(0), tm.At(0))
	}
	if title.At(1) != "ollama 0.12.3 expected in chart ollama" || !tm.At(1).(time.Time).After(to) || !strings.Contains(text.At(1).(string), "2025-10-10 (p90)") {
		t.Errorf("forecast event: %v %v %v", title.At(1), text.At(1), tm.At(1))
	}
}
