// Package e2e starts the real plugin binary the way Grafana does and talks to
// it over Grafana's plugin protocol: the hashicorp/go-plugin handshake
// (protocol version 2, magic cookie grafana_plugin_type=datasource), gRPC, and
// a process environment that holds none of the host's variables.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

var binary string

// TestMain builds the plugin binary once, as the Magefile does for this platform.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lagwatch-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, fmt.Sprintf("gpx_lagwatch_%s_%s", runtime.GOOS, runtime.GOARCH))
	build := exec.Command("go", "build", "-o", binary, "github.com/lagwatch/lagwatch/pkg")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the plugin binary:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// pluginClient is what Grafana holds for a running backend plugin.
type pluginClient struct {
	diagnostics pluginv2.DiagnosticsClient
	resource    pluginv2.ResourceClient
	data        pluginv2.DataClient
	pid         int // the plugin process
}

// start launches the binary with only the given environment, as Grafana ≥ 12.4
// does, and dispenses the three clients Grafana uses for a datasource.
func start(t testing.TB, env ...string) *pluginClient {
	t.Helper()
	return startWithOutput(t, io.Discard, env...)
}

// startWithOutput is start with everything the plugin writes (its log lines
// and raw output) sent to out.
func startWithOutput(t testing.TB, out io.Writer, env ...string) *pluginClient {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append([]string{"GF_VERSION=12.4.0", "GF_EDITION=oss", "GF_PLUGIN_VERSION=1.0.0"}, env...)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
				"data":        &grpcplugin.DataGRPCPlugin{},
			},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		SyncStdout:       out,
		SyncStderr:       out,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: out, Level: hclog.Trace}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("plugin handshake: %v", err)
	}
	if v := client.NegotiatedVersion(); v != grpcplugin.ProtocolVersion {
		t.Fatalf("negotiated protocol %d, want %d", v, grpcplugin.ProtocolVersion)
	}
	pc := &pluginClient{pid: client.ReattachConfig().Pid}
	for name, into := range map[string]any{"diagnostics": &pc.diagnostics, "resource": &pc.resource, "data": &pc.data} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		switch p := into.(type) {
		case *pluginv2.DiagnosticsClient:
			*p = raw.(pluginv2.DiagnosticsClient)
		case *pluginv2.ResourceClient:
			*p = raw.(pluginv2.ResourceClient)
		case *pluginv2.DataClient:
			*p = raw.(pluginv2.DataClient)
		}
	}
	return pc
}

// servers are the fake GitHub and Helm servers with the fixtures catalog.
type servers struct{ *fakes.Stack }

func newServers(t *testing.T) *servers { return &servers{fakes.NewStack(t)} }

// pluginContext is the datasource instance as Grafana sends it with every call.
func (s *servers) pluginContext(token string) *pluginv2.PluginContext {
	return instance(1, s.GitHub.URL(), s.Catalog, token, s.Prometheus.URL())
}

// instance is a datasource instance as Grafana sends it with every call.
// With prometheusURL, deployed versions are read there, with the token as
// its bearer token too.
func instance(id int64, githubURL, catalog, token string, prometheusURL ...string) *pluginv2.PluginContext {
	settings := map[string]any{"githubUrl": githubURL, "catalog": catalog, "cacheTtl": "15m", "timeoutSeconds": 10, "ociBudget": 500}
	secure := map[string]string{}
	if token != "" {
		secure["githubToken"] = token
	}
	if len(prometheusURL) > 0 {
		settings["prometheusUrl"] = prometheusURL[0]
		if token != "" {
			secure["prometheusToken"] = token
		}
	}
	jsonData, _ := json.Marshal(settings)
	return backend.ToProto().PluginContext(backend.PluginContext{
		OrgID:    1,
		PluginID: "lagwatch-datasource",
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: id, UID: fmt.Sprintf("lagwatch-%d", id), Name: "Lagwatch", Type: "lagwatch-datasource",
			JSONData: jsonData, DecryptedSecureJSONData: secure, Updated: time.Unix(1764000000, 0),
		},
	})
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (pc *pluginClient) query(t *testing.T, pctx *pluginv2.PluginContext, queryType, model string, from, to time.Time) backend.DataResponse {
	t.Helper()
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		Queries: []backend.DataQuery{{
			RefID: "A", QueryType: queryType, JSON: json.RawMessage(model),
			TimeRange: backend.TimeRange{From: from, To: to}, Interval: time.Hour, MaxDataPoints: 1000,
		}},
	})
	req.PluginContext = pctx
	resp, err := pc.data.QueryData(context.Background(), req)
	if err != nil {
		t.Fatalf("QueryData %s: %v", queryType, err)
	}
	out, err := backend.FromProto().QueryDataResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	return out.Responses["A"]
}

func (pc *pluginClient) resourceCall(t *testing.T, pctx *pluginv2.PluginContext, method, path, body string) (int, string) {
	t.Helper()
	stream, err := pc.resource.CallResource(context.Background(), &pluginv2.CallResourceRequest{
		// As Grafana sends it: the path without the query, the URL with it.
		PluginContext: pctx, Path: strings.SplitN(path, "?", 2)[0], Method: method, Url: "/" + path, Body: []byte(body),
	})
	if err != nil {
		t.Fatalf("CallResource %s: %v", path, err)
	}
	var status int
	var buf strings.Builder
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("CallResource %s: %v", path, err)
		}
		if msg.Code != 0 {
			status = int(msg.Code)
		}
		buf.Write(msg.Body)
	}
	return status, buf.String()
}

func TestPluginOverGRPC(t *testing.T) {
	s := newServers(t)
	pc := start(t) // no host environment at all
	pctx := s.pluginContext("test-token")

	t.Run("CheckHealth", func(t *testing.T) {
		res, err := pc.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("health: %s", res.Message)
		if res.Status != pluginv2.CheckHealthResponse_OK {
			t.Fatalf("health %s: %s", res.Status, res.Message)
		}
		for _, want := range []string{"5 services", "token", "all 5 charts found"} {
			if !strings.Contains(res.Message, want) {
				t.Errorf("health message %q does not mention %q", res.Message, want)
			}
		}
	})

	// A time range longer than a time.Duration holds (the SDK passes any
	// from/to between 1677 and 2262) is refused; the lag grid's step was
	// sized by a saturated span, and drew more points than were asked.
	t.Run("time range too long", func(t *testing.T) {
		for _, qt := range []string{"lag", "current", "status", "events"} {
			dr := pc.query(t, pctx, qt, `{}`, ts("1700-01-01T00:00:00Z"), ts("2200-01-01T00:00:00Z"))
			if dr.Error == nil || !strings.Contains(dr.Error.Error(), "the time range 1700-01-01T00:00:00Z to 2200-01-01T00:00:00Z is longer than 106751 days (about 292 years)") {
				t.Errorf("%s: error %v, %d frames", qt, dr.Error, len(dr.Frames))
			}
		}
	})

	t.Run("lag", func(t *testing.T) {
		dr := pc.query(t, pctx, "lag", `{"metrics":["lag","versions_behind","chart_age"]}`, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		if err := dataplanetest.CheckTimeSeriesMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		if len(dr.Frames) != 5*3 {
			t.Errorf("%d frames, want 15 (5 services × 3 metrics)", len(dr.Frames))
		}
		last := map[string]float64{}
		for _, f := range dr.Frames {
			v := f.Fields[1]
			if x, ok := v.ConcreteAt(v.Len() - 1); ok {
				last[v.Labels["service"]+" "+v.Labels["metric"]] = x.(float64)
			}
		}
		if last["ollama versions_behind"] != 1 || last["chromadb versions_behind"] != 11 {
			t.Errorf("versions behind at range end: %v", last)
		}
		// The same chart over OCI gives the same series as over HTTP.
		for _, m := range []string{"lag", "versions_behind", "chart_age"} {
			if !sameValues(dr.Frames, "ollama", "ollama-oci", m) {
				t.Errorf("%s over OCI differs from HTTP", m)
			}
		}
		if want := ts("2025-09-30T00:00:00Z").Sub(ts("2025-09-26T01:30:45Z")).Seconds(); last["ollama lag"] != want {
			t.Errorf("ollama lag = %v, want %v", last["ollama lag"], want)
		}
	})

	t.Run("current", func(t *testing.T) {
		dr := pc.query(t, pctx, "current", `{"metrics":["lag","chart_age","is_current"]}`, ts("2025-09-29T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		if len(dr.Frames) != 5*3 {
			t.Errorf("%d frames, want 15", len(dr.Frames))
		}
	})

	t.Run("every hop", func(t *testing.T) {
		// Ollama pinned to 0.11.10 in the catalog, the GPU Operator read
		// from the fake Prometheus (v25.3.3 runs, v25.3.4 is out).
		dr := pc.query(t, pctx, "current", `{"metrics":["lag","rollout_lag","deployed_lag","deployed_versions_behind","verdict"]}`, ts("2025-09-29T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range dr.Frames {
			if v, ok := f.Fields[0].ConcreteAt(0); ok {
				got[f.Fields[0].Labels["service"]+" "+f.Fields[0].Labels["metric"]] = v.(float64)
			}
		}
		at := ts("2025-09-30T00:00:00Z")
		for k, want := range map[string]float64{
			"ollama deployed_versions_behind":       5,
			"ollama deployed_lag":                   (408*time.Hour + 19*time.Minute + 46*time.Second).Seconds(), // engine.TestDeployedOnFixtures
			"gpu-operator deployed_versions_behind": 1,
			"gpu-operator deployed_lag":             at.Sub(ts("2025-09-17T19:08:37Z")).Seconds(),
			"chromadb verdict":                      4,
		} {
			if math.Abs(got[k]-want) > 1 {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
		if _, ok := got["chromadb deployed_lag"]; ok {
			t.Error("chromadb has no deployed version: its deployed_lag must be null")
		}
		dr = pc.query(t, pctx, "lag", `{"services":["gpu-operator"],"metrics":["lag","rollout_lag","deployed_lag"]}`, ts("2025-09-01T00:00:00Z"), at)
		if dr.Error != nil || len(dr.Frames) != 3 {
			t.Fatalf("lag: %v, %d frames", dr.Error, len(dr.Frames))
		}
		if err := dataplanetest.CheckTimeSeriesMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		code, body := pc.resourceCall(t, pctx, "GET", "versions?service=gpu-operator", "")
		if code != 200 || !strings.Contains(body, `"version":"25.3.4"`) {
			t.Errorf("GET /versions = %d %.200s", code, body)
		}
		for value := range s.Prometheus.Authorizations() {
			if value != "Bearer test-token" {
				t.Errorf("Prometheus received Authorization %q", value)
			}
		}
	})

	t.Run("status", func(t *testing.T) {
		dr := pc.query(t, pctx, "status", `{}`, ts("2025-01-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error != nil || len(dr.Frames) != 1 {
			t.Fatalf("status: %v, %d frames", dr.Error, len(dr.Frames))
		}
		f := dr.Frames[0]
		if rows, _ := f.RowLen(); rows != 5 {
			t.Fatalf("%d rows, want 5", rows)
		}
		got := map[string]string{}
		svc, _ := f.FieldByName("service")
		pkg, _ := f.FieldByName("packaged")
		latest, _ := f.FieldByName("upstream_latest")
		for i := 0; i < svc.Len(); i++ {
			got[svc.At(i).(string)] = pkg.At(i).(string) + "/" + latest.At(i).(string)
		}
		if got["ollama"] != "0.12.2/0.12.3" || got["ollama-oci"] != "0.12.2/0.12.3" || got["chromadb"] != "1.0.10/1.1.0" {
			t.Errorf("packaged/latest = %v", got)
		}
	})

	t.Run("events", func(t *testing.T) {
		dr := pc.query(t, pctx, "events", `{"services":["ollama"]}`, ts("2025-09-20T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error != nil || len(dr.Frames) != 1 {
			t.Fatalf("events: %v", dr.Error)
		}
		title, _ := dr.Frames[0].FieldByName("title")
		var titles []string
		for i := 0; i < title.Len(); i++ {
			titles = append(titles, title.At(i).(string))
		}
		// The last: the forecast of the open 0.12.3, ahead of the range end.
		want := []string{"ollama 0.12.1 released", "ollama 0.12.2 released", "chart ollama 1.30.0 ships 0.12.2", "ollama 0.12.3 released", "ollama 0.12.3 expected in chart ollama"}
		if strings.Join(titles, "|") != strings.Join(want, "|") {
			t.Errorf("event titles = %q, want %q", titles, want)
		}
	})

	t.Run("token from secureJsonData only", func(t *testing.T) {
		for value, n := range s.GitHub.Authorizations() {
			if value != "Bearer test-token" {
				t.Errorf("%d requests with Authorization %q", n, value)
			}
		}
	})

	t.Run("bad query", func(t *testing.T) {
		dr := pc.query(t, pctx, "lag", `{"metrics":["speed"]}`, ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
		if dr.Error == nil || !strings.Contains(dr.Error.Error(), `"speed"`) {
			t.Errorf("error = %v, want one naming the metric", dr.Error)
		}
	})

	t.Run("resources", func(t *testing.T) {
		code, body := pc.resourceCall(t, pctx, "GET", "services", "")
		if code != 200 || !strings.Contains(body, `"name":"ollama"`) || !strings.Contains(body, `"maintainers":["community","vendor"]`) {
			t.Errorf("GET /services = %d %s", code, body)
		}
		req, _ := json.Marshal(map[string]string{"catalog": "services:\n  - name: x\n    maintainer: vendor\n    upstream: {repo: nope}\n"})
		code, body = pc.resourceCall(t, pctx, "POST", "validate", string(req))
		if code != 200 || !strings.Contains(body, `"valid":false`) || !strings.Contains(body, `"field":"upstream.repo"`) || !strings.Contains(body, `"line":4`) {
			t.Errorf("POST /validate = %d %s", code, body)
		}
	})
}

// TestPartialFailure: one broken chart repository shows as a notice on its own
// frames while the other services answer.
func TestPartialFailure(t *testing.T) {
	s := newServers(t)
	s.Helm.Fail("amikos-tech__chromadb-chart", 500)
	pc := start(t)
	dr := pc.query(t, s.pluginContext("test-token"), "current", `{"metrics":["lag"]}`, ts("2025-09-29T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
		t.Fatal(err)
	}
	for _, f := range dr.Frames {
		svc := f.Fields[0].Labels["service"]
		rows, _ := f.RowLen()
		_, hasValue := f.Fields[0].ConcreteAt(0)
		failed := f.Meta != nil && hasError(f.Meta.Notices)
		if rows != 1 || (svc == "chromadb") != failed || (svc == "chromadb") == hasValue {
			t.Errorf("%s: %d rows, value %v, error notice %v; want one row, null and a notice only for chromadb", svc, rows, hasValue, failed)
		}
	}
}

func hasError(ns []data.Notice) bool {
	for _, n := range ns {
		if n.Severity == data.NoticeSeverityError && strings.Contains(n.Text, "500") {
			return true
		}
	}
	return false
}

// TestTokenOnlyFromSecureJSONData: a GITHUB_TOKEN in the plugin's environment
// is never used; without a token in secureJsonData tag-based services read
// GitHub's tag feed and say how little history that is, and release-based
// services answer as usual.
func TestTokenOnlyFromSecureJSONData(t *testing.T) {
	s := newServers(t)
	pc := start(t, "GITHUB_TOKEN=from-the-environment")
	pctx := s.pluginContext("")
	res, err := pc.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("health without token: %s", res.Message)
	if !strings.Contains(res.Message, "no token") || !strings.Contains(res.Message, "60") {
		t.Errorf("health without token says %q", res.Message)
	}
	if res.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(res.Message, "services ollama, chromadb, vllm-stack, ollama-oci (source: tags) get only their 10 newest tags") {
		t.Errorf("health without token but with tags services: %s %q, want OK naming them and the tag feed", res.Status, res.Message)
	}
	dr := pc.query(t, pctx, "status", `{}`, ts("2025-01-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"))
	f := dr.Frames[0]
	svc, _ := f.FieldByName("service")
	errs, _ := f.FieldByName("error")
	for i := 0; i < svc.Len(); i++ {
		name, msg := svc.At(i).(string), errs.At(i).(string)
		if name == "gpu-operator" && msg != "" { // source: releases works without a token
			t.Errorf("gpu-operator failed without token: %s", msg)
		}
		if name == "ollama" && msg != "" {
			t.Errorf("ollama (tags, from the feed) failed: %s", msg)
		}
	}
	if f.Meta == nil || !hasNotice(f.Meta.Notices, "ollama: tags of ollama/ollama read without a GitHub token, from its tag feed") {
		t.Errorf("no notice about the tag feed: %+v", f.Meta)
	}
	auth := s.GitHub.Authorizations()
	if len(auth) != 1 || auth[""] == 0 {
		t.Errorf("Authorization headers GitHub received: %v, want none at all", auth)
	}
	for _, f := range dr.Frames {
		if b, _ := f.MarshalJSON(); strings.Contains(string(b), "from-the-environment") {
			t.Error("a frame holds the environment token")
		}
	}
}

// sameValues compares the time and value fields of one metric of two services.
func sameValues(fs data.Frames, a, b, metric string) bool {
	var got [2]*data.Frame
	for _, f := range fs {
		for i, svc := range []string{a, b} {
			if f.Fields[1].Labels["service"] == svc && f.Fields[1].Labels["metric"] == metric {
				got[i] = f
			}
		}
	}
	if got[0] == nil || got[1] == nil || got[0].Fields[0].Len() != got[1].Fields[0].Len() {
		return false
	}
	for i := 0; i < got[0].Fields[0].Len(); i++ {
		if got[0].Fields[0].At(i) != got[1].Fields[0].At(i) {
			return false
		}
		x, okX := got[0].Fields[1].ConcreteAt(i)
		y, okY := got[1].Fields[1].ConcreteAt(i)
		if okX != okY || x != y {
			return false
		}
	}
	return true
}

func hasNotice(ns []data.Notice, text string) bool {
	for _, n := range ns {
		if strings.Contains(n.Text, text) {
			return true
		}
	}
	return false
}
