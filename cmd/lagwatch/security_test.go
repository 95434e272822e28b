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
