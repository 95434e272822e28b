package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
	"go:github.com/jmorganca/ollama":        "golang/vulndb GO-2024-2699 names it; GitHub's record of that advisory names github.com/ollama/ollama, so the fixture (GitHub's data) has none",
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

// ollama0132 is a catalog of the otwld Ollama chart twice, both running a
// pinned Ollama 0.1.32: once with the advisories of the default catalog's
// entry, once without any security or end-of-life input.
func ollama0132(t *testing.T, helmURL string) string {
	t.Helper()
	cat, err := catalog.Parse(readFile(t, "provisioning/catalog/homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ref []string
	for _, s := range cat.Services {
		if r, ok := s.AdvisoryRef(); ok && s.Name == "ollama" {
			ref = r.Packages
		}
	}
	if len(ref) == 0 {
		t.Fatal("the default catalog's ollama names no advisories")
	}
	svc := func(name, extra string) string {
		return `  - name: ` + name + `
    maintainer: community
    upstream:
      repo: ollama/ollama
      source: tags
      tagPattern: '^v(\d+\.\d+\.\d+)$'
    chart:
      repository: ` + helmURL + `/otwld__ollama-helm
      name: ollama
    deployed:
      version: "0.1.32"
` + extra
	}
	return "services:\n" + svc("ollama", "    advisories:\n      ecosystem: go\n      package: ["+strings.Join(ref, ", ")+"]\n") + svc("ollama-without-inputs", "")
}

// v0134 is when Ollama 0.1.34, the fix of Probllama (GHSA-8hqg-whrw-pv92,
// published 2024-05-31T06:30:27Z by GitHub), was tagged
// (testdata/fixtures/real/ollama__ollama/tags.tsv).
var v0134 = time.Date(2024, 5, 7, 17, 48, 32, 0, time.UTC)

// v0147 is when Ollama 0.1.47, the fix of GHSA-846m-99qv-67mg (high,
// published 2024-08-29T03:30:49Z), was tagged.
var v0147 = time.Date(2024, 6, 27, 4, 38, 21, 0, time.UTC)

// TestSecurityRuleOnOllama0132 runs the provisioned security rule
// (deployed_security_lag over high and critical advisories > 7 days) on a
// pinned Ollama 0.1.32 against the fake GitHub's advisories (golang/vulndb),
// and the same query over every advisory beside it, at five times: before
// Probllama's advisory (nothing counts), late June 2024 (Probllama counts,
// its fix out for 51.3 days, but GitHub rates it moderate: no alert), one
// second before and at GHSA-846m's publication (high; its fix 0.1.47 out
// for 62.95 days: over the threshold at once), and 2025-09-30 (fires, from the older fix
// of GHSA-95j2). The same service without advisories stays null at every
// time: NoData, never OK.
func TestSecurityRuleOnOllama0132(t *testing.T) {
	st := fakes.NewStack(t)
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	ds := newDatasourceOn(t, ollama0132(t, st.Helm.URL()), st.GitHub.URL(), st.Prometheus.URL(),
		map[string]any{"eolUrl": fakes.NewEOL(t, dir).URL()})
	rule := ruleByUID(t, alertRules(t), "lagwatch-deployed-security-fix")
	if m := rule.lagwatchQuery(t).Model; m["minSeverity"] != "high" {
		t.Fatalf("the security rule counts advisories from %v, want high", m["minSeverity"])
	}
	// everyAdvisory is the rule's query over every advisory, other metric.
	everyAdvisory := func(t *testing.T, metric string, at time.Time) map[string]*float64 {
		t.Helper()
		m := maps.Clone(rule.lagwatchQuery(t).Model)
		m["metrics"] = []any{metric}
		delete(m, "minSeverity")
		return runRule(t, ds, rule, m, at).values
	}
	zip := time.Date(2024, 8, 29, 3, 30, 49, 0, time.UTC)
	v0146 := time.Date(2024, 6, 25, 4, 47, 52, 0, time.UTC)
	for _, c := range []struct {
		at         time.Time
		highSince  time.Time // the oldest released fix of a high or critical advisory that counts; zero: none
		severity   float64   // over every advisory
		fixes      float64
		fixedSince time.Time // over every advisory; zero: security_lag 0
		why        string
	}{
		{time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC), time.Time{}, 0, 0, time.Time{}, "Probllama is published on 2024-05-31; GHSA-5jx5-hqx5-2vrj (< 0.1.29) does not affect 0.1.32"},
		{time.Date(2024, 6, 28, 0, 0, 0, 0, time.UTC), time.Time{}, 2, 1, v0134, "Probllama counts, its fix out since 2024-05-07, but GitHub rates it moderate: not high or critical"},
		{zip.Add(-time.Second), time.Time{}, 2, 1, v0134, "one second before GHSA-846m-99qv-67mg is published"},
		{zip, v0147, 3, 2, v0134, "GHSA-846m-99qv-67mg (high, < 0.1.47) published 2024-08-29, its fix out since 2024-06-27"},
		{time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC), v0146, 3, 4, v0134, "GHSA-846m and GHSA-95j2 (high, fixed in 0.1.46 on 2024-06-25); Probllama and GHSA-93jv are moderate; GHSA-v464 has no patched version in GitHub's record"},
	} {
		t.Run(c.at.Format(time.RFC3339), func(t *testing.T) {
			m := maps.Clone(rule.lagwatchQuery(t).Model)
			m["services"] = []string{"ollama", "ollama-without-inputs"}
			run := runRule(t, ds, rule, m, c.at)
			wantHigh := 0.0
			if !c.highSince.IsZero() {
				wantHigh = c.at.Sub(c.highSince).Seconds()
			}
			if v := run.values["ollama"]; v == nil || *v != wantHigh {
				t.Errorf("ollama deployed_security_lag (high or critical) %v, want %v s (%s)", v, wantHigh, c.why)
			}
			fires := wantHigh > 7*86400
			if got := slices.Contains(run.firing, "ollama"); got != fires {
				t.Errorf("ollama fires %v, want %v (%s)", got, fires, c.why)
			}
			if v, ok := run.values["ollama-without-inputs"]; !ok || v != nil {
				t.Errorf("ollama-without-inputs: value %v (present %v), want a null instance (NoData)", v, ok)
			}
			if v := everyAdvisory(t, "deployed_security_severity", c.at)["ollama"]; v == nil || *v != c.severity {
				t.Errorf("ollama deployed_security_severity %v, want %v (%s)", v, c.severity, c.why)
			}
			lag := everyAdvisory(t, "deployed_security_lag", c.at)
			want := 0.0
			if !c.fixedSince.IsZero() {
				want = c.at.Sub(c.fixedSince).Seconds()
			}
			if v := lag["ollama"]; v == nil || *v != want {
				t.Errorf("ollama deployed_security_lag (every advisory) %v, want %v s", v, want)
			}
			if v := everyAdvisory(t, "deployed_security_fixes_behind", c.at)["ollama"]; v == nil || *v != c.fixes {
				t.Errorf("ollama deployed_security_fixes_behind %v, want %v", v, c.fixes)
			}
			if lag["ollama-without-inputs"] != nil {
				t.Errorf("ollama-without-inputs: deployed_security_lag %v, want null", *lag["ollama-without-inputs"])
			}
		})
	}
}

// TestEOLRulesOnCompose runs the end-of-life and support rules in the compose
// world (Prometheus 3.5.0 and Grafana 12.4.10 running, their endoflife.date
// products from the real fixtures): the 3.5 cycle of Prometheus ends
// 2026-07-31, Grafana 12.4 on 2027-05-24. At composeAt (2026-08-01)
// Prometheus is past its end (eol fires, support does not: −1 day); 16 days
// before, its support ends within 30 days (support fires, eol does not).
func TestEOLRulesOnCompose(t *testing.T) {
	w := newComposeWorld(t)
	rules := alertRules(t)
	eolRule, support := ruleByUID(t, rules, "lagwatch-deployed-eol"), ruleByUID(t, rules, "lagwatch-deployed-support-30d")
	prometheusEnd := time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC)
	before := composeAt.Add(-16 * day)
	for _, c := range []struct {
		rule   alertRule
		at     time.Time
		firing []string
		value  map[string]float64
	}{
		{eolRule, composeAt, []string{"prometheus"}, map[string]float64{"prometheus": 1, "grafana": 0}},
		{eolRule, before, nil, map[string]float64{"prometheus": 0, "grafana": 0}},
		{support, composeAt, nil, map[string]float64{"prometheus": prometheusEnd.Sub(composeAt).Seconds()}},
		{support, before, []string{"prometheus"}, map[string]float64{"prometheus": prometheusEnd.Sub(before).Seconds()}},
	} {
		t.Run(c.rule.UID+"/"+c.at.Format(time.DateOnly), func(t *testing.T) {
			run := runRule(t, w.ds, c.rule, c.rule.lagwatchQuery(t).Model, c.at)
			if !slices.Equal(run.firing, c.firing) {
				t.Errorf("firing for %v, want %v", run.firing, c.firing)
			}
			for svc, want := range c.value {
				if v := run.values[svc]; v == nil || *v != want {
					t.Errorf("%s: %v, want %v", svc, v, want)
				}
			}
		})
	}
}

// TestSecurityRow: the dashboard's "Security and support" row draws every
// security and end-of-life metric, for the chart and for what runs; the
// severity reads as words in the severity colours; the support panel turns
// orange where the support rule fires; the advisory and end-of-life
// annotation layers are drawn on the row's time series.
func TestSecurityRow(t *testing.T) {
	d := loadDashboard(t)
	row := rowPanels(t, d, "Security and support")
	ids := map[int]bool{}
	drawn := map[string]string{} // metric -> panel type
	var severity, support *panel
	for i, p := range row {
		ids[p.ID] = true
		lagwatchRef(t, "panel "+p.Title, p.Datasource)
		for _, tg := range p.Targets {
			ms := strSlice(tg["metrics"])
			for _, m := range ms {
				drawn[m] = p.Type
			}
			// Each panel shows one metric for the chart and for what runs.
			if len(ms) != 2 || "deployed_"+ms[0] != ms[1] {
				t.Errorf("panel %q: metrics %v, want a metric and its deployed_ twin", p.Title, ms)
			}
			switch {
			case slices.Contains(ms, "security_severity"):
				severity = &row[i]
			case slices.Contains(ms, "support_left"):
				support = &row[i]
			}
		}
	}
	for _, m := range securityMetrics {
		if drawn[m] == "" {
			t.Errorf("the row does not draw %s", m)
		}
	}
	for _, m := range []string{"security_fixes_behind", "security_lag"} {
		if drawn[m] != "timeseries" {
			t.Errorf("%s is drawn as %q, want a time series (it has a history)", m, drawn[m])
		}
	}
	if severity == nil || support == nil {
		t.Fatal("no severity or support panel")
	}
	var sev struct {
		Mappings []struct {
			Type    string `json:"type"`
			Options map[string]struct {
				Text  string `json:"text"`
				Color string `json:"color"`
			} `json:"options"`
		} `json:"mappings"`
	}
	raw, _ := json.Marshal(fieldDefaults(t, *severity))
	_ = json.Unmarshal(raw, &sev)
	colours := map[string]bool{}
	for code, word := range []string{"none", "low", "medium", "high", "critical"} {
		var got string
		for _, m := range sev.Mappings {
			if o, ok := m.Options[strconv.Itoa(code)]; ok && m.Type == "value" {
				got = o.Text
				colours[o.Color] = true
			}
		}
		if got != word {
			t.Errorf("severity %d reads %q, want %q", code, got, word)
		}
	}
	if len(colours) != 5 {
		t.Errorf("severity colours %v, want five distinct", colours)
	}
	_, params := ruleByUID(t, alertRules(t), "lagwatch-deployed-support-30d").evaluator(t)
	raw, _ = json.Marshal(fieldDefaults(t, *support)["thresholds"])
	if !strings.Contains(string(raw), `"color":"orange","value":0`) || !strings.Contains(string(raw), fmt.Sprintf(`"value":%d`, int(params[1]))) {
		t.Errorf("support panel thresholds %s: want orange from 0 to the support rule's %v s", raw, params[1])
	}
	for _, k := range securityEventKinds {
		found := false
		for _, a := range d.Annotations.List {
			if !slices.Equal(strSlice(a.Target["eventKinds"]), []string{k}) {
				continue
			}
			found = true
			if a.Filter == nil || a.Filter.Exclude || len(a.Filter.IDs) == 0 {
				t.Errorf("annotation %s: want it on the security row's panels (filter %+v)", a.Name, a.Filter)
				continue
			}
			for _, id := range a.Filter.IDs {
				if !ids[id] {
					t.Errorf("annotation %s: drawn on panel %d, outside the security row", a.Name, id)
				}
			}
		}
		if !found {
			t.Errorf("no annotation layer of %s events", k)
		}
	}
}
