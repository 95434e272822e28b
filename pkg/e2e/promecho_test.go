package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// Save & test over gRPC against a Prometheus behind a proxy that echoes
// the Authorization header into its errors (after 150 characters, where a
// message cut at 200 cuts the token) and into a 900 000-character build
// version (issue 16): the health message and the lag query's frames show
// no 10 characters of the token, and the health message stays short.
func TestPrometheusEchoHealth(t *testing.T) {
	s := newServers(t)
	pc := start(t)
	for i, version := range []int{0, 900_000} {
		echo := fakes.NewRecorder(t)
		echo.Handle(fakes.EchoPrometheus(version))
		pctx := instance(int64(31+i), s.GitHub.URL(), s.Catalog, canary, echo.URL())
		res, err := pc.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
		if err != nil {
			t.Fatal(err)
		}
		if l := piece(res.Message); l != "" || len(res.Message) > 4096 {
			t.Errorf("version %d: health shows %q in %d bytes: %.400s", version, l, len(res.Message), res.Message)
		}
		if !strings.Contains(res.Message, "[redacted]") {
			t.Errorf("version %d: the echo did not reach the health message: %.400s", version, res.Message)
		}
		dr := pc.query(t, pctx, "lag", `{"metrics":["deployed_lag","rollout_lag"]}`, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		var seen []string
		for _, f := range dr.Frames {
			b, err := f.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, string(b))
		}
		if all := strings.Join(seen, "\n"); piece(all) != "" || !strings.Contains(all, "[redacted]") {
			t.Errorf("version %d: the lag query shows %q: %.400s", version, piece(all), all)
		}
		if echo.Requests() == 0 {
			t.Fatalf("version %d: the echoing Prometheus was not asked", version)
		}
	}
}

// piece returns the first 10-character piece of the canary found in text.
func piece(text string) string {
	for i := 0; i+10 <= len(canary); i++ {
		if strings.Contains(text, canary[i:i+10]) {
			return canary[i : i+10]
		}
	}
	return ""
}
