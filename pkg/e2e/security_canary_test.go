package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// TestTokenCanarySecurityInputs extends the token canary to the advisory and
// endoflife.date sources, through the built plugin: a "GitHub" that echoes
// every header into its errors (advisories included) and an
// "endoflife.date" that does the same. The token shows in nothing the plugin
// returns or logs, and never reaches endoflife.date.
func TestTokenCanarySecurityInputs(t *testing.T) {
	s := newServers(t)
	var logs fakes.SyncBuffer
	pc := startWithOutput(t, &logs)
	echo := fakes.NewRecorder(t)
	echo.Handle(fakes.EchoHeaders)
	eolEcho := fakes.NewRecorder(t)
	eolEcho.Handle(fakes.EchoHeaders)
	catalog := strings.Replace(s.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.11.10"
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: ollama}`, 1)
	if catalog == s.Catalog {
		t.Fatal("the fixtures catalog changed: cannot add the security inputs")
	}
	var seen []string
	for i, githubURL := range []string{echo.URL(), s.GitHub.URL()} {
		jsonData, _ := json.Marshal(map[string]any{"githubUrl": githubURL, "catalog": catalog, "eolUrl": eolEcho.URL(), "timeoutSeconds": 10})
		pctx := backend.ToProto().PluginContext(backend.PluginContext{OrgID: 1, PluginID: "lagwatch-datasource",
			DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{ID: int64(40 + i), UID: fmt.Sprintf("lagwatch-sec-%d", i), Name: "Lagwatch", Type: "lagwatch-datasource",
				JSONData: jsonData, DecryptedSecureJSONData: map[string]string{"githubToken": canary}, Updated: time.Unix(1764000000, 0)}})
		res, err := pc.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, res.Message+string(res.JsonDetails))
		for _, qt := range []string{"status", "current", "lag", "events"} {
			dr := pc.query(t, pctx, qt, `{"services":["ollama"]}`, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
			if dr.Error != nil {
				seen = append(seen, dr.Error.Error())
			}
			for _, f := range dr.Frames {
				b, err := f.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				seen = append(seen, string(b))
			}
		}
	}
	all := strings.Join(seen, "\n")
	if eolEcho.Requests() == 0 || s.GitHub.RequestsTo("/advisories") == 0 {
		t.Fatalf("the security sources were not asked: endoflife.date %d, /advisories %d", eolEcho.Requests(), s.GitHub.RequestsTo("/advisories"))
	}
	if strings.Contains(all, canary) || strings.Contains(all, canary[:12]) || strings.Contains(logs.String(), canary[:12]) {
		t.Error("the token shows in a frame, a message or the log")
	}
	if got := eolEcho.Authorizations(); len(got) != 0 {
		t.Errorf("endoflife.date received Authorization %q", got)
	}
}
