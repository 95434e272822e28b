package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// The requests to the --eol-url host count as endoflife.date, not as
	// chart repository requests.
	if !strings.Contains(errOut, "chart repositories and registries 1, endoflife.date 2\n") {
		t.Errorf("request summary does not count the endoflife.date request:\n%s", errOut)
	}
}

// The report's security cells on the fixtures at the time: late
// June 2024, Ollama runs 0.1.32 and is one released fix behind (Probllama,
// GHSA-8hqg-whrw-pv92, fixed in 0.1.34 on 2024-05-07T17:48:32Z, 51 days
// earlier), at the fixture's severity; the chart is not; no jaeger cycle
// matches 0.x: "-". The JSON rows carry the same numbers as the table.
func TestReportSecurity(t *testing.T) {
	st := fakes.NewStack(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	catalog := strings.Replace(st.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.1.32"
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: jaeger}`, 1)
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"report", "--catalog", path, "--at", "2024-06-28T00:00:00Z", "--github-url", st.GitHub.URL(), "--eol-url", eolFake.URL(), "--services", "ollama,chromadb"}
	code, out, errOut := runCLI(t, withToken, args...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	sev := fakes.SeverityOf(t, "GHSA-8hqg-whrw-pv92")
	lag := time.Date(2024, 6, 28, 0, 0, 0, 0, time.UTC).Sub(time.Date(2024, 5, 7, 17, 48, 32, 0, time.UTC)).Seconds()
	row := tableRow(t, out, "ollama")
	// SECURITY, EOL, ..., DEPLOYED SECURITY, DEPLOYED EOL
	if got, want := []string{row[12], row[13], row[17], row[18]}, []string{"0", "-", "1 " + sev.String() + " 51d", "-"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ollama security cells %q, want %q\n%s", got, want, out)
	}
	if row := tableRow(t, out, "chromadb"); row[12] != "-" || row[13] != "-" {
		t.Errorf("chromadb security cells %q %q, want - (it names neither input)", row[12], row[13])
	}
	code, out, errOut = runCLI(t, withToken, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("json: exit %d:\n%s", code, errOut)
	}
	var report struct {
		Services []map[string]any `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	r := report.Services[0]
	for k, want := range map[string]any{"deployed_security_fixes_behind": 1.0, "deployed_security_severity": float64(sev), "deployed_security_lag": lag,
		"deployed_advisories": "GHSA-8hqg-whrw-pv92", "security_fixes_behind": 0.0, "deployed_eol": nil, "eol_date": nil} {
		if r[k] != want {
			t.Errorf("json %s = %v, want %v", k, r[k], want)
		}
	}
	if !strings.Contains(errOut, "no release cycle of endoflife.date product") {
		t.Errorf("no notice saying why the end of life is null:\n%s", errOut)
	}

	// --min-severity high, as the provisioned alert rule counts: Probllama
	// is moderate, so nothing high or critical is missing in late June 2024.
	code, out, errOut = runCLI(t, withToken, append(args, "--min-severity", "high")...)
	if code != 0 {
		t.Fatalf("--min-severity high: exit %d:\n%s", code, errOut)
	}
	if row := tableRow(t, out, "ollama"); row[17] != "0" {
		t.Errorf("--min-severity high: ollama DEPLOYED SECURITY %q, want 0\n%s", row[17], out)
	}
	if !strings.Contains(errOut, "note: the security columns count only advisories rated high or higher (--min-severity)") {
		t.Errorf("--min-severity high: the output does not say the security columns are filtered:\n%s", errOut)
	}
	// The JSON says so too, and only when a minimum is set.
	for flags, want := range map[string]string{"--min-severity=high": "high", "--min-severity=": ""} {
		code, out, errOut = runCLI(t, withToken, append(args, "--format", "json", flags)...)
		var doc struct {
			MinSeverity *string `json:"minSeverity"`
		}
		if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
			t.Fatalf("%s --format json: exit %d, %v:\n%s", flags, code, err, errOut)
		}
		if got := doc.MinSeverity; (want == "") != (got == nil) || (got != nil && *got != want) {
			t.Errorf("%s --format json: minSeverity %v, want %q (absent when empty)", flags, got, want)
		}
	}
	code, _, errOut = runCLI(t, withToken, append(args, "--min-severity", "moderate")...)
	if code != 2 || !strings.Contains(errOut, `--min-severity "moderate" must be one of low, medium, high, critical`) {
		t.Errorf("--min-severity moderate: exit %d, %s", code, errOut)
	}
}
