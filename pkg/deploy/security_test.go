package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// securityMetrics and securityEventKinds are the names issue 18 fixes for the
// security and end-of-life metrics and events. The static tests accept them
// before pkg/models lists them; the tests that run queries through the
// backend skip a query naming one the backend does not list yet.
var (
	securityMetrics = []string{"security_fixes_behind", "security_lag", "security_severity", "eol", "support_left",
		"deployed_security_fixes_behind", "deployed_security_lag", "deployed_security_severity", "deployed_eol", "deployed_support_left"}
	securityEventKinds = []string{"advisory", "eol"}
)

func knownMetric(m string) bool {
	return slices.Contains(models.Metrics, m) || slices.Contains(securityMetrics, m)
}

func knownEventKind(k string) bool {
	return slices.Contains(models.EventKinds, k) || slices.Contains(securityEventKinds, k)
}

// skipUnwired skips a test whose query names a security metric or event
// kind that the backend does not list yet.
func skipUnwired(t *testing.T, model map[string]any) {
	t.Helper()
	for _, m := range strSlice(toAnySlice(model["metrics"])) {
		if !slices.Contains(models.Metrics, m) && slices.Contains(securityMetrics, m) {
			t.Skipf("the backend does not list metric %s yet", m)
		}
	}
	for _, k := range strSlice(toAnySlice(model["eventKinds"])) {
		if !slices.Contains(models.EventKinds, k) && slices.Contains(securityEventKinds, k) {
			t.Skipf("the backend does not list event kind %s yet", k)
		}
	}
}

// TestSecurityNamesMatchBackend: once the backend lists one of the names the
// provisioning uses, it lists them all, spelled the same.
func TestSecurityNamesMatchBackend(t *testing.T) {
	for _, pair := range []struct{ ours, backend []string }{{securityMetrics, models.Metrics}, {securityEventKinds, models.EventKinds}} {
		n := 0
		for _, m := range pair.ours {
			if slices.Contains(pair.backend, m) {
				n++
			}
		}
		if n != 0 && n != len(pair.ours) {
			t.Errorf("the backend lists %d of %v (it has %v): the provisioning and the backend spell them differently", n, pair.ours, pair.backend)
		}
	}
}

// notInFixtures are the security inputs of the default catalog that the real
// fixtures (testdata/fixtures/real) do not cover, each with why; docs/run.md
// says the same. An input absent from both the fixtures and this list fails
// TestHomelabSecurityInputs: every one is either tested on real data or
// known not to be.
var notInFixtures = map[string]string{
	"eol:elasticsearch":                     "products/elasticsearch.md exists in endoflife-date/endoflife.date (snapshot a70eca3), not converted into a fixture",
	"go:github.com/NVIDIA/gpu-operator":     "golang/vulndb GO-2025-3992 and GO-2025-3998; the fixture holds the Ollama reports only",
	"go:github.com/jaegertracing/jaeger":    "golang/vulndb GO-2022-0834; the fixture holds the Ollama reports only",
	"maven:org.elasticsearch:elasticsearch": "GHSA-c77j-p484-h84m (github/advisory-database PR 2410); no maven fixture",
	"maven:org.apache.kafka:kafka-clients":  "GHSA-vgq5-3255-v292; no maven fixture",
}

// fixtureSecurity lists what the fixtures serve: the endoflife.date products
// of the fake endoflife.date and the (ecosystem, package) pairs of the fake
// GitHub's /advisories.
func fixtureSecurity(t *testing.T) (products, packages map[string]bool) {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	products, packages = map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(fakes.EOLFixtures), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no endoflife.date fixtures in %s (%v)", fakes.EOLFixtures, err)
	}
	for _, f := range files {
		var doc struct {
			Result struct {
				Name string `json:"name"`
			} `json:"result"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Result.Name+".json" != filepath.Base(f) {
			t.Fatalf("%s: product %q (%v), want the file's name", f, doc.Result.Name, err)
		}
		products[doc.Result.Name] = true
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(fakes.AdvisoriesFixture)))
	if err != nil {
		t.Fatal(err)
	}
	var advisories []struct {
		Vulnerabilities []struct {
			Package struct {
				Ecosystem string `json:"ecosystem"`
				Name      string `json:"name"`
			} `json:"package"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &advisories); err != nil || len(advisories) == 0 {
		t.Fatalf("%s: %d advisories, %v", fakes.AdvisoriesFixture, len(advisories), err)
	}
	for _, a := range advisories {
		for _, v := range a.Vulnerabilities {
			packages[v.Package.Ecosystem+":"+v.Package.Name] = true
		}
	}
	return products, packages
}

// TestHomelabSecurityInputs: the default catalog's advisories and eol
// entries validate, each says its evidence in a comment, each is served by
// the fixtures or listed in notInFixtures, and the Ollama entry names every
// package the Ollama advisories name (the renamed module too), so that none of
// its history is missed.
func TestHomelabSecurityInputs(t *testing.T) {
	src := readFile(t, "provisioning/catalog/homelab-stack.yaml")
	cat, err := catalog.Parse(src)
	if err != nil {
		t.Fatalf("homelab-stack.yaml: %v", err)
	}
	products, packages := fixtureSecurity(t)
	used := map[string]bool{}
	var withAdvisories, withEOL []string
	for _, s := range cat.Services {
		if ref, ok := s.AdvisoryRef(); ok {
			withAdvisories = append(withAdvisories, s.Name)
			for _, p := range ref.Packages {
				key := ref.Ecosystem + ":" + p
				used[key] = true
				if !packages[key] && notInFixtures[key] == "" {
					t.Errorf("%s: advisories %s is neither in %s nor in notInFixtures", s.Name, key, fakes.AdvisoriesFixture)
				}
			}
		}
		if p := s.EOLProduct(); p != "" {
			withEOL = append(withEOL, s.Name)
			used["eol:"+p] = true
			if !products[p] && notInFixtures["eol:"+p] == "" {
				t.Errorf("%s: eol.product %s is neither a fixture of %s nor in notInFixtures", s.Name, p, fakes.EOLFixtures)
			}
		}
	}
	for key := range notInFixtures {
		if !used[key] {
			t.Errorf("notInFixtures lists %s, which the catalog does not use", key)
		}
		if p, ok := strings.CutPrefix(key, "eol:"); ok && products[p] || packages[key] {
			t.Errorf("notInFixtures lists %s, which the fixtures do serve", key)
		}
	}
	// Every package of the Ollama advisories is in Ollama's entry.
	for key := range packages {
		if !used[key] {
			t.Errorf("the fixtures' advisories name %s, which no service of the default catalog reads", key)
		}
	}
	if !slices.Contains(withAdvisories, "ollama") {
		t.Error("ollama has no advisories entry")
	}
	// The products endoflife.date has among the default catalog's upstreams.
	for _, name := range []string{"prometheus", "grafana", "jaeger", "elasticsearch", "redis", "kafka"} {
		if !slices.Contains(withEOL, name) {
			t.Errorf("%s has no eol entry, though endoflife.date has its product", name)
		}
	}
	// Evidence: each security entry follows a comment naming its source.
	lines := strings.Split(string(src), "\n")
	evidence := regexp.MustCompile(`GO-\d{4}-\d+|GHSA-[0-9a-z-]+|endoflife|products/`)
	for i, l := range lines {
		if strings.TrimSpace(l) != "advisories:" {
			continue
		}
		j := i - 1
		for j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "#") {
			j--
		}
		if !evidence.MatchString(strings.Join(lines[j+1:i], "\n")) {
			t.Errorf("line %d: advisories without a comment naming its evidence (a GO- or GHSA- id)", i+1)
		}
	}
}

// TestRunDocSecurityInputs: docs/run.md names every advisories package and
// eol product of the default catalog, and what the fixtures do not cover.
func TestRunDocSecurityInputs(t *testing.T) {
	doc := string(readFile(t, "docs/run.md"))
	cat, err := catalog.Parse(readFile(t, "provisioning/catalog/homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cat.Services {
		if ref, ok := s.AdvisoryRef(); ok {
			for _, p := range ref.Packages {
				if !strings.Contains(doc, "`"+p+"`") {
					t.Errorf("docs/run.md does not name %s's advisories package `%s`", s.Name, p)
				}
			}
		}
		if p := s.EOLProduct(); p != "" && !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/run.md does not name %s's endoflife.date product `%s`", s.Name, p)
		}
	}
}
