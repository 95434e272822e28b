package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

func TestCheckResource(t *testing.T) {
	e := newEnv(t, map[string]any{"ociBudget": 500}) // the whole OCI history, back to 2025
	status, out := e.resource(t, "check?at=2025-09-30T00:00:00Z")
	if status != http.StatusOK || out["services"] != 5.0 || out["problems"] != 0.0 || out["failed"] != 0.0 {
		t.Fatalf("%d %v", status, out)
	}
	status, out = e.resource(t, "check?service=chromadb&at=2025-09-30T00:00:00Z")
	res := out["results"].([]any)
	if status != http.StatusOK || len(res) != 1 || res[0].(map[string]any)["coverage"].(map[string]any)["matched"] != 20.0 {
		t.Errorf("%d %v", status, out)
	}
	for path, want := range map[string]string{
		"check?service=nope": `check: service "nope" is not in the catalog`,
		"check?at=yesterday": `check: at "yesterday" is not an RFC 3339 time`,
	} {
		if status, out := e.resource(t, path); status != http.StatusBadRequest || !strings.Contains(out["error"].(string), want) {
			t.Errorf("%s: %d %v", path, status, out)
		}
	}
}

// A catalog with a wrong entry: the health check stays OK and names it with
// its problem and fix; GET /check gives the fix and its evidence.
func TestHealthWarnsOfMisconfiguredServices(t *testing.T) {
	st := fakes.NewStack(t)
	cat := st.Catalog + `  - name: ollama-version-from
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: ` + st.Helm.RepoURL("otwld__ollama-helm") + `, name: ollama, versionFrom: version}
`
	raw, _ := json.Marshal(map[string]any{"githubUrl": st.GitHub.URL(), "catalog": cat, "prometheusUrl": st.Prometheus.URL(), "ociBudget": 500})
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: raw, DecryptedSecureJSONData: map[string]string{"githubToken": "test-token"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{gh: st.GitHub, helm: st.Helm, prom: st.Prometheus, ds: inst.(*Datasource)}
	t.Cleanup(e.ds.Dispose)
	h, _ := e.ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	want := "warning: 1 of 6 services look misconfigured: ollama-version-from (the packaged version 1.77.0 (chart 1.77.0) is no upstream version and is above the newest one (0.32.15); fix: chart.versionFrom: appVersion)"
	if h.Status != backend.HealthStatusOk || !strings.Contains(h.Message, want) {
		t.Errorf("health %v: %s\nwant it to contain %s", h.Status, h.Message, want)
	}
	status, out := e.resource(t, "check?service=ollama-version-from&at=2025-09-30T00:00:00Z")
	fix := out["results"].([]any)[0].(map[string]any)["fixes"].([]any)[0].(map[string]any)
	if status != http.StatusOK || out["problems"] != 1.0 || fix["field"] != "chart.versionFrom" ||
		fix["evidence"] != "appVersion gives 20 of the last 20 chart versions an upstream version (version gives 0); it ships 0.12.2" {
		t.Errorf("%d %v", status, out)
	}
}

func (e *env) resourceAs(t *testing.T, role, path string) (int, map[string]any) {
	t.Helper()
	var status int
	var body []byte
	err := e.ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: strings.SplitN(path, "?", 2)[0], URL: path,
		PluginContext: backend.PluginContext{User: &backend.User{Login: "u", Role: role}}},
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

// GET /discover: the same discovery as the CLI, for org admins only (it
// reads repositories the catalog does not name).
func TestDiscoverResource(t *testing.T) {
	// endoflife.date is looked up for eol.product: a fake one.
	e := newEnv(t, map[string]any{"eolUrl": fakes.NewEOL(t, fakes.FixturesDir()).URL()})
	repo := e.helm.RepoURL("otwld__ollama-helm")
	status, out := e.resourceAs(t, "Admin", "discover?repo="+repo+"&chart=ollama")
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, out)
	}
	p := out["proposals"].([]any)[0].(map[string]any)
	svc, _ := p["service"].(map[string]any)
	if p["verified"] != true || svc["upstream"].(map[string]any)["repo"] != "ollama/ollama" || !strings.Contains(out["yaml"].(string), "- name: ollama") ||
		out["requests"].(map[string]any)["github"].(float64) == 0 || out["requests"].(map[string]any)["eol"].(float64) != 1 ||
		p["advisories"].(map[string]any)["ecosystem"] != "go" {
		t.Errorf("%v", out)
	}
	for _, c := range []struct{ role, path, want string }{
		{"Editor", "discover?repo=" + repo, "only an org admin can discover charts"},
		{"Admin", "discover", "give repo=URL"},
		{"Admin", "discover?repo=file:///etc/passwd", `repo "file:///etc/passwd" is not an http(s) Helm repository URL`},
		{"Admin", "discover?oci=oci://x", `oci "oci://x" is not an oci://HOST/PATH/NAME chart`},
		{"Admin", "discover?repo=" + repo + "&repo=" + repo + "&chart=a", "chart needs exactly one repo"},
	} {
		status, out := e.resourceAs(t, c.role, c.path)
		if (status != http.StatusBadRequest && status != http.StatusForbidden) || !strings.Contains(out["error"].(string), c.want) {
			t.Errorf("%s %s: %d %v", c.role, c.path, status, out)
		}
	}
}
