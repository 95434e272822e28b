package catalog

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

func TestParseFixturesCatalog(t *testing.T) {
	b, err := os.ReadFile("../../testdata/catalogs/fixtures.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Parse([]byte(strings.NewReplacer("HELM_URL", "http://127.0.0.1:8080", "OCI_HOST", "127.0.0.1:5000").Replace(string(b))))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Services) != 5 {
		t.Fatalf("%d services", len(cat.Services))
	}
	vllm := cat.Services[2]
	if vllm.Chart.VersionFrom != FromVersion || cat.Services[0].Chart.VersionFrom != FromAppVersion {
		t.Errorf("versionFrom: %+v", cat.Services)
	}
	if cat.Services[3].Upstream.Source != "releases" || cat.Services[0].Upstream.Source != "tags" {
		t.Errorf("sources: %+v", cat.Services)
	}
	if h := cat.Hosts(); len(h) != 2 || h[0] != "127.0.0.1:5000" || h[1] != "127.0.0.1:8080" {
		t.Errorf("hosts = %v", h)
	}
	if got := cat.Filter(nil, "vendor"); len(got) != 2 || got[0].Name != "vllm-stack" {
		t.Errorf("filter vendor = %v", got)
	}
	if got := cat.Filter([]string{"chromadb", "ollama"}, ""); len(got) != 2 || got[0].Name != "ollama" {
		t.Errorf("filter names keeps catalog order: %v", got)
	}
}

func TestDefaults(t *testing.T) {
	cat, err := Parse([]byte(`
services:
  - name: redis
    maintainer: Bitnami
    upstream: {repo: redis/redis}
    chart: {repository: "https://charts.example.com/", name: redis}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cat.Services[0]
	if s.Upstream.Source != "releases" || s.Chart.VersionFrom != FromAppVersion || s.Maintainer != "Bitnami" {
		t.Errorf("defaults: %+v", s)
	}
}

func TestValidationErrors(t *testing.T) {
	src := `services:
  - name: ollama
    maintainer: community
    upstream:
      repo: ollama
      source: git
      tagPattern: '^v(\d+)\.(\d+)$'
    chart:
      repository: oci://registry-1.docker.io/bitnamicharts:latest
      name: ollama
      versionFrom: tag
  - name: ollama
    upstream: {repo: a/b}
    chart: {repository: "https://x.example", name: ""}
`
	_, err := Parse([]byte(src))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not Errors", err)
	}
	want := []Error{
		{Service: "ollama", Field: "upstream.repo", Line: 5},
		{Service: "ollama", Field: "upstream.source", Line: 6},
		{Service: "ollama", Field: "upstream.tagPattern", Line: 7},
		{Service: "ollama", Field: "chart.repository", Line: 9},
		{Service: "ollama", Field: "chart.versionFrom", Line: 11},
		{Service: "ollama", Field: "name", Line: 12},
		{Service: "ollama", Field: "maintainer", Line: 12},
		{Service: "ollama", Field: "chart.name", Line: 14},
	}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		g := errs[i]
		if g.Service != w.Service || g.Field != w.Field || g.Line != w.Line || g.Message == "" {
			t.Errorf("error %d = %+v, want %+v", i, g, w)
		}
	}
	for _, frag := range []string{`"ollama" is not a GitHub owner/name`, "exactly one capture group", "without a tag, digest or query", `"ollama" is used by another service`} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("errors do not say %q: %v", frag, err)
		}
	}
}

func TestSyntaxAndShapeErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                         "catalog is empty",
		"services:\n  - name: [\n": "line",
		"services:\n  - name: a\n    colour: red\n": `unknown field "colour"`,
		"services: 3\n": "line 1: found a number, expected a list",
		"services:\n  - name: a\n    upstream: [1]\n": "found a list, expected a mapping",
		"services: []\n": "no services",
		"services:\n  - name: a\n    maintainer: v\n    upstream: {repo: a/b}\n    chart: {repository: 'https://u:s3cret@charts.example', name: a}\n": "holds credentials",
	} {
		_, err := Parse([]byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
	if _, err := Parse([]byte("services:\n  - name: a\n    maintainer: v\n    upstream: {repo: a/b}\n    chart: {repository: 'https://u:s3cret@charts.example', name: a}\n")); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("credentials error shows the password or is missing: %v", err)
	}
	_, err := Parse([]byte("services:\n  - name: a\n    colour: red\n"))
	var errs Errors
	if errors.As(err, &errs); len(errs) != 1 || errs[0].Line != 3 {
		t.Errorf("unknown field error = %+v, want line 3", errs)
	}
}

// Hostile catalogs reach Parse through POST /validate (any Viewer) and the
// settings: repeated keys are found in linear time, and sizes are capped.
func TestHostileCatalogs(t *testing.T) {
	repeated := "services:\n  - name: a\n" + strings.Repeat("    maintainer: x\n", 6000)
	distinct := &strings.Builder{}
	distinct.WriteString("services:\n  - name: a\n")
	for i := range 5000 {
		fmt.Fprintf(distinct, "    k%d: 1\n", i)
	}
	for name, tc := range map[string]struct{ src, want string }{
		"6000 repeated keys":  {repeated, "line 2: a mapping has 6001 keys, more than the limit of 100"},
		"a repeated key":      {"services:\n  - name: a\n    maintainer: x\n    maintainer: y\n", `line 4: key "maintainer" is repeated (first at line 3)`},
		"5000 distinct keys":  {distinct.String(), "a mapping has 5001 keys, more than the limit of 100"},
		"over the size limit": {"services:\n" + strings.Repeat("# padding\n", MaxBytes/10+1), "more than the limit of 1024 KiB"},
		"nested 100 deep":     {strings.Repeat("[", 100) + strings.Repeat("]", 100), "deeper than 16 levels"},
		"a huge quoted value": {"services: \"" + strings.Repeat("x", 100_000) + "\"\n", "found a text value"},
	} {
		var err error
		alloc := fakes.PeakHeap(func() { _, err = Parse([]byte(tc.src)) })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("%s: the message is %d bytes long", name, len(err.Error()))
		}
		if limit := uint64(64 << 20); alloc > limit {
			t.Errorf("%s: parsing allocated %d MB, want at most %d MB", name, alloc>>20, limit>>20)
		}
	}
}

// oci://HOST/PATH with chart.name NAME is HOST/PATH/NAME, as helm install
// reads it; its host is allowed like an HTTP repository's.
func TestOCIChart(t *testing.T) {
	cat, err := Parse([]byte("services:\n  - name: redis\n    maintainer: Bitnami\n    upstream: {repo: redis/redis}\n    chart: {repository: 'oci://registry-1.docker.io/bitnamicharts', name: redis}\n  - name: app\n    maintainer: vendor\n    upstream: {repo: a/b}\n    chart: {repository: 'oci://docker.io/x', name: app}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if hosts := cat.Hosts(); len(hosts) != 1 || hosts[0] != "registry-1.docker.io" {
		t.Errorf("hosts %v", hosts)
	}
	_, err = Parse([]byte("services:\n  - name: redis\n    maintainer: Bitnami\n    upstream: {repo: redis/redis}\n    chart: {repository: 'oci://u:pw@ghcr.io/x', name: redis}\n"))
	if err == nil || !strings.Contains(err.Error(), "holds credentials") || strings.Contains(err.Error(), "pw") {
		t.Errorf("credentials in an oci URL: %v", err)
	}
}

func TestDeployed(t *testing.T) {
	base := `services:
  - name: prometheus
    maintainer: community
    upstream: {repo: prometheus/prometheus}
    chart: {repository: "https://prometheus-community.github.io/helm-charts", name: prometheus}
`
	cat, err := Parse([]byte(base + `    deployed:
      prometheus: {query: 'max by (version) (prometheus_build_info{job="prometheus"})', label: version}
`))
	if err != nil {
		t.Fatal(err)
	}
	if d := cat.Services[0].Deployed; d == nil || d.Prometheus == nil || d.Prometheus.Label != "version" || d.Version != "" {
		t.Errorf("deployed = %+v", d)
	}
	cat, err = Parse([]byte(base + "    deployed: {version: v3.5.0}\n"))
	if err != nil || cat.Services[0].Deployed.Version != "v3.5.0" {
		t.Fatalf("pinned: %v", err)
	}
	if cat, _ := Parse([]byte(base)); cat.Services[0].Deployed != nil {
		t.Error("no deployed: nil (unknown), not a zero version")
	}
	for _, tc := range []struct{ deployed, field, msg string }{
		{"deployed: {}", "deployed", "needs either version"},
		{"deployed: {version: 1.0.0, prometheus: {query: up, label: version}}", "deployed", "give one of them"},
		{"deployed: {version: latest}", "deployed.version", `"latest" does not parse as semver`},
		{"deployed: {prometheus: {label: version}}", "deployed.prometheus.query", "is required"},
		{"deployed: {prometheus: {query: up}}", "deployed.prometheus.label", "is required"},
		{"deployed: {prometheus: {query: up, label: 1version}}", "deployed.prometheus.label", "not a Prometheus label name"},
		{"deployed: {prometheus: {query: up, label: version, job: x}}", "", `unknown field "job"`},
		{"deployed: 1.2.3", "", "found a text value, expected a mapping"},
		{"deployed: {prometheus: {query: '" + strings.Repeat("x", MaxQueryBytes+1) + "', label: version}}", "deployed.prometheus.query", "more than the limit"},
	} {
		_, err := Parse([]byte(base + "    " + tc.deployed + "\n"))
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.msg) || errs[0].Line == 0 {
			t.Errorf("%.60s: %v", tc.deployed, err)
		}
		if err != nil && fakes.GoTypeIn(err.Error()) != "" {
			t.Errorf("%.60s: Go type in %q", tc.deployed, err)
		}
	}
}
