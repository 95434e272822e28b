package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/models"
)

type env struct {
	gh   *fakes.GitHub
	helm *fakes.Helm
	prom *fakes.Prometheus
	ds   *Datasource
}

func newEnv(t *testing.T, jsonData map[string]any) *env {
	t.Helper()
	st := fakes.NewStack(t)
	e := &env{gh: st.GitHub, helm: st.Helm, prom: st.Prometheus}
	settings := map[string]any{"githubUrl": e.gh.URL(), "catalog": st.Catalog, "prometheusUrl": st.Prometheus.URL()}
	for k, v := range jsonData {
		if v == nil {
			delete(settings, k)
			continue
		}
		settings[k] = v
	}
	raw, _ := json.Marshal(settings)
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: raw, DecryptedSecureJSONData: map[string]string{"githubToken": "test-token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ds = inst.(*Datasource)
	t.Cleanup(e.ds.Dispose)
	return e
}

func ts(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func (e *env) query(t *testing.T, model string) backend.DataResponse {
	t.Helper()
	resp, err := e.ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", JSON: json.RawMessage(model), Interval: time.Hour, MaxDataPoints: 500,
		TimeRange: backend.TimeRange{From: ts("2025-09-01T00:00:00Z"), To: ts("2025-09-30T00:00:00Z")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses["A"]
}

// TestAlertSeriesAreUnique: several metrics of several services in one
// response never share a label set, which Grafana alerting requires.
func TestAlertSeriesAreUnique(t *testing.T) {
	e := newEnv(t, nil)
	dr := e.query(t, `{"queryType":"current","metrics":["lag","versions_behind","drift","chart_age","is_current"]}`)
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
		t.Fatal(err)
	}
	if len(dr.Frames) != 25 {
		t.Errorf("%d frames, want 25", len(dr.Frames))
	}
	// Without the metric label the same response would be ambiguous: the checker must say so.
	for _, f := range dr.Frames {
		delete(f.Fields[0].Labels, "metric")
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err == nil || !strings.Contains(err.Error(), "cannot tell the series apart") {
		t.Errorf("labels without metric accepted: %v", err)
	}
	// Every metric, the security and end-of-life ones included: 5 services
	// with each chart-side metric, the last hop for the two that say what
	// they run, all label sets distinct.
	all, _ := json.Marshal(map[string]any{"queryType": "current", "metrics": models.Metrics})
	dr = e.query(t, string(all))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
		t.Fatal(err)
	}
	if want := 5*(len(models.Metrics)-len(models.LastHopMetrics)) + 2*len(models.LastHopMetrics); len(dr.Frames) != want {
		t.Errorf("every metric: %d frames, want %d", len(dr.Frames), want)
	}
}

// TestCacheSharedByHealthAndQueries: the health check warms the cache the
// queries use; a second query within the TTL makes no request at all.
func TestCacheSharedByHealthAndQueries(t *testing.T) {
	e := newEnv(t, nil)
	if res, _ := e.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{}); res.Status != backend.HealthStatusOk {
		t.Fatalf("health: %s", res.Message)
	}
	helmAfterHealth := e.helm.Requests()
	if helmAfterHealth != 4 {
		t.Errorf("health fetched %d indexes, want 4 (one per repository)", helmAfterHealth)
	}
	e.query(t, `{"queryType":"status"}`)
	if got := e.helm.Requests(); got != helmAfterHealth {
		t.Errorf("query after health made %d index requests, want 0", got-helmAfterHealth)
	}
	ghAfterFirst := e.gh.Requests()
	e.query(t, `{"queryType":"lag"}`)
	if e.gh.Requests() != ghAfterFirst || e.helm.Requests() != helmAfterHealth {
		t.Errorf("second query within TTL made requests: github %d, helm %d", e.gh.Requests()-ghAfterFirst, e.helm.Requests()-helmAfterHealth)
	}
}

// TestRateLimitedServesStaleData: after a 403 rate limit, the last good data
// is served with a notice that says so.
func TestRateLimitedServesStaleData(t *testing.T) {
	e := newEnv(t, map[string]any{"cacheTtl": "0s"}) // every query revalidates
	if dr := e.query(t, `{"queryType":"current","services":["gpu-operator"]}`); dr.Error != nil {
		t.Fatal(dr.Error)
	}
	e.gh.SetRateLimited(time.Now().Add(time.Hour))
	dr := e.query(t, `{"queryType":"current","services":["gpu-operator"]}`)
	if dr.Error != nil || len(dr.Frames) != 1 {
		t.Fatalf("rate limited: %v", dr.Error)
	}
	f := dr.Frames[0]
	if rows, _ := f.RowLen(); rows != 1 {
		t.Errorf("stale data not served: %d rows", rows)
	}
	if f.Meta == nil || !noticeSays(f.Meta.Notices, "refresh failed") {
		t.Errorf("no stale-data notice: %+v", f.Meta)
	}
	res, _ := e.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "rate limit") {
		t.Errorf("health while rate limited: %s %s", res.Status, res.Message)
	}
}

func noticeSays(ns []data.Notice, s string) bool {
	for _, n := range ns {
		if strings.Contains(n.Text, s) {
			return true
		}
	}
	return false
}

func TestBadCatalogAndQueries(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"catalog": "services:\n  - name: x\n"})
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: raw})
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*Datasource)
	res, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, `catalog from jsonData.catalog`) || !strings.Contains(res.Message, `service "x": upstream.repo`) {
		t.Errorf("health with bad catalog: %s", res.Message)
	}
	resp, _ := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: []byte(`{}`)}}})
	if e := resp.Responses["A"].Error; e == nil || !strings.Contains(e.Error(), "chart.repository") {
		t.Errorf("query with bad catalog: %v", e)
	}

	if _, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: []byte(`{"cacheTtl":"x"}`)}); err == nil {
		t.Error("bad settings accepted")
	}

	e := newEnv(t, nil)
	dr := e.query(t, `{"queryType":"current","services":["ollama","nginx"]}`)
	if dr.Error != nil || len(dr.Frames) != 2 {
		t.Fatalf("unknown service beside a known one: %v, %d frames", dr.Error, len(dr.Frames))
	}
	if _, ok := dr.Frames[0].Fields[0].ConcreteAt(0); !ok {
		t.Error("ollama has no value next to an unknown service")
	}
	if f := dr.Frames[1]; f.Fields[0].Labels["service"] != "nginx" || f.Meta == nil || !noticeSays(f.Meta.Notices, `service "nginx" is not in the catalog`) {
		t.Errorf("unknown service frame: labels %v meta %+v", f.Fields[0].Labels, f.Meta)
	}
	if dr := e.query(t, `{"queryType":"lag","maintainer":"vendor"}`); dr.Error != nil || len(dr.Frames) != 2 {
		t.Errorf("maintainer filter: %v, %d frames", dr.Error, len(dr.Frames))
	}
}
