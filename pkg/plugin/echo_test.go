package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// leak returns the first 10-character piece of any secret found in text.
func leak(text string, secrets ...string) string {
	for _, s := range secrets {
		for i := 0; i+10 <= len(s); i++ {
			if strings.Contains(text, s[i:i+10]) {
				return s[i : i+10]
			}
		}
	}
	return ""
}

// Save & test against a Prometheus behind a proxy that echoes the
// Authorization header into its errors (after 150 characters, JSON-escaped)
// and into a 900 000-character build version: the health message shows no
// 10 characters of the token, the password or the basic-auth header, and
// stays short; the queries' notices neither (issue 16).
func TestHealthWithEchoingPrometheus(t *testing.T) {
	const token = "prom/secret/token/0123456789/abcdefghijklmnopqrs"
	st := fakes.NewStack(t)
	for _, version := range []int{0, 900_000} {
		echo := fakes.NewRecorder(t)
		echo.Handle(fakes.EchoPrometheus(version))
		for _, login := range []map[string]string{{"prometheusToken": token}, {"prometheusPassword": token}} {
			settings := map[string]any{"githubUrl": st.GitHub.URL(), "catalog": st.Catalog, "prometheusUrl": echo.URL()}
			if _, basic := login["prometheusPassword"]; basic {
				settings["prometheusUser"] = "grafana"
			}
			raw, _ := json.Marshal(settings)
			inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: raw, DecryptedSecureJSONData: login})
			if err != nil {
				t.Fatal(err)
			}
			ds := inst.(*Datasource)
			secrets := []string{token, base64.StdEncoding.EncodeToString([]byte("grafana:" + token))}
			res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if l := leak(res.Message, secrets...); l != "" || len(res.Message) > 4096 {
				t.Errorf("version %d, %v: health shows %q in %d bytes: %.400s", version, settings["prometheusUser"], l, len(res.Message), res.Message)
			}
			if !strings.Contains(res.Message, "[redacted]") {
				t.Errorf("the echo did not reach the health message: %.400s", res.Message)
			}
			resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
				RefID: "A", JSON: json.RawMessage(`{"queryType":"lag","metrics":["deployed_lag"]}`),
				TimeRange: backend.TimeRange{From: ts("2025-09-01T00:00:00Z"), To: ts("2025-09-30T00:00:00Z")}, MaxDataPoints: 100,
			}}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(resp)
			if l := leak(string(b), secrets...); l != "" || !strings.Contains(string(b), "[redacted]") {
				t.Errorf("version %d: the query shows %q: %.400s", version, l, b)
			}
			ds.Dispose()
		}
	}
}
