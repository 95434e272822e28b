package catalog

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseFixturesCatalog(t *testing.T) {
	b, err := os.ReadFile("../../testdata/catalogs/fixtures.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Parse([]byte(strings.ReplaceAll(string(b), "HELM_URL", "http://127.0.0.1:8080")))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Services) != 4 {
		t.Fatalf("%d services", len(cat.Services))
	}
	vllm := cat.Services[2]
	if vllm.Chart.VersionFrom != FromVersion || cat.Services[0].Chart.VersionFrom != FromAppVersion {
		t.Errorf("versionFrom: %+v", cat.Services)
	}
	if cat.Services[3].Upstream.Source != "releases" || cat.Services[0].Upstream.Source != "tags" {
		t.Errorf("sources: %+v", cat.Services)
	}
	if h := cat.Hosts(); len(h) != 1 || h[0] != "127.0.0.1:8080" {
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
      repository: oci://registry-1.docker.io/bitnamicharts
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
	for _, frag := range []string{`"ollama" is not a GitHub owner/name`, "exactly one capture group", "OCI registry", `"ollama" is used by another service`} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("errors do not say %q: %v", frag, err)
		}
	}
}

func TestSyntaxAndShapeErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                         "catalog is empty",
		"services:\n  - name: [\n": "line",
		"services:\n  - name: a\n    colour: red\n": "field colour not found",
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
