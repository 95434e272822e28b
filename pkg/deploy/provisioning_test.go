package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"go.yaml.in/yaml/v3"
)

// TestProvisioningFilesParse: every file under provisioning/ is valid YAML or
// JSON, and the scaffold's example datasource is gone.
func TestProvisioningFilesParse(t *testing.T) {
	dir := repoPath(t, "provisioning")
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root(t), p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var v any
		switch filepath.Ext(p) {
		case ".yaml", ".yml":
			err = yaml.Unmarshal(b, &v)
		case ".json":
			err = json.Unmarshal(b, &v)
		case ".md":
			return nil
		default:
			t.Errorf("%s: unexpected file type in provisioning/", rel)
			return nil
		}
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Errorf("only %d provisioning files found", n)
	}
	if _, err := os.Stat(repoPath(t, "provisioning/datasources/datasources.yml")); err == nil {
		t.Errorf("the scaffold's provisioning/datasources/datasources.yml must be removed")
	}
}

type provisionedDatasource struct {
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	Type           string            `yaml:"type"`
	URL            string            `yaml:"url"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

func datasources(t *testing.T) map[string]provisionedDatasource {
	t.Helper()
	var doc struct {
		APIVersion  int                     `yaml:"apiVersion"`
		Datasources []provisionedDatasource `yaml:"datasources"`
	}
	readYAML(t, "provisioning/datasources/lagwatch.yaml", &doc)
	if doc.APIVersion != 1 {
		t.Errorf("datasources apiVersion = %d, want 1", doc.APIVersion)
	}
	out := map[string]provisionedDatasource{}
	for _, ds := range doc.Datasources {
		out[ds.UID] = ds
	}
	return out
}

// containerToRepo maps a path inside the Grafana container to the repository
// file the compose mounts provide there.
func containerToRepo(t *testing.T, p string) string {
	t.Helper()
	g := service(t, loadCompose(t), "grafana")
	for _, v := range g.Volumes {
		target := strings.TrimSuffix(v.Target, "/")
		if rest, ok := strings.CutPrefix(p, target+"/"); ok {
			return filepath.Join(v.Source, filepath.FromSlash(rest))
		}
	}
	t.Fatalf("no compose mount provides %s", p)
	return ""
}

func TestDatasources(t *testing.T) {
	dss := datasources(t)
	lw, ok := dss[lagwatchUID]
	if !ok {
		t.Fatalf("no datasource with uid %s", lagwatchUID)
	}
	if lw.Type != pluginManifest(t).ID {
		t.Errorf("lagwatch datasource type %q, want the plugin id %q", lw.Type, pluginManifest(t).ID)
	}
	if got := lw.SecureJSONData["githubToken"]; got != "$GITHUB_TOKEN" {
		t.Errorf("secureJsonData.githubToken = %q, want $GITHUB_TOKEN (expanded by Grafana from its environment)", got)
	}
	catalogPath, _ := lw.JSONData["catalogPath"].(string)
	if catalogPath != catalogMount+"/homelab-stack.yaml" {
		t.Errorf("jsonData.catalogPath = %q", catalogPath)
	}
	if _, ok := lw.JSONData["catalog"]; ok {
		t.Errorf("jsonData.catalog (inline) would win over catalogPath")
	}
	host := containerToRepo(t, catalogPath)
	if host != repoPath(t, "provisioning/catalog/homelab-stack.yaml") {
		t.Errorf("%s is %s in the repository", catalogPath, host)
	}
	if _, err := os.Stat(host); err != nil {
		t.Error(err)
	}
	prom, ok := dss[prometheusUID]
	if !ok {
		t.Fatalf("no datasource with uid %s", prometheusUID)
	}
	if prom.Type != "prometheus" || prom.URL != "http://prometheus:9090" {
		t.Errorf("prometheus datasource = %+v, want type prometheus at http://prometheus:9090 (the compose service)", prom)
	}
	if len(dss) != 2 {
		t.Errorf("datasources %v, want exactly lagwatch and prometheus", dss)
	}
}

func TestHomelabCatalog(t *testing.T) {
	b := readFile(t, "provisioning/catalog/homelab-stack.yaml")
	cat, err := catalog.Parse(b)
	if err != nil {
		t.Fatalf("homelab-stack.yaml: %v", err)
	}
	byName := map[string]catalog.Service{}
	for _, s := range cat.Services {
		byName[s.Name] = s
	}
	for _, name := range []string{"ollama", "chromadb", "vllm-stack", "gpu-operator", "prometheus", "grafana",
		"jaeger", "opentelemetry-collector", "strimzi-operator", "elasticsearch", "redis", "kafka", "librechat"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("default catalog lacks %s", name)
		}
	}
	// The charts published only in OCI registries, at their real references.
	for name, want := range map[string]string{
		"redis":     "oci://registry-1.docker.io/bitnamicharts redis",
		"kafka":     "oci://registry-1.docker.io/bitnamicharts kafka",
		"librechat": "oci://ghcr.io/danny-avila/librechat-chart librechat",
	} {
		if got := byName[name].Chart.Repository + " " + byName[name].Chart.Name; got != want {
			t.Errorf("%s chart = %s, want %s", name, got, want)
		}
	}
	for _, s := range cat.Services {
		if s.Maintainer != catalog.MaintainerVendor && s.Maintainer != catalog.MaintainerCommunity {
			t.Errorf("%s: maintainer %q: the dashboard and alert rules group by vendor/community", s.Name, s.Maintainer)
		}
		if s.Upstream.TagPattern == "" {
			t.Errorf("%s: no tagPattern: prereleases and other tag streams would count", s.Name)
		}
		if !strings.HasPrefix(s.Chart.Repository, "https://") && !strings.HasPrefix(s.Chart.Repository, "oci://") {
			t.Errorf("%s: chart repository %s is not https", s.Name, s.Chart.Repository)
		}
	}
	// Spot checks of decisions documented in the file and in docs/run.md.
	for name, want := range map[string]catalog.Service{
		"chromadb":     {Upstream: catalog.Upstream{Repo: "chroma-core/chroma", Source: "tags", TagPattern: `^(\d+\.\d+\.\d+)$`}},
		"vllm-stack":   {Upstream: catalog.Upstream{Repo: "vllm-project/production-stack", Source: "tags", TagPattern: `^vllm-stack-(\d+\.\d+\.\d+)$`}, Chart: catalog.Chart{VersionFrom: "version"}},
		"gpu-operator": {Upstream: catalog.Upstream{Repo: "NVIDIA/gpu-operator", Source: "releases", TagPattern: `^v(\d+\.\d+\.\d+)$`}, Chart: catalog.Chart{VersionFrom: "version"}},
		"ollama":       {Upstream: catalog.Upstream{Repo: "ollama/ollama", Source: "releases", TagPattern: `^v(\d+\.\d+\.\d+)$`}},
	} {
		s := byName[name]
		if s.Upstream.Repo != want.Upstream.Repo || s.Upstream.Source != want.Upstream.Source || s.Upstream.TagPattern != want.Upstream.TagPattern {
			t.Errorf("%s upstream = %+v, want %+v", name, s.Upstream, want.Upstream)
		}
		if want.Chart.VersionFrom != "" && s.Chart.VersionFrom != want.Chart.VersionFrom {
			t.Errorf("%s versionFrom = %q, want %q", name, s.Chart.VersionFrom, want.Chart.VersionFrom)
		}
	}
}

// ---- dashboard ----

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          int                        `json:"id"`
	Type        string                     `json:"type"`
	Title       string                     `json:"title"`
	Datasource  *dsRef                     `json:"datasource"`
	Targets     []map[string]any           `json:"targets"`
	FieldConfig map[string]json.RawMessage `json:"fieldConfig"`
	Panels      []panel                    `json:"panels"`
	Options     map[string]any             `json:"options"`
	Transform   []struct {
		ID      string         `json:"id"`
		Options map[string]any `json:"options"`
	} `json:"transformations"`
}

type dashboard struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Annotations struct {
		List []struct {
			Name       string         `json:"name"`
			Datasource *dsRef         `json:"datasource"`
			Target     map[string]any `json:"target"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Datasource *dsRef         `json:"datasource"`
			Query      map[string]any `json:"query"`
			Multi      bool           `json:"multi"`
			IncludeAll bool           `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// dashboardFiles are the dashboard JSON files the provider loads.
func dashboardFiles(t *testing.T) []string {
	t.Helper()
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "provisioning/dashboards/lagwatch.yaml", &doc)
	if doc.APIVersion != 1 || len(doc.Providers) != 1 || doc.Providers[0].Type != "file" {
		t.Fatalf("dashboard provider file: %+v", doc)
	}
	dir := containerToRepo(t, doc.Providers[0].Options.Path)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("the provider path %s (%s) holds no dashboard JSON", doc.Providers[0].Options.Path, dir)
	}
	return files
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	files := dashboardFiles(t)
	for _, f := range files {
		var d dashboard
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == dashboardUID {
			return d
		}
	}
	t.Fatalf("no dashboard with uid %s in %v", dashboardUID, files)
	return dashboard{}
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func lagwatchRef(t *testing.T, where string, r *dsRef) {
	t.Helper()
	if r == nil || r.UID != lagwatchUID || r.Type != pluginManifest(t).ID {
		t.Errorf("%s: datasource %+v, want {type %s, uid %s}", where, r, pluginManifest(t).ID, lagwatchUID)
	}
}

func fieldDefaults(t *testing.T, p panel) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(p.FieldConfig["defaults"], &d); err != nil {
		t.Fatalf("panel %q: fieldConfig.defaults: %v", p.Title, err)
	}
	return d
}

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	if d.Title != "Release lag" {
		t.Errorf("title %q", d.Title)
	}
	provisioned := map[string]string{lagwatchUID: pluginManifest(t).ID, prometheusUID: "prometheus"}

	// Annotations and variables are Lagwatch's.
	if len(d.Annotations.List) == 0 {
		t.Error("no release annotations")
	}
	for _, a := range d.Annotations.List {
		lagwatchRef(t, "annotation "+a.Name, a.Datasource)
		if a.Target["queryType"] != "events" {
			t.Errorf("annotation %s: queryType %v, want events", a.Name, a.Target["queryType"])
		}
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		lagwatchRef(t, "variable "+v.Name, v.Datasource)
		if v.Type != "query" || !v.Multi || !v.IncludeAll {
			t.Errorf("variable %s: want a multi-value query variable with All", v.Name)
		}
		// The variable query model of src/variables.ts (LagwatchVariableQuery):
		// list is services or maintainers, with an optional maintainer.
		if v.Query["list"] != "services" && v.Query["list"] != "maintainers" {
			t.Errorf("variable %s: query %v lists neither services nor maintainers", v.Name, v.Query)
		}
		for k := range v.Query {
			if k != "refId" && k != "list" && k != "maintainer" {
				t.Errorf("variable %s: key %q is not in the variable query model", v.Name, k)
			}
		}
	}
	if !vars["service"] || !vars["maintainer"] {
		t.Errorf("variables %v, want service and maintainer", vars)
	}

	var kinds = map[string]bool{}
	promBesideLag := false
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || provisioned[p.Datasource.UID] != p.Datasource.Type {
			t.Errorf("panel %q: datasource %+v is not a provisioned one", p.Title, p.Datasource)
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			raw, _ := json.Marshal(tg["datasource"])
			var r dsRef
			_ = json.Unmarshal(raw, &r)
			if r != *p.Datasource {
				t.Errorf("panel %q target %v: datasource %+v differs from the panel's", p.Title, tg["refId"], r)
			}
		}
		if p.Datasource.UID == prometheusUID {
			promBesideLag = true
			continue
		}
		for _, tg := range p.Targets {
			qt, _ := tg["queryType"].(string)
			kinds[qt] = true
			if !slices.Equal(strSlice(tg["services"]), []string{"$service"}) || tg["maintainer"] != "$maintainer" {
				t.Errorf("panel %q: query %v does not follow $service and $maintainer", p.Title, tg)
			}
		}
		if p.Type == "timeseries" {
			def := fieldDefaults(t, p)
			custom, _ := def["custom"].(map[string]any)
			if custom["lineInterpolation"] != "stepAfter" {
				t.Errorf("panel %q: lineInterpolation %v, want stepAfter (lag changes in steps)", p.Title, custom["lineInterpolation"])
			}
			if m := strSlice(p.Targets[0]["metrics"]); slices.Contains(m, "lag") && def["unit"] != "s" {
				t.Errorf("panel %q: unit %v, want s", p.Title, def["unit"])
			}
		}
	}
	for _, k := range []string{"lag", "status", "current"} {
		if !kinds[k] {
			t.Errorf("no panel runs a %s query", k)
		}
	}
	if !promBesideLag {
		t.Error("no Prometheus panel")
	}
}

func strSlice(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// ---- alert rules ----

type alertQuery struct {
	RefID             string `yaml:"refId"`
	DatasourceUID     string `yaml:"datasourceUid"`
	RelativeTimeRange *struct {
		From int64 `yaml:"from"`
		To   int64 `yaml:"to"`
	} `yaml:"relativeTimeRange"`
	Model map[string]any `yaml:"model"`
}

type alertRule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	Data         []alertQuery      `yaml:"data"`
	For          string            `yaml:"for"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Groups     []struct {
			Name     string      `yaml:"name"`
			Folder   string      `yaml:"folder"`
			Interval string      `yaml:"interval"`
			Rules    []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "provisioning/alerting/lagwatch-rules.yaml", &doc)
	if doc.APIVersion != 1 || len(doc.Groups) == 0 {
		t.Fatalf("alerting file: apiVersion %d, %d groups", doc.APIVersion, len(doc.Groups))
	}
	var out []alertRule
	for _, g := range doc.Groups {
		if g.Folder == "" || g.Interval == "" || g.Name == "" {
			t.Errorf("group %q: folder, interval and name are required", g.Name)
		}
		out = append(out, g.Rules...)
	}
	return out
}

// threshold returns the rule's threshold (the condition's gt parameter).
func (r alertRule) threshold(t *testing.T) float64 {
	t.Helper()
	for _, q := range r.Data {
		if q.RefID != r.Condition {
			continue
		}
		conds, _ := q.Model["conditions"].([]any)
		if q.Model["type"] != "threshold" || len(conds) != 1 {
			t.Fatalf("rule %s: condition %s is not a threshold expression: %v", r.UID, r.Condition, q.Model)
		}
		ev, _ := conds[0].(map[string]any)["evaluator"].(map[string]any)
		params, _ := ev["params"].([]any)
		if ev["type"] != "gt" || len(params) != 1 {
			t.Fatalf("rule %s: evaluator %v", r.UID, ev)
		}
		switch v := params[0].(type) {
		case int:
			return float64(v)
		case float64:
			return v
		}
	}
	t.Fatalf("rule %s: no condition %s", r.UID, r.Condition)
	return 0
}

func TestAlertRulesStructure(t *testing.T) {
	rules := alertRules(t)
	if len(rules) != 2 {
		t.Fatalf("%d rules, want 2", len(rules))
	}
	want := map[string]struct {
		metric, maintainer string
		threshold          float64
	}{
		"lagwatch-chart-lag-14d":             {"lag", "", 14 * 86400},
		"lagwatch-community-chart-abandoned": {"chart_age", "community", 120 * 86400},
	}
	for _, r := range rules {
		w, ok := want[r.UID]
		if !ok {
			t.Errorf("unexpected rule %s", r.UID)
			continue
		}
		refs := map[string]bool{}
		for _, q := range r.Data {
			refs[q.RefID] = true
			if q.Model["refId"] != q.RefID {
				t.Errorf("rule %s: model refId %v != %s", r.UID, q.Model["refId"], q.RefID)
			}
			switch q.DatasourceUID {
			case "__expr__":
				if e, _ := q.Model["expression"].(string); !refs[e] {
					t.Errorf("rule %s: expression %s reads %q, not an earlier query", r.UID, q.RefID, e)
				}
			case lagwatchUID:
				if q.RelativeTimeRange == nil || q.RelativeTimeRange.From <= q.RelativeTimeRange.To {
					t.Errorf("rule %s query %s: needs a relativeTimeRange", r.UID, q.RefID)
				}
				if q.Model["queryType"] != "current" || !slices.Equal(strSlice(q.Model["metrics"]), []string{w.metric}) {
					t.Errorf("rule %s: model %v, want a current query of %s", r.UID, q.Model, w.metric)
				}
				if m, _ := q.Model["maintainer"].(string); m != w.maintainer {
					t.Errorf("rule %s: maintainer %q, want %q", r.UID, m, w.maintainer)
				}
			default:
				t.Errorf("rule %s query %s: datasource %s is neither lagwatch nor __expr__", r.UID, q.RefID, q.DatasourceUID)
			}
		}
		if got := r.threshold(t); got != w.threshold {
			t.Errorf("rule %s: threshold %v, want %v", r.UID, got, w.threshold)
		}
		if r.For == "" || r.NoDataState == "" || r.ExecErrState == "" || r.Title == "" {
			t.Errorf("rule %s: for, noDataState, execErrState and title are required", r.UID)
		}
		// A failing source gives its service a null value: it must not read as OK.
		if r.NoDataState != "NoData" {
			t.Errorf("rule %s: noDataState %q, want NoData", r.UID, r.NoDataState)
		}
		if r.Labels["severity"] == "" || r.Labels["team"] == "" {
			t.Errorf("rule %s: labels %v, want team and severity", r.UID, r.Labels)
		}
		for _, k := range []string{"summary", "description"} {
			if !strings.Contains(r.Annotations[k], "{{ $labels.service }}") && !strings.Contains(r.Annotations[k], "$labels.") {
				t.Errorf("rule %s: annotation %s does not name the service: %q", r.UID, k, r.Annotations[k])
			}
		}
		if !strings.Contains(r.Annotations["summary"], "$values.") {
			t.Errorf("rule %s: summary does not show the value", r.UID)
		}
	}
	if !strings.Contains(strings.ToLower(ruleByUID(t, rules, "lagwatch-community-chart-abandoned").Title), "possibly abandoned") {
		t.Errorf("the chart age rule must be titled 'possibly abandoned'")
	}
}

func ruleByUID(t *testing.T, rules []alertRule, uid string) alertRule {
	t.Helper()
	for _, r := range rules {
		if r.UID == uid {
			return r
		}
	}
	t.Fatalf("no rule %s", uid)
	return alertRule{}
}

// The docs name every service of the catalog.
func TestRunDocMentionsCatalog(t *testing.T) {
	doc := string(readFile(t, "docs/run.md"))
	cat, err := catalog.Parse(readFile(t, "provisioning/catalog/homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cat.Services {
		if !strings.Contains(doc, s.Chart.Repository) && !strings.Contains(doc, strings.TrimSuffix(s.Chart.Repository, "/")) {
			t.Errorf("docs/run.md does not give the chart repository of %s (%s)", s.Name, s.Chart.Repository)
		}
	}
	for _, w := range []string{"redis", "librechat", "oci://", "docker compose up --build", "lagwatch report"} {
		if !strings.Contains(strings.ToLower(doc), strings.ToLower(w)) {
			t.Errorf("docs/run.md does not mention %q", w)
		}
	}
}
