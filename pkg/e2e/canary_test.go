package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// canary is a token nothing may show: not a frame, a notice, a resource
// answer, a health message nor a log line.
const canary = "ghp_CANARY0secret0token0do0not0show"

// TestTokenCanary runs every query type, resource and health check, on the
// happy path and on error paths — an upstream that echoes request headers
// into its errors, a GitHub API that redirects to a chart host, a failing
// chart repository, a bad query, an unknown service, a broken catalog — and
// looks for the token in everything the plugin returns or logs, and in what
// every host other than the GitHub API received.
func TestTokenCanary(t *testing.T) {
	s := newServers(t)
	var logs fakes.SyncBuffer
	pc := startWithOutput(t, &logs)

	echo := fakes.NewRecorder(t) // a "GitHub" that echoes headers into its errors
	echo.Handle(fakes.EchoHeaders)
	chartHost := fakes.NewRecorder(t) // a chart host the GitHub API redirects to
	chartHost.Handle(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/index.yaml") {
			_, _ = w.Write(s.Helm.Index("otwld__ollama-helm"))
			return
		}
		fakes.EchoHeaders(w, r)
	})
	redirecting := fakes.NewRecorder(t) // a "GitHub" that sends every request to the chart host
	redirecting.Handle(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, chartHost.URL()+r.URL.RequestURI(), http.StatusFound)
	})
	redirectCatalog := strings.Replace(s.Catalog, s.Helm.RepoURL("otwld__ollama-helm"), chartHost.URL()+"/ollama", 1)
	s.Helm.Fail("amikos-tech__chromadb-chart", http.StatusBadGateway)

	instances := map[string]*pluginv2.PluginContext{
		"fakes":                  instance(11, s.GitHub.URL(), s.Catalog, canary, s.Prometheus.URL()),
		"echo":                   instance(12, echo.URL(), s.Catalog, canary, echo.URL()), // echoing Prometheus too
		"redirect":               instance(13, redirecting.URL(), redirectCatalog, canary),
		"bad catalog":            instance(14, s.GitHub.URL(), "services: [", canary),
		"GitHub Enterprise path": instance(15, echo.URL()+"/api/v3", s.Catalog, canary),
	}
	var seen []string // every text the plugin gave back
	for name, pctx := range instances {
		res, err := pc.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
		if err != nil {
			t.Fatalf("%s: health: %v", name, err)
		}
		seen = append(seen, name+" health: "+res.Message+string(res.JsonDetails))
		for _, q := range []struct{ queryType, model string }{
			{"lag", `{"metrics":["lag","versions_behind","drift","chart_age","is_current"]}`},
			{"current", `{"metrics":["lag","versions_behind","drift","chart_age","is_current"]}`},
			{"current", `{"metrics":["deployed_lag","rollout_lag","verdict"]}`},
			{"lag", `{"metrics":["deployed_versions_behind"]}`},
			{"status", `{}`},
			{"events", `{}`},
			{"current", `{"services":["nope","ollama"]}`},
			{"lag", `{"metrics":["speed"]}`},
			{"lag", `{"services":["$service"]}`},
		} {
			dr := pc.query(t, pctx, q.queryType, q.model, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
			if dr.Error != nil {
				seen = append(seen, name+" "+q.queryType+" error: "+dr.Error.Error())
			}
			for _, f := range dr.Frames {
				b, err := f.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				seen = append(seen, name+" "+q.queryType+" frame: "+string(b))
			}
		}
		for _, call := range [][3]string{{"GET", "services", ""}, {"GET", "versions?service=ollama", ""}, {"POST", "validate", `{"catalog":"services: [x"}`}, {"POST", "validate", `{"catalog": 5}`}} {
			code, body := pc.resourceCall(t, pctx, call[0], call[1], call[2])
			seen = append(seen, name+" "+call[1]+": "+string(rune('0'+code/100))+" "+body)
		}
	}
	// The paths were taken: the echo upstream echoed, the redirect was followed.
	all := strings.Join(seen, "\n")
	if echo.Requests() == 0 || chartHost.Requests() == 0 {
		t.Fatalf("the hostile paths were not exercised: echo %d requests, chart host %d", echo.Requests(), chartHost.Requests())
	}
	if !strings.Contains(all, "[redacted]") {
		t.Errorf("no echoed token was redacted: the echo path did not reach a message")
	}
	for _, text := range seen {
		if strings.Contains(text, canary) || strings.Contains(text, canary[:12]) {
			t.Errorf("the token shows in: %.300s", text)
		}
	}
	if strings.Contains(logs.String(), canary) || strings.Contains(logs.String(), canary[:12]) {
		t.Errorf("the token shows in the plugin's log")
	}
	if !strings.Contains(logs.String(), "Service failed") {
		t.Errorf("no failure was logged: the log was not captured (%d bytes)", len(logs.String()))
	}
	if got := chartHost.Authorizations(); len(got) != 0 {
		t.Errorf("the chart host received Authorization %q", got)
	}
	for value := range s.GitHub.Authorizations() {
		if value != "Bearer "+canary {
			t.Errorf("the fake GitHub received Authorization %q", value)
		}
	}
}
