package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

const at = "2025-09-30T00:00:00Z"

type servers struct {
	gh      *fakes.GitHub
	helm    *fakes.Helm
	prom    *fakes.Prometheus
	oci     *fakes.OCI
	catalog string // path of the fixtures catalog pointed at the fake Helm server
}

func newServers(t *testing.T) servers {
	t.Helper()
	st := fakes.NewStack(t)
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(path, []byte(st.Catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	return servers{gh: st.GitHub, helm: st.Helm, prom: st.Prometheus, oci: st.OCI, catalog: path}
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
		"SECURITY", "EOL", "DEPLOYED", "DEPLOYED LAG", "ROLLOUT LAG", "DEPLOYED SECURITY", "DEPLOYED EOL", "VERDICT", "NEXT SHIP", "OVERDUE"}
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
	// ollama-oci's config blobs came from the registry's CDN: the summary names it.
	if n := s.oci.RequestsTo("GET cdn blob"); n == 0 || !strings.Contains(errOut, fmt.Sprintf("redirects followed to other hosts %d (%s ×%d)", n, s.oci.CDNHost(), n)) {
		t.Errorf("the request summary does not name the CDN (%d blobs from it):\n%s", n, errOut)
	}
	// and counts its requests with the others: Helm indexes, the registry's
	// (the fake does not count its 401 answers) and the CDN's
	var charts int
	if m := regexp.MustCompile(`chart repositories and registries (\d+),`).FindStringSubmatch(errOut); m != nil {
		charts, _ = strconv.Atoi(m[1])
	}
	if min := s.helm.Requests() + s.oci.Requests(); charts < min {
		t.Errorf("the request summary counts %d chart requests, the fakes received at least %d:\n%s", charts, min, errOut)
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
		// DEPLOYED, DEPLOYED LAG, ROLLOUT LAG, DEPLOYED SECURITY, DEPLOYED EOL, VERDICT, NEXT SHIP, OVERDUE
		"ollama":       {"0.11.10", "17d", "12d", "-", "-", "chart keeps up", "2025-10-02", "0"},
		"chromadb":     {"-", "-", "-", "-", "-", "possibly abandoned", "2025-10-13", "6"}, // 1.0.21: the earliest p50 still ahead
		"gpu-operator": {"25.3.3", "12d", "11d", "-", "-", "chart keeps up", "-", "0"},
	} {
		row := tableRow(t, out, service)
		if got := row[len(row)-8:]; strings.Join(got, "|") != strings.Join(want, "|") {
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

// TestReportCatalogMistakes: the catalog mistakes of
// testdata/catalogs/mistakes.yaml print "-" where a number would read "up to
// date", and stderr says why, one line per cause.
func TestReportCatalogMistakes(t *testing.T) {
	st := fakes.NewStack(t)
	cat, err := fixtures.CatalogFile("mistakes.yaml", st.Helm.URL(), st.OCI.Host())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mistakes.yaml")
	if err := os.WriteFile(path, cat, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, withToken, "report", "--catalog", path, "--at", at, "--github-url", st.GitHub.URL())
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	for _, svc := range []string{"ollama-from-version", "ollama-no-match"} {
		row := tableRow(t, out, svc)
		// upstream latest, behind, lag; security, eol; deployed lag, rollout
		// lag, deployed security, deployed eol
		for _, i := range []int{4, 5, 6, 12, 13, 15, 16, 17, 18} {
			if row[i] != "-" {
				t.Errorf("%s: column %d = %q, want -: %q", svc, i, row[i], row)
			}
		}
		if row[14] != "0.11.10" || row[19] != "no data" {
			t.Errorf("%s: deployed %q, verdict %q, want 0.11.10 (what runs is known) and no data", svc, row[14], row[19])
		}
	}
	if row := tableRow(t, out, "chromadb-no-pattern"); row[5] != "11" {
		t.Errorf("chromadb without tagPattern: behind %q, want 11 (the other tag streams are left out)", row[5])
	}
	for _, want := range []string{
		`warning: ollama-from-version: packaged version 1.30.0 (chart 1.30.0, version "1.30.0") is no upstream version and is above the newest one, 0.12.3`,
		`did you mean chart.versionFrom: appVersion? it ships "0.12.2"`,
		"warning: ollama-no-match: no upstream version",
		`note: ollama-no-match: none of the 635 upstream tags match tagPattern '^release-(\d+\.\d+\.\d+)$'`,
		"note: chromadb-no-pattern: 66 upstream tags left out (not a version)",
		"warning: ollama-wrong-upstream: low coverage: 0 of the chart's last 20 versions ship an upstream version",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q", want)
		}
	}
	if n := strings.Count(errOut, "chromadb-no-pattern:"); n != 1 {
		t.Errorf("%d lines about chromadb-no-pattern, want 1", n)
	}
}
