package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

const at = "2025-09-30T00:00:00Z"

type servers struct {
	gh      *fakes.GitHub
	helm    *fakes.Helm
	prom    *fakes.Prometheus
	catalog string // path of the fixtures catalog pointed at the fake Helm server
}

func newServers(t *testing.T) servers {
	t.Helper()
	st := fakes.NewStack(t)
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(path, []byte(st.Catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	return servers{gh: st.GitHub, helm: st.Helm, prom: st.Prometheus, catalog: path}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var withToken = env(map[string]string{"GITHUB_TOKEN": "test-token"})

func runCLI(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb, getenv)
	return code, out.String(), errb.String()
}

// tableRow returns the cells of the table row of service.
func tableRow(t *testing.T, table, service string) []string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(cells) > 0 && cells[0] == service {
			return cells
		}
	}
	t.Fatalf("no row for %s in\n%s", service, table)
	return nil
}

func TestReportTable(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, withToken, "report", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL(), "--oci-budget", "500")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	header := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]), -1)
	want := []string{"SERVICE", "MAINTAINER", "CHART", "PACKAGED", "UPSTREAM LATEST", "BEHIND", "LAG", "CHART AGE", "LAST CHART", "DELAY MEDIAN", "DELAY P90", "OPEN",
		"DEPLOYED", "DEPLOYED LAG", "ROLLOUT LAG", "VERDICT", "NEXT SHIP", "OVERDUE"}
	if strings.Join(header, "|") != strings.Join(want, "|") {
		t.Errorf("header = %q, want %q", header, want)
	}
	// Columns: service, maintainer, chart+version, packaged, upstream, behind, lag, ...
	for _, c := range []struct{ service, packaged, latest, behind, lag string }{
		{"ollama", "0.12.2", "0.12.3", "1", "3.9d"},
		{"ollama-oci", "0.12.2", "0.12.3", "1", "3.9d"}, // the same chart over OCI
		{"chromadb", "1.0.10", "1.1.0", "11", "125d"},
	} {
		row := tableRow(t, out, c.service)
		if len(row) != len(want) {
			t.Fatalf("%s row has %d cells, want %d: %q", c.service, len(row), len(want), row)
		}
		if row[3] != c.packaged || row[4] != c.latest || row[5] != c.behind || row[6] != c.lag {
			t.Errorf("%s: packaged %s, upstream %s, behind %s, lag %s; want %s, %s, %s, %s",
				c.service, row[3], row[4], row[5], row[6], c.packaged, c.latest, c.behind, c.lag)
		}
	}
	if r := tableRow(t, out, "ollama"); r[1] != "community" || r[2] != "ollama 1.30.0" || r[8] != "2025-09-25" {
		t.Errorf("ollama row = %q", r)
	}
	for _, svc := range []string{"ollama", "chromadb", "vllm-stack", "gpu-operator", "ollama-oci"} {
		if !regexp.MustCompile(`(?m)^\[[1-5]/5\] ` + svc + ` ok$`).MatchString(errOut) {
			t.Errorf("stderr has no progress line for %s:\n%s", svc, errOut)
		}
	}
	if !strings.Contains(errOut, "requests: GitHub REST ") {
		t.Errorf("stderr has no request summary:\n%s", errOut)
	}
}

func TestReportJSON(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, withToken, "report", "--catalog", s.catalog, "--at", "2025-09-30", "--format", "json",
		"--github-url", s.gh.URL(), "--services", "chromadb,ollama")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var doc struct {
		At       string           `json:"at"`
		Services []map[string]any `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if doc.At != at {
		t.Errorf("at = %q, want %q (a date means midnight UTC)", doc.At, at)
	}
	if len(doc.Services) != 2 {
		t.Fatalf("got %d services, want 2 (--services)", len(doc.Services))
	}
	byName := map[string]map[string]any{}
	for _, r := range doc.Services {
		byName[r["service"].(string)] = r
	}
	ch := byName["chromadb"]
	if ch["packaged"] != "1.0.10" || ch["upstream_latest"] != "1.1.0" || ch["versions_behind"] != float64(11) || ch["error"] != "" {
		t.Errorf("chromadb = %v", ch)
	}
	if lag, _ := ch["lag"].(float64); lag != 1.0801984e+07 {
		t.Errorf("chromadb lag = %v s, want 1.0801984e+07 (as in the status frame)", ch["lag"])
	}
	if byName["ollama"]["versions_behind"] != float64(1) {
		t.Errorf("ollama = %v", byName["ollama"])
	}
}

func TestReportPartialFailure(t *testing.T) {
	s := newServers(t)
	s.gh.FailRepo("chroma-core/chroma", http.StatusInternalServerError)
	code, out, errOut := runCLI(t, withToken, "report", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL())
	if code != 1 {
		t.Fatalf("exit %d, want 1 (partial); stderr:\n%s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^\[\d/5\] chromadb failed: .+`).MatchString(errOut) {
		t.Errorf("no failure progress line for chromadb:\n%s", errOut)
	}
	if !regexp.MustCompile(`(?m)^warning: chromadb: .*chroma-core/chroma`).MatchString(errOut) {
		t.Errorf("no warning naming chromadb:\n%s", errOut)
	}
	if r := tableRow(t, out, "chromadb"); r[3] != "FAILED" {
		t.Errorf("chromadb row = %q, want FAILED", r)
	}
	if r := tableRow(t, out, "ollama"); r[3] != "0.12.2" {
		t.Errorf("ollama row = %q: the other services must still be reported", r)
	}
}

func TestReportWithoutToken(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, env(nil), "report", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL())
	if code != 0 {
		t.Fatalf("exit %d, want 0: tags come from the tag feed without a token; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "GITHUB_TOKEN is not set") || !strings.Contains(errOut, "note: chromadb: tags of chroma-core/chroma read without a GitHub token, from its tag feed: only the 10 newest tags") ||
		!strings.Contains(errOut, "set the GITHUB_TOKEN environment variable for the whole history") {
		t.Errorf("stderr does not explain the missing token:\n%s", errOut)
	}
	if r := tableRow(t, out, "gpu-operator"); r[3] == "FAILED" || r[3] == "-" {
		t.Errorf("gpu-operator (releases, no token needed) = %q", r)
	}
	if s.gh.RequestsTo("/graphql") != 0 {
		t.Errorf("GraphQL was called without a token")
	}
}

func TestCatalogErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("services:\n  - name: redis\n    maintainer: community\n    upstream: {repo: redis/redis}\n    chart: {repository: 'oci://registry-1.docker.io/bitnamicharts:latest', name: redis}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml") // valid, but the run stops at the credentials
	if err := os.WriteFile(good, []byte("services:\n  - name: redis\n    maintainer: community\n    upstream: {repo: redis/redis}\n    chart: {repository: 'oci://127.0.0.1:1/bitnamicharts', name: redis}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"invalid", []string{"report", "--catalog", bad}, []string{bad, "without a tag", "redis"}},
		{"bad OCI credentials", []string{"report", "--catalog", good}, []string{"LAGWATCH_OCI_CREDENTIALS: line 1 (ghcr.io): expected HOST USERNAME:PASSWORD"}},
		{"missing file", []string{"report", "--catalog", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
		{"validate", []string{"validate", "--catalog", bad}, []string{bad, "without a tag"}},
		{"no catalog", []string{"report"}, []string{"--catalog"}},
		{"bad at", []string{"report", "--catalog", bad, "--at", "yesterday"}, []string{"--at"}},
		{"bad format", []string{"report", "--catalog", bad, "--format", "xml"}, []string{"--format"}},
		{"bad since", []string{"report", "--catalog", bad, "--since", "soon"}, []string{"--since"}},
		{"unknown command", []string{"frobnicate"}, []string{"unknown command"}},
		{"no command", nil, []string{"usage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env(map[string]string{"LAGWATCH_OCI_CREDENTIALS": "ghcr.io robot"}), tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestValidateHomelabCatalog(t *testing.T) {
	path := filepath.Join("..", "..", "provisioning", "catalog", "homelab-stack.yaml")
	code, out, errOut := runCLI(t, env(nil), "validate", "--catalog", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "services") {
		t.Errorf("stdout = %q", out)
	}
}

func TestDays(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "-"}, {0.0, "0"}, {1800.0, "1h"}, {7200.0, "2h"}, {340155.0, "3.9d"}, {1.0801984e+07, "125d"},
	} {
		if got := days(c.in); got != c.want {
			t.Errorf("days(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The last hop, the verdict and the forecast in the report: Ollama pinned
// in the catalog, the GPU Operator read from Prometheus (--prometheus-url,
// its token from LAGWATCH_PROMETHEUS_TOKEN).
func TestReportLastHop(t *testing.T) {
	s := newServers(t)
	s.prom.RequireToken("prom-token")
	getenv := env(map[string]string{"GITHUB_TOKEN": "test-token", "LAGWATCH_PROMETHEUS_TOKEN": "prom-token"})
	code, out, errOut := runCLI(t, getenv, "report", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL(), "--oci-budget", "500",
		"--prometheus-url", s.prom.URL(), "--services", "ollama,chromadb,gpu-operator")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for service, want := range map[string][]string{
		// DEPLOYED, DEPLOYED LAG, ROLLOUT LAG, VERDICT, NEXT SHIP, OVERDUE
		"ollama":       {"0.11.10", "17d", "12d", "chart keeps up", "2025-10-02", "0"},
		"chromadb":     {"-", "-", "-", "possibly abandoned", "2025-10-13", "6"}, // 1.0.21: the earliest p50 still ahead
		"gpu-operator": {"25.3.3", "12d", "11d", "chart keeps up", "-", "0"},
	} {
		row := tableRow(t, out, service)
		if got := row[len(row)-6:]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", service, got, want)
		}
	}
	if !strings.Contains(errOut, "Prometheus 2") { // a range and an instant query
		t.Errorf("the request summary does not count Prometheus:\n%s", errOut)
	}
	code, _, errOut = runCLI(t, withToken, "report", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL(), "--services", "gpu-operator")
	if code != 0 || !strings.Contains(errOut, "no Prometheus URL is set: pass --prometheus-url URL") {
		t.Errorf("without --prometheus-url: exit %d\n%s", code, errOut)
	}
	for vars, want := range map[string]string{
		"LAGWATCH_PROMETHEUS_PASSWORD": "LAGWATCH_PROMETHEUS_PASSWORD is set but LAGWATCH_PROMETHEUS_USER is not",
		"LAGWATCH_PROMETHEUS_TOKEN":    "both LAGWATCH_PROMETHEUS_USER (basic auth) and LAGWATCH_PROMETHEUS_TOKEN are set",
	} {
		e := map[string]string{vars: "x"}
		if vars == "LAGWATCH_PROMETHEUS_TOKEN" {
			e["LAGWATCH_PROMETHEUS_USER"] = "grafana"
		}
		code, _, errOut := runCLI(t, env(e), "report", "--catalog", s.catalog, "--prometheus-url", s.prom.URL())
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d %q", vars, code, errOut)
		}
	}
	for _, args := range [][]string{
		{"--prometheus-url", "localhost:9090"},
		{"--verdict-tolerance", "400d"},
		{"--verdict-window", "soon"},
	} {
		code, _, errOut := runCLI(t, withToken, append([]string{"report", "--catalog", s.catalog}, args...)...)
		if code != 2 || !strings.Contains(errOut, args[0]) {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}

// Durations in days that do not fit in a time.Duration are refused, naming
// the flag, the value and the maximum; they used to wrap around (213504d
// was a 25-minute window) with no warning.
func TestDurationFlagLimits(t *testing.T) {
	s := newServers(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--since", "213504d"}, "--since 213504d is too long: at most 106751d (about 292 years)"},
		{[]string{"report", "--since", "106752d"}, "--since 106752d is too long: at most 106751d"},
		{[]string{"report", "--since", "99999999999999999999d"}, "--since 99999999999999999999d is too long: at most 106751d"},
		{[]string{"report", "--since", "2562048h"}, "--since 2562048h is too long: at most 106751d"},
		{[]string{"report", "--timeout", "213504d"}, "--timeout 213504d is too long: at most 106751d"},
		{[]string{"report", "--verdict-window", "213504d"}, "--verdict-window 213504d is too long: at most 3650d"},
		{[]string{"report", "--verdict-abandonment", "3651d"}, "--verdict-abandonment 3651d is too long: at most 3650d"},
		{[]string{"serve", "--refresh", "213504d"}, "--refresh 213504d is too long: at most 106751d"},
		{[]string{"serve", "--verdict-tolerance", "213504d"}, "--verdict-tolerance 213504d is too long: at most 3650d"},
		{[]string{"report", "--since", "-213504d"}, `--since "-213504d" is not a positive duration`},
	} {
		code, _, errOut := runCLI(t, withToken, append(tc.args, "--catalog", s.catalog, "--github-url", s.gh.URL())...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
	// The longest values are accepted and give a report.
	code, out, errOut := runCLI(t, withToken, "report", "--catalog", s.catalog, "--github-url", s.gh.URL(), "--at", at,
		"--services", "ollama", "--since", "106751d", "--timeout", "106751d", "--verdict-window", "3650d", "--verdict-abandonment", "3650d")
	if code != exitOK || len(tableRow(t, out, "ollama")) == 0 {
		t.Errorf("the longest durations: exit %d\n%s%s", code, out, errOut)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90d": 90 * day, " 7d ": 7 * day, "720h": 720 * time.Hour, "1.5h": 90 * time.Minute,
		"106751d": 106751 * day, "2562047h": 2562047 * time.Hour, "-2d": -2 * day,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, tooLong := range map[string]bool{
		"106752d": true, "213504d": true, "9223372036854775808d": true, "2562048h": true, "9999999999999999999ns": true,
		"soon": false, "d": false, "1.5d": false, "-9223372036854775809d": false, "-2562048h": false, "5x": false, "": false,
	} {
		_, err := parseDuration(in)
		if err == nil || errors.Is(err, errTooLong) != tooLong {
			t.Errorf("parseDuration(%q): err %v, want too long %v", in, err, tooLong)
		}
	}
}
