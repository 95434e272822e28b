package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// values reads a current response as "service metric" -> value (nil: null)
// and the notices of each service.
func values(t *testing.T, dr backend.DataResponse) (map[string]*float64, map[string]string) {
	t.Helper()
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
		t.Fatal(err)
	}
	out, notes := map[string]*float64{}, map[string]string{}
	for _, f := range dr.Frames {
		l := f.Fields[0].Labels
		var v *float64
		if x, ok := f.Fields[0].ConcreteAt(0); ok {
			x := x.(float64)
			v = &x
		}
		out[l["service"]+" "+l["metric"]] = v
		if f.Meta != nil {
			for _, n := range f.Meta.Notices {
				notes[l["service"]] += n.Text + "\n"
			}
		}
	}
	return out, notes
}

func near(v *float64, want float64) bool { return v != nil && *v-want <= 1 && want-*v <= 1 }

// Every hop of the pipeline in a current query at 2025-09-30: Ollama pinned
// to 0.11.10 in the catalog, the GPU Operator read from (fake) Prometheus:
// helm-exporter says chart v25.3.3 runs; v25.3.4 was released 2025-09-17
// and charted 2025-09-19.
func TestCurrentEveryHop(t *testing.T) {
	e := newEnv(t, nil)
	got, notes := values(t, e.query(t, `{"queryType":"current","metrics":["lag","deployed_versions_behind","deployed_lag","rollout_lag","verdict"]}`))
	at := ts("2025-09-30T00:00:00Z")
	for k, w := range map[string]float64{
		"ollama deployed_versions_behind":       5,
		"ollama deployed_lag":                   (408*time.Hour + 19*time.Minute + 46*time.Second).Seconds(),
		"gpu-operator deployed_versions_behind": 1,
		"gpu-operator deployed_lag":             at.Sub(ts("2025-09-17T19:08:37Z")).Seconds(),
		"gpu-operator rollout_lag":              at.Sub(ts("2025-09-19T00:43:57Z")).Seconds(),
		"gpu-operator lag":                      0,
		"gpu-operator verdict":                  1,
		"chromadb verdict":                      4,
	} {
		if !near(got[k], w) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if v, ok := got["chromadb deployed_lag"]; ok {
		t.Errorf("chromadb names no deployed version: %v, want no series", v)
	}
	// lag and verdict of 5 services, the 3 last-hop metrics of ollama and gpu-operator.
	if len(got) != 5*2+2*3 {
		t.Errorf("%d series, want 16 with distinct labels", len(got))
	}
	if notes["gpu-operator"] != "" {
		t.Errorf("gpu-operator notices: %s", notes["gpu-operator"])
	}
	if e.prom.RequestsTo("/api/v1/query") != 1 || e.prom.RequestsTo("/api/v1/query_range") != 1 {
		t.Errorf("a current query asks Prometheus for the range and its end: %d instant, %d range",
			e.prom.RequestsTo("/api/v1/query"), e.prom.RequestsTo("/api/v1/query_range"))
	}
}

// The what-if version replaces every service's deployed version for one query.
func TestWhatIf(t *testing.T) {
	e := newEnv(t, nil)
	// gpu-operator reads its version from Prometheus (25.3.3, 1 behind); "if
	// we ran 25.3.4" it is current, and Prometheus is not asked.
	got, _ := values(t, e.query(t, `{"queryType":"current","services":["gpu-operator"],"metrics":["deployed_versions_behind","rollout_lag"],"deployedVersion":"v25.3.4"}`))
	if !near(got["gpu-operator deployed_versions_behind"], 0) || !near(got["gpu-operator rollout_lag"], 0) {
		t.Errorf("what-if v25.3.4: %v %v", got["gpu-operator deployed_versions_behind"], got["gpu-operator rollout_lag"])
	}
	if e.prom.Requests() != 0 {
		t.Errorf("a what-if query asked Prometheus %d times", e.prom.Requests())
	}
	// Services that name no deployed version get the last hop too.
	got, _ = values(t, e.query(t, `{"queryType":"current","services":["ollama","chromadb"],"metrics":["deployed_versions_behind","rollout_lag"],"deployedVersion":"0.12.3"}`))
	if !near(got["ollama deployed_versions_behind"], 0) || !near(got["ollama rollout_lag"], 0) || !near(got["chromadb deployed_versions_behind"], 20) {
		t.Errorf("what-if 0.12.3: %v %v %v", got["ollama deployed_versions_behind"], got["ollama rollout_lag"], got["chromadb deployed_versions_behind"])
	}
	dr := e.query(t, `{"queryType":"current","metrics":["deployed_lag"],"deployedVersion":"newest"}`)
	if dr.Error == nil || !strings.Contains(dr.Error.Error(), `deployedVersion (what-if version): deployed version "newest" does not parse as semver`) {
		t.Errorf("bad what-if: %v", dr.Error)
	}
}

// A Prometheus that is down costs the GPU Operator its last hop, with a
// notice; its other numbers and the other services are unharmed.
func TestPrometheusDown(t *testing.T) {
	e := newEnv(t, nil)
	e.prom.Close()
	got, notes := values(t, e.query(t, `{"queryType":"current","metrics":["lag","deployed_lag"]}`))
	if v := got["gpu-operator deployed_lag"]; v != nil {
		t.Errorf("gpu-operator deployed_lag = %v, want null", *v)
	}
	if !near(got["gpu-operator lag"], 0) || got["ollama deployed_lag"] == nil {
		t.Errorf("other numbers lost: gpu lag %v, ollama deployed_lag %v", got["gpu-operator lag"], got["ollama deployed_lag"])
	}
	if !strings.Contains(notes["gpu-operator"], "deployed version unknown: Prometheus at") || !strings.Contains(notes["gpu-operator"], "unreachable") {
		t.Errorf("gpu-operator notices: %q", notes["gpu-operator"])
	}
	if notes["ollama"] != "" {
		t.Errorf("ollama got a Prometheus notice: %q", notes["ollama"])
	}
	h, _ := e.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if h.Status != backend.HealthStatusError || !strings.Contains(h.Message, "Prometheus at") {
		t.Errorf("health with Prometheus down: %v %q", h.Status, h.Message)
	}

	e = newEnv(t, map[string]any{"prometheusUrl": nil})
	_, notes = values(t, e.query(t, `{"queryType":"current","metrics":["deployed_lag"]}`))
	if !strings.Contains(notes["gpu-operator"], "no Prometheus URL is set: set the Prometheus URL in the datasource settings") {
		t.Errorf("without a Prometheus URL: %q", notes["gpu-operator"])
	}
	h, _ = e.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if h.Status != backend.HealthStatusOk || !strings.Contains(h.Message, "no Prometheus URL: services gpu-operator") {
		t.Errorf("health without a Prometheus URL: %v %q", h.Status, h.Message)
	}
}

// Lag over time reads the deployed history from a range query; the GPU
// Operator steps from v25.3.1 to v25.3.3 on 2025-09-12.
func TestLagDeployedHistory(t *testing.T) {
	e := newEnv(t, nil)
	dr := e.query(t, `{"queryType":"lag","services":["gpu-operator"],"metrics":["deployed_versions_behind"]}`)
	if dr.Error != nil || len(dr.Frames) != 1 {
		t.Fatalf("%v, %d frames", dr.Error, len(dr.Frames))
	}
	if err := dataplanetest.CheckTimeSeriesMulti(dr.Frames); err != nil {
		t.Fatal(err)
	}
	f := dr.Frames[0]
	at := func(t time.Time) *float64 { // the step function's value at t
		var v *float64
		for i := 0; i < f.Fields[0].Len() && !f.Fields[0].At(i).(time.Time).After(t); i++ {
			v, _ = f.Fields[1].NullableFloatAt(i)
		}
		return v
	}
	// v25.3.1 on 2025-09-05: v25.3.2 (07-24) is newer; on 2025-09-13 v25.3.3 runs and nothing newer is out.
	if v := at(ts("2025-09-05T00:00:00Z")); !near(v, 1) {
		t.Errorf("2025-09-05: %v", v)
	}
	if v := at(ts("2025-09-13T00:00:00Z")); !near(v, 0) {
		t.Errorf("2025-09-13: %v", v)
	}
	if v := at(ts("2025-09-30T00:00:00Z")); !near(v, 1) {
		t.Errorf("2025-09-30 (v25.3.4 out): %v", v)
	}
	if e.prom.RequestsTo("/api/v1/query_range") != 1 {
		t.Errorf("%d range queries", e.prom.RequestsTo("/api/v1/query_range"))
	}
}

func (e *env) resource(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	var status int
	var body []byte
	err := e.ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: strings.SplitN(path, "?", 2)[0], URL: path},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
			status, body = r.Status, append(body, r.Body...)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %q", path, body)
	}
	return status, out
}

func TestVersionsResource(t *testing.T) {
	e := newEnv(t, nil)
	status, out := e.resource(t, "versions?service=ollama")
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, out)
	}
	has := func(list any, key, want string) bool {
		for _, x := range list.([]any) {
			if x.(map[string]any)[key] == want {
				return true
			}
		}
		return false
	}
	if !has(out["upstream"], "version", "0.12.3") || !has(out["upstream"], "tag", "v0.12.3") || !has(out["chart"], "version", "1.30.0") || !has(out["chart"], "packaged", "0.12.2") {
		t.Errorf("versions of ollama: %v", out)
	}
	for path, want := range map[string]string{
		"versions":               "give the service",
		"versions?service=nginx": `service "nginx" is not in the catalog`,
	} {
		if status, out := e.resource(t, path); status != http.StatusBadRequest || !strings.Contains(out["error"].(string), want) {
			t.Errorf("%s: %d %v", path, status, out)
		}
	}
}

// Status and events carry the hops too.
func TestStatusAndEventsLastHop(t *testing.T) {
	e := newEnv(t, nil)
	dr := e.query(t, `{"queryType":"status"}`)
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	col := func(name string) *data.Field {
		fd, _ := f.FieldByName(name)
		if fd == nil {
			t.Fatalf("no column %s", name)
		}
		return fd
	}
	svc := col("service")
	for i := 0; i < svc.Len(); i++ {
		switch svc.At(i) {
		case "gpu-operator":
			if col("deployed").At(i) != "25.3.3" || *col("deployed_versions_behind").At(i).(*int64) != 1 || col("verdict").At(i) != "chart keeps up" {
				t.Errorf("gpu-operator row: %v %v %v", col("deployed").At(i), col("deployed_versions_behind").At(i), col("verdict").At(i))
			}
		case "ollama":
			if col("deployed").At(i) != "0.11.10" {
				t.Errorf("ollama deployed %v", col("deployed").At(i))
			}
		}
	}
	dr = e.query(t, `{"queryType":"events","services":["gpu-operator"],"eventKinds":["deployed"]}`)
	title, _ := dr.Frames[0].FieldByName("title")
	if dr.Error != nil || title.Len() != 1 || title.At(0) != "gpu-operator 25.3.3 deployed" {
		t.Errorf("deployed events: %v %v", dr.Error, dr.Frames[0])
	}
	_ = models.EventDeployed
}

// A lag panel's last point and an alert's value are the same number, for a
// version read from Prometheus as for a pinned one.
func TestLagEndEqualsCurrent(t *testing.T) {
	e := newEnv(t, nil)
	for _, svc := range []string{"gpu-operator", "ollama"} {
		for _, m := range []string{"deployed_versions_behind", "deployed_lag", "rollout_lag"} {
			model := `{"services":["` + svc + `"],"metrics":["` + m + `"]}`
			lag := e.query(t, `{"queryType":"lag",`+model[1:])
			cur, _ := values(t, e.query(t, `{"queryType":"current",`+model[1:]))
			if lag.Error != nil || len(lag.Frames) != 1 {
				t.Fatalf("%s %s: %v", svc, m, lag.Error)
			}
			f := lag.Frames[0].Fields[1]
			last, _ := f.NullableFloatAt(f.Len() - 1)
			if want := cur[svc+" "+m]; last == nil || want == nil || *last != *want {
				t.Errorf("%s %s: lag ends at %v, current says %v", svc, m, last, want)
			}
		}
	}
}

// A failed service that names a deployed version keeps its last-hop series
// and columns, null; a pinned version makes no deployed events.
func TestFailedServiceLastHop(t *testing.T) {
	e := newEnv(t, nil)
	e.helm.Fail("NVIDIA__gpu-operator", http.StatusBadGateway)
	got, _ := values(t, e.query(t, `{"queryType":"current","services":["gpu-operator"],"metrics":["deployed_lag","verdict"]}`))
	for _, k := range []string{"gpu-operator deployed_lag", "gpu-operator verdict"} {
		if v, ok := got[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want a null instance", k, v, ok)
		}
	}
	dr := e.query(t, `{"queryType":"status","services":["gpu-operator"]}`)
	f := dr.Frames[0]
	for _, name := range []string{"deployed_lag", "rollout_lag", "deployed_versions_behind", "verdict_code", "overdue_releases"} {
		fd, _ := f.FieldByName(name)
		if _, ok := fd.ConcreteAt(0); ok {
			t.Errorf("failed service: %s has a value", name)
		}
	}
	dr = e.query(t, `{"queryType":"events","services":["ollama"],"eventKinds":["deployed"]}`)
	if n, _ := dr.Frames[0].RowLen(); dr.Error != nil || n != 0 {
		t.Errorf("pinned version: %d deployed events, %v", n, dr.Error)
	}
}
