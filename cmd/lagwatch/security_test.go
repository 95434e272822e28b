package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// A catalog whose Ollama names its advisories and an endoflife.date
// product: the run reads them from the fake GitHub and the fake
// endoflife.date given by --eol-url, and the request summary counts both.
func TestReportCountsSecurityRequests(t *testing.T) {
	st := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	catalog := strings.Replace(st.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.11.10"
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: jaeger}`, 1)
	if catalog == st.Catalog {
		t.Fatal("the fixtures catalog changed: cannot add the security inputs")
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, withToken, "report", "--catalog", path, "--at", "2025-09-30", "--github-url", st.GitHub.URL(),
		"--eol-url", eolFake.URL(), "--services", "ollama")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "2 for advisories") || !strings.Contains(errOut, "endoflife.date 1") {
		t.Errorf("request summary does not count the security requests:\n%s", errOut)
	}
	code, _, errOut = runCLI(t, withToken, "report", "--catalog", path, "--github-url", st.GitHub.URL(), "--eol-url", "ftp://x")
	if code == 0 || !strings.Contains(errOut, `--eol-url: "ftp://x" is not an http(s) URL`) {
		t.Errorf("bad --eol-url: exit %d:\n%s", code, errOut)
	}
}

// lagwatch check reports the security inputs: a package the advisory
// database does not know, with the go.mod module as its fix, and a product
// whose cycles hold none of the chart's versions.
func TestCheckSecurityInputsCLI(t *testing.T) {
	st := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	catalog := strings.Replace(st.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.11.10"
    advisories: {ecosystem: go, package: github.com/ollama/ollama-app}
    eol: {product: jaeger}`, 1)
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, withToken, "check", "--catalog", path, "--at", "2025-09-30", "--github-url", st.GitHub.URL(),
		"--eol-url", eolFake.URL(), "--services", "ollama")
	for _, want := range []string{
		"ollama: PROBLEM (coverage 20 of the last 20 chart versions;",
		`  problem advisories-unknown-package: GitHub's advisory database has no advisory naming "github.com/ollama/ollama-app" (ecosystem go): the name is probably not the one the database uses; ollama/ollama's go.mod declares module "github.com/ollama/ollama"` + "\n",
		`  problem eol-no-cycle: none of the last 20 packaged versions (e.g. "0.12.2") falls in a cycle of endoflife.date product jaeger (cycles "2", "1")` + "\n",
		"  fix: advisories.package: github.com/ollama/ollama  # github.com/ollama/ollama: 16 advisories in GitHub's database (ecosystem go); the module of ollama/ollama's go.mod (replaces github.com/ollama/ollama-app)\n",
		"  advisories (go): github.com/ollama/ollama-app 0\n",
		"  eol: endoflife.date product jaeger: 0 of the last 20 chart versions fall in its 2 cycles\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if code != 1 || strings.Contains(out, "no fix from this data") {
		t.Errorf("exit %d:\n%s\n%s", code, out, errOut)
	}
}
