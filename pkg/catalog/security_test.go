package catalog

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecurityInputs(t *testing.T) {
	cat, err := Parse([]byte(`
services:
  - name: ollama
    maintainer: community
    upstream: {repo: ollama/ollama}
    chart: {repository: "https://otwld.github.io/ollama-helm/", name: ollama}
    advisories:
      ecosystem: go
      package: [github.com/ollama/ollama, github.com/jmorganca/ollama]
  - name: redis
    maintainer: Bitnami
    upstream: {repo: redis/redis}
    chart: {repository: "https://charts.example.com/", name: redis}
    advisories: {ecosystem: go, package: github.com/redis/redis}
    eol: {product: redis}
  - name: plain
    maintainer: x
    upstream: {repo: a/b}
    chart: {repository: "https://charts.example.com/", name: b}
`))
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := cat.Services[0].AdvisoryRef()
	if !ok || ref.Ecosystem != "go" || !slices.Equal(ref.Packages, []string{"github.com/ollama/ollama", "github.com/jmorganca/ollama"}) || cat.Services[0].EOLProduct() != "" {
		t.Errorf("ollama: %+v", ref)
	}
	if ref, _ := cat.Services[1].AdvisoryRef(); len(ref.Packages) != 1 || cat.Services[1].EOLProduct() != "redis" {
		t.Errorf("redis: %+v", ref)
	}
	if _, ok := cat.Services[2].AdvisoryRef(); ok || !cat.NeedsEOL() {
		t.Error("plain service has advisories, or the catalog needs no EOL")
	}
	b, _ := json.Marshal(cat.Services[0].Advisories)
	if string(b) != `{"ecosystem":"go","package":["github.com/ollama/ollama","github.com/jmorganca/ollama"]}` {
		t.Errorf("JSON: %s", b)
	}
	// Written back as YAML (a generated catalog), it reads the same.
	out, err := yaml.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil || !slices.Equal(again.Services[0].Advisories.Package.Names, cat.Services[0].Advisories.Package.Names) ||
		!slices.Equal(again.Services[1].Advisories.Package.Names, []string{"github.com/redis/redis"}) || again.Services[1].EOLProduct() != "redis" {
		t.Errorf("round trip: %v\n%s", err, out)
	}
	cat.Services[1].EOL = nil
	if cat.NeedsEOL() {
		t.Error("NeedsEOL without any product")
	}
}

func TestSecurityValidation(t *testing.T) {
	src := `services:
  - name: a
    maintainer: x
    upstream: {repo: a/b}
    chart: {repository: "https://charts.example.com/", name: b}
    advisories:
      ecosystem: golang
      package: {name: x}
    eol:
      product: Redis Stack
  - name: b
    maintainer: x
    upstream: {repo: a/b}
    chart: {repository: "https://charts.example.com/", name: b}
    advisories: {ecosystem: npm, package: ["left-pad", "a,b"]}
    eol: {}
`
	_, err := Parse([]byte(src))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("%v", err)
	}
	want := []string{
		`line 7: service "a": advisories.ecosystem: "golang" is not a GitHub advisory ecosystem`,
		`line 8: service "a": advisories.package: found a mapping, expected a package name or a list of them`,
		`line 10: service "a": eol.product: "Redis Stack" is not an endoflife.date product name`,
		`line 15: service "b": advisories.package: "a,b" is not a package name`,
		`line 16: service "b": eol.product: is required`,
	}
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if i >= len(errs) || !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d: %v, want %q…", i, errs[min(i, len(errs)-1)], w)
		}
	}
}
