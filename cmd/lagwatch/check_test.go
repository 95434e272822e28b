package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/check"
)

// The four mistakes of issue 17, on the fixtures.
const mistakesCatalog = `services:
  - name: ollama-version-from
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^v(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama, versionFrom: version}
  - name: ollama-pattern
    maintainer: community
    upstream: {repo: ollama/ollama, source: tags, tagPattern: '^release-(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/otwld__ollama-helm, name: ollama}
  - name: chromadb-no-pattern
    maintainer: community
    upstream: {repo: chroma-core/chroma, source: tags}
    chart: {repository: HELM/amikos-tech__chromadb-chart, name: chromadb}
  - name: gpu-operator-wrong-upstream
    maintainer: vendor
    upstream: {repo: chroma-core/chroma, source: tags, tagPattern: '^(\d+\.\d+\.\d+)$'}
    chart: {repository: HELM/NVIDIA__gpu-operator, name: gpu-operator, versionFrom: version}
`

func TestCheckCommand(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, withToken, "check", "--catalog", s.catalog, "--at", at, "--github-url", s.gh.URL(), "--oci-budget", "500")
	if code != 0 {
		t.Fatalf("fixtures catalog: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, svc := range []string{"ollama", "ollama-oci", "chromadb", "vllm-stack", "gpu-operator"} {
		if !strings.Contains(out, svc+": ok (coverage ") {
			t.Errorf("no ok line for %s in\n%s", svc, out)
		}
	}
	if !strings.Contains(errOut, "requests: GitHub REST") {
		t.Errorf("no request summary in\n%s", errOut)
	}

	path := filepath.Join(t.TempDir(), "mistakes.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(mistakesCatalog, "HELM", s.helm.URL())), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, withToken, "check", "--catalog", path, "--at", at, "--github-url", s.gh.URL())
	if code != 1 {
		t.Fatalf("mistakes: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	t.Logf("%s", out)
	for _, want := range []string{
		"ollama-version-from: PROBLEM",
		"problem packaged-unknown-upstream: the packaged version 1.30.0 (chart 1.30.0) is no upstream version and is above the newest one (0.12.3)",
		"fix: chart.versionFrom: appVersion  # appVersion gives 20 of the last 20 chart versions an upstream version (version gives 0); it ships 0.12.2",
		"ollama-pattern: PROBLEM",
		"problem no-upstream-version: none of the 331 upstream tags of ollama/ollama gives a version with tagPattern",
		`fix: upstream.tagPattern: '^v(\d+\.\d+\.\d+)$'  # keeps 153 of 331 tags; 20 of the last 20 chart versions match (0 with the current pattern)`,
		"chromadb-no-pattern: PROBLEM",
		"problem tags-not-versions: 49 upstream tags are not versions and no tagPattern picks the stream of the chart",
		`fix: upstream.tagPattern: '^(\d+\.\d+\.\d+)$'  # keeps 106 of 155 tags; 20 of the last 20 chart versions match`,
		`left out: 49 upstream tags that are not versions, e.g. "cli-1.1.10", "cli-1.1.9", "cli-1.1.8"`,
		"gpu-operator-wrong-upstream: PROBLEM",
		"problem low-coverage: 0 of the last 20 chart versions ship an upstream version",
		// The wrong upstream: the chart's own metadata names the right one, verified.
		"fix: upstream.repo: NVIDIA/gpu-operator  # named by the chart's sources; releases with tagPattern '^v?(\\d+\\.\\d+\\.\\d+)$' keeps 53 of 63; 20 of the last 20 chart versions match",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	code, out, _ = runCLI(t, withToken, "check", "--catalog", path, "--at", at, "--github-url", s.gh.URL(), "--format", "json", "--services", "ollama-version-from")
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Problems != 1 || rep.Results[0].Suggested == nil || rep.Results[0].Suggested.Chart.VersionFrom != "appVersion" {
		t.Errorf("json: exit %d, err %v, %+v", code, err, rep)
	}

	if code, _, errOut := runCLI(t, withToken, "check", "--catalog", path, "--format", "yaml"); code != 2 || !strings.Contains(errOut, `--format "yaml" must be text or json`) {
		t.Errorf("bad format: exit %d, %s", code, errOut)
	}
}

// Without a token, tags come from the tag feed (the 10 newest): chart
// versions older than that history are not judged, so a right entry does
// not read as misconfigured.
func TestCheckWithoutToken(t *testing.T) {
	s := newServers(t)
	code, out, errOut := runCLI(t, env(nil), "check", "--catalog", s.catalog, "--github-url", s.gh.URL(), "--oci-budget", "500")
	if code != 0 || !strings.Contains(out, "chromadb: ok (coverage not judged: no chart version since the upstream history read starts;") ||
		!strings.Contains(out, "  left out: 23 chart versions older than the upstream history read (not judged)\n") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}
