package deploy

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/models"
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

	// The last hop: Lagwatch reads deployed versions from the same Prometheus,
	// the compose service of that name on its container port.
	if got, _ := lw.JSONData["prometheusUrl"].(string); got != prom.URL {
		t.Errorf("jsonData.prometheusUrl = %q, want %s (the compose stack's Prometheus, as the Prometheus datasource)", got, prom.URL)
	}
	pr := service(t, loadCompose(t), "prometheus")
	if !slices.ContainsFunc(pr.Ports, func(p types.ServicePortConfig) bool { return p.Target == 9090 }) {
		t.Errorf("compose's prometheus does not listen on 9090: %+v", pr.Ports)
	}
	// The provisioned jsonData is valid settings (URLs, verdict days), and the
	// verdict days are written out, so the dashboard and the rules can quote them.
	raw, _ := json.Marshal(lw.JSONData)
	st, err := models.LoadSettings(backend.DataSourceInstanceSettings{JSONData: raw})
	if err != nil {
		t.Fatalf("provisioned jsonData: %v", err)
	}
	for k, v := range map[string]int{"verdictWindowDays": st.VerdictWindowDays, "verdictToleranceDays": st.VerdictToleranceDays, "verdictAbandonmentDays": st.VerdictAbandonmentDays} {
		if _, ok := lw.JSONData[k]; !ok {
			t.Errorf("jsonData.%s is not set: write the verdict's days out (the text panel and the abandoned rule quote them)", k)
		}
		if v <= 0 {
			t.Errorf("jsonData.%s = %d", k, v)
		}
	}
}

// verdictDays are the provisioned verdict days W, T and A.
func verdictDays(t *testing.T) (w, tol, a int) {
	t.Helper()
	raw, _ := json.Marshal(datasources(t)[lagwatchUID].JSONData)
	st, err := models.LoadSettings(backend.DataSourceInstanceSettings{JSONData: raw})
	if err != nil {
		t.Fatal(err)
	}
	return st.VerdictWindowDays, st.VerdictToleranceDays, st.VerdictAbandonmentDays
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

	// The last hop: the services compose runs read their running version from
	// compose's Prometheus, by their build-info series, through a job that
	// prometheus.yml scrapes from that service.
	jobs := scrapeJobs(t)
	running := composeRunning(t)
	want := map[string]struct{ metric, target string }{
		"prometheus": {"prometheus_build_info", "localhost:9090"},
		"grafana":    {"grafana_build_info", "grafana:3000"},
	}
	queryRe := regexp.MustCompile(`^max by \(version\) \((\w+)\{job="([\w-]+)"\}\)$`)
	var withDeployed []string
	for _, s := range cat.Services {
		if s.Deployed == nil {
			continue
		}
		withDeployed = append(withDeployed, s.Name)
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("%s: deployed is set, but compose does not run %s: say what runs where it runs", s.Name, s.Name)
			continue
		}
		p := s.Deployed.Prometheus
		if p == nil || p.Label != "version" {
			t.Errorf("%s: deployed %+v, want a Prometheus query with label version (the build-info label)", s.Name, s.Deployed)
			continue
		}
		m := queryRe.FindStringSubmatch(p.Query)
		if m == nil || m[1] != w.metric {
			t.Errorf("%s: deployed query %q, want max by (version) (%s{job=\"...\"}): one series per running version", s.Name, p.Query, w.metric)
			continue
		}
		if !slices.Contains(jobs[m[2]], w.target) {
			t.Errorf("%s: query job %q scrapes %v in prometheus.yml, want %s", s.Name, m[2], jobs[m[2]], w.target)
		}
		// What the build-info series says (the image tag without "v") is what
		// the tagPattern makes of the upstream tag: the two compare.
		upstreamTag(t, s, running[s.Name])
	}
	if !slices.Equal(withDeployed, []string{"prometheus", "grafana"}) {
		t.Errorf("services with deployed: %v, want prometheus and grafana (what the compose stack runs)", withDeployed)
	}
}

// scrapeJobs reads prometheus.yml (as compose mounts it): job name -> targets.
func scrapeJobs(t *testing.T) map[string][]string {
	t.Helper()
	var pc struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	cfg := mount(t, service(t, loadCompose(t), "prometheus"), "/etc/prometheus/prometheus.yml")
	rel, _ := filepath.Rel(root(t), cfg.Source)
	readYAML(t, filepath.ToSlash(rel), &pc)
	out := map[string][]string{}
	for _, sc := range pc.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job %s scrapes %s: Grafana and Prometheus serve /metrics", sc.JobName, sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			out[sc.JobName] = append(out[sc.JobName], st.Targets...)
		}
	}
	return out
}

// ---- dashboard ----

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type panel struct {
	ID          int                        `json:"id"`
	Type        string                     `json:"type"`
	Title       string                     `json:"title"`
	GridPos     gridPos                    `json:"gridPos"`
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

type templateVar struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Datasource *dsRef         `json:"datasource"`
	Query      map[string]any `json:"query"`
	Multi      bool           `json:"multi"`
	IncludeAll bool           `json:"includeAll"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

type dashboard struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Annotations struct {
		List []struct {
			Name       string         `json:"name"`
			Datasource *dsRef         `json:"datasource"`
			Target     map[string]any `json:"target"`
			Filter     *struct {
				Exclude bool  `json:"exclude"`
				IDs     []int `json:"ids"`
			} `json:"filter"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []templateVar `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// The dashboard's rows that the tests know by title.
const (
	pipelineVar      = "pipeline_service" // the single service of the pipeline row
	pipelineRowTitle = "Pipeline of $" + pipelineVar + ": upstream → chart → running"
	nativeRowTitle   = "Native or chart?"
)

// rowPanels returns the panels of the row titled title (the panels after it
// up to the next row, or inside it when it is collapsed).
func rowPanels(t *testing.T, d dashboard, title string) []panel {
	t.Helper()
	var out []panel
	in, found := false, false
	for _, p := range d.Panels {
		if p.Type == "row" {
			in = p.Title == title
			found = found || in
			if in {
				out = append(out, p.Panels...)
			}
			continue
		}
		if in {
			out = append(out, p)
		}
	}
	if !found {
		t.Fatalf("no row %q", title)
	}
	return out
}

func pipelinePanels(t *testing.T, d dashboard) []panel { return rowPanels(t, d, pipelineRowTitle) }

// pipelineDefault is the pipeline variable's default service.
func pipelineDefault(t *testing.T, d dashboard) string {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name == pipelineVar {
			s, _ := v.Current.Value.(string)
			return s
		}
	}
	t.Fatalf("no variable %s", pipelineVar)
	return ""
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

	// Variables are Lagwatch's: service and maintainer multi-value with All;
	// the pipeline row's service single-valued (each hop is one line).
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		lagwatchRef(t, "variable "+v.Name, v.Datasource)
		switch {
		case v.Type != "query":
			t.Errorf("variable %s: type %s, want a query variable", v.Name, v.Type)
		case v.Name == pipelineVar && (v.Multi || v.IncludeAll):
			t.Errorf("variable %s: want one service (not multi-value, no All): the pipeline row draws one service", v.Name)
		case v.Name != pipelineVar && (!v.Multi || !v.IncludeAll):
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
	if !vars["service"] || !vars["maintainer"] || !vars[pipelineVar] {
		t.Errorf("variables %v, want service, maintainer and %s", vars, pipelineVar)
	}
	// On the first start the pipeline row shows a service whose running
	// version compose's Prometheus knows.
	def := pipelineDefault(t, d)
	if !slices.ContainsFunc(homelabDeployed(t), func(s catalog.Service) bool { return s.Name == def }) {
		t.Errorf("variable %s defaults to %q, not a homelab service with deployed", pipelineVar, def)
	}

	// Panels: unique ids, inside the 24 columns, not overlapping.
	byID := map[int]panel{}
	var placed []panel
	for _, p := range allPanels(d.Panels) {
		if _, dup := byID[p.ID]; dup {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		byID[p.ID] = p
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside the 24 columns", p.Title, g)
		}
		for _, q := range placed {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %q and %q overlap (%+v, %+v)", p.Title, q.Title, g, h)
			}
		}
		placed = append(placed, p)
	}
	pipeline := map[int]bool{}
	for _, p := range pipelinePanels(t, d) {
		pipeline[p.ID] = true
	}

	// Annotations are Lagwatch events: the releases of the selected services
	// everywhere, the deployed changes and forecasts of the pipeline service
	// on the pipeline panels.
	if len(d.Annotations.List) == 0 {
		t.Error("no release annotations")
	}
	layers := map[string]bool{}
	for _, a := range d.Annotations.List {
		lagwatchRef(t, "annotation "+a.Name, a.Datasource)
		if a.Target["queryType"] != "events" {
			t.Errorf("annotation %s: queryType %v, want events", a.Name, a.Target["queryType"])
		}
		kinds := strSlice(a.Target["eventKinds"])
		if len(kinds) == 0 {
			t.Errorf("annotation %s: no eventKinds (all four kinds in one colour)", a.Name)
		}
		for _, k := range kinds {
			if !knownEventKind(k) {
				t.Errorf("annotation %s: event kind %q is not one of %v", a.Name, k, models.EventKinds)
			}
		}
		layers[strings.Join(kinds, ",")] = true
		switch svc := strSlice(a.Target["services"]); {
		case slices.Equal(svc, []string{"$service"}) && a.Target["maintainer"] == "$maintainer":
		case slices.Equal(svc, []string{"$" + pipelineVar}):
			if a.Filter == nil || a.Filter.Exclude || len(a.Filter.IDs) == 0 {
				t.Errorf("annotation %s: one service's events belong on the pipeline panels only (filter %+v)", a.Name, a.Filter)
				continue
			}
			for _, id := range a.Filter.IDs {
				if !pipeline[id] {
					t.Errorf("annotation %s: shown on panel %d, which is not in the pipeline row", a.Name, id)
				}
			}
		default:
			t.Errorf("annotation %s: target %v follows neither $service/$maintainer nor $%s", a.Name, a.Target, pipelineVar)
		}
	}
	for _, k := range []string{"upstream", "chart", "deployed", "forecast", "advisory", "eol"} {
		if !layers[k] {
			t.Errorf("no annotation layer of %s events alone (layers %v)", k, layers)
		}
	}

	var kinds = map[string]bool{}
	promBesideLag := false
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			continue
		}
		if p.Type == "text" {
			if content, _ := p.Options["content"].(string); strings.TrimSpace(content) == "" || p.Datasource != nil || len(p.Targets) != 0 {
				t.Errorf("text panel %q: want content and no query", p.Title)
			}
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
			svc := strSlice(tg["services"])
			switch {
			case pipeline[p.ID]:
				// One named service; a maintainer filter could only hide it.
				if _, ok := tg["maintainer"]; ok || !slices.Equal(svc, []string{"$" + pipelineVar}) {
					t.Errorf("pipeline panel %q: query %v, want services [$%s] and no maintainer", p.Title, tg, pipelineVar)
				}
			case !slices.Equal(svc, []string{"$service"}) || tg["maintainer"] != "$maintainer":
				t.Errorf("panel %q: query %v does not follow $service and $maintainer", p.Title, tg)
			}
			for _, m := range strSlice(tg["metrics"]) {
				if !knownMetric(m) || (qt == "lag" && slices.Contains(models.CurrentOnlyMetrics, m)) {
					t.Errorf("panel %q: metric %q in a %s query", p.Title, m, qt)
				}
			}
		}
		if p.Type == "timeseries" {
			def := fieldDefaults(t, p)
			custom, _ := def["custom"].(map[string]any)
			if custom["lineInterpolation"] != "stepAfter" {
				t.Errorf("panel %q: lineInterpolation %v, want stepAfter (lag changes in steps)", p.Title, custom["lineInterpolation"])
			}
			for _, m := range strSlice(p.Targets[0]["metrics"]) {
				if strings.HasSuffix(m, "lag") && def["unit"] != "s" {
					t.Errorf("panel %q: unit %v, want s for %s", p.Title, def["unit"], m)
				}
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
	checkPipelineRow(t, d)
	checkNativeRow(t, d)
}

// checkPipelineRow: the three hops of one service side by side, upstream →
// chart (lag), chart → running (rollout_lag), upstream → running
// (deployed_lag), with the alert thresholds drawn; and the running version's
// distance in releases.
func checkPipelineRow(t *testing.T, d dashboard) {
	t.Helper()
	var hops []string
	var row []panel
	stat := false
	for _, p := range pipelinePanels(t, d) {
		tg := p.Targets
		if len(tg) != 1 {
			continue
		}
		m := strSlice(tg[0]["metrics"])
		switch {
		case p.Type == "timeseries" && tg[0]["queryType"] == "lag" && len(m) == 1:
			hops = append(hops, m[0])
			row = append(row, p)
		case p.Type == "stat" && tg[0]["queryType"] == "current" && slices.Equal(m, []string{"deployed_versions_behind"}):
			stat = true
		}
	}
	if !slices.Equal(hops, []string{"lag", "rollout_lag", "deployed_lag"}) {
		t.Fatalf("pipeline hops %v, want lag, rollout_lag, deployed_lag (one panel each, in that order)", hops)
	}
	for i, p := range row {
		if p.GridPos.Y != row[0].GridPos.Y || p.GridPos.H != row[0].GridPos.H || (i > 0 && p.GridPos.X <= row[i-1].GridPos.X) {
			t.Errorf("pipeline panel %q (%+v) is not beside the others", p.Title, p.GridPos)
		}
	}
	if !stat {
		t.Error("the pipeline row has no stat of deployed_versions_behind")
	}
	// The dashed lines are the alert thresholds of the same metric.
	rules := alertRules(t)
	for i, uid := range map[int]string{0: "lagwatch-chart-lag-14d", 2: "lagwatch-deployed-lag-30d"} {
		want := ruleByUID(t, rules, uid).threshold(t)
		var th struct {
			Steps []struct {
				Value *float64 `json:"value"`
			} `json:"steps"`
		}
		raw, _ := json.Marshal(fieldDefaults(t, row[i])["thresholds"])
		_ = json.Unmarshal(raw, &th)
		if !slices.ContainsFunc(th.Steps, func(s struct {
			Value *float64 `json:"value"`
		}) bool {
			return s.Value != nil && *s.Value == want
		}) {
			t.Errorf("panel %q: no threshold at %v s (rule %s)", row[i].Title, want, uid)
		}
	}
}

// nativeColumns are the columns of the "Native or chart?" table, in order.
var nativeColumns = []string{"service", "maintainer", "verdict", "verdict_delay_median", "verdict_delay_p90", "chart_age",
	"versions_behind", "next_expected_ship", "overdue_releases", "deployed", "deployed_lag", "rollout_lag", "error"}

// verdictOrder lists the verdicts in the order the engine tries its rules
// (engine.Timeline.VerdictAt: first match wins).
var verdictOrder = []engine.Verdict{engine.VerdictNoData, engine.VerdictAbandoned, engine.VerdictKeepsUp, engine.VerdictLags, engine.VerdictMostlyKeep}

// checkNativeRow: a status table with the verdict, its evidence and the last
// hop, the verdict coloured by value, and a text that explains the rule with
// the provisioned W, T and A.
func checkNativeRow(t *testing.T, d dashboard) {
	t.Helper()
	var table, text *panel
	for _, p := range rowPanels(t, d, nativeRowTitle) {
		switch p.Type {
		case "table":
			table = &p
		case "text":
			text = &p
		}
	}
	if table == nil || text == nil {
		t.Fatalf("the %q row needs a table and a text panel", nativeRowTitle)
	}
	if table.Targets[0]["queryType"] != "status" {
		t.Errorf("table %q: queryType %v, want status", table.Title, table.Targets[0]["queryType"])
	}
	var kept []string
	var order map[string]any
	for _, tr := range table.Transform {
		switch tr.ID {
		case "filterFieldsByName":
			inc, _ := tr.Options["include"].(map[string]any)
			kept = strSlice(inc["names"])
		case "organize":
			order, _ = tr.Options["indexByName"].(map[string]any)
		}
	}
	if !slices.Equal(kept, nativeColumns) {
		t.Errorf("table %q keeps %v, want %v", table.Title, kept, nativeColumns)
	}
	for i, n := range []string{"service", "maintainer", "verdict"} {
		if toInt(order[n]) != int64(i) {
			t.Errorf("table %q: column %s at %v, want %d (the verdict next to the service)", table.Title, n, order[n], i)
		}
	}
	// The verdict column's value mapping names every verdict, in colour.
	var fc struct {
		Overrides []struct {
			Matcher struct {
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	}
	raw, _ := json.Marshal(table.FieldConfig)
	_ = json.Unmarshal(raw, &fc)
	colours := map[string]string{}
	for _, o := range fc.Overrides {
		for _, pr := range o.Properties {
			if o.Matcher.Options != "verdict" || pr.ID != "mappings" {
				continue
			}
			var ms []struct {
				Type    string `json:"type"`
				Options map[string]struct {
					Color string `json:"color"`
				} `json:"options"`
			}
			_ = json.Unmarshal(pr.Value, &ms)
			for _, m := range ms {
				for v, r := range m.Options {
					colours[v] = r.Color
				}
			}
		}
	}
	for _, v := range verdictOrder {
		if colours[string(v)] == "" {
			t.Errorf("table %q: the verdict %q has no colour (mappings %v)", table.Title, v, colours)
		}
	}
	if len(colours) != len(verdictOrder) || colours[string(engine.VerdictAbandoned)] != "red" || colours[string(engine.VerdictKeepsUp)] != "green" {
		t.Errorf("table %q: verdict colours %v", table.Title, colours)
	}

	// The explanation: the rules in the engine's order, first match wins, with
	// the provisioned days.
	content, _ := text.Options["content"].(string)
	last := -1
	for _, v := range verdictOrder {
		i := strings.Index(content, "**"+string(v)+"**")
		if i < 0 || i < last {
			t.Errorf("text %q: verdict %q missing or out of the engine's order", text.Title, v)
		}
		last = i
	}
	w, tol, a := verdictDays(t)
	for _, want := range []string{"first", fmt.Sprintf("**%d days**", w), fmt.Sprintf("**%d days**", tol), fmt.Sprintf("**%d days**", a), "fewer than 3"} {
		if !strings.Contains(content, want) {
			t.Errorf("text %q does not say %q", text.Title, want)
		}
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
	rules, _ := alertFile(t)
	return rules
}

// alertFile reads the alerting file: its rules, and the uids it deletes.
func alertFile(t *testing.T) (rules []alertRule, deleted []string) {
	t.Helper()
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Groups     []struct {
			Name     string      `yaml:"name"`
			Folder   string      `yaml:"folder"`
			Interval string      `yaml:"interval"`
			Rules    []alertRule `yaml:"rules"`
		} `yaml:"groups"`
		DeleteRules []struct {
			OrgID int    `yaml:"orgId"`
			UID   string `yaml:"uid"`
		} `yaml:"deleteRules"`
	}
	readYAML(t, "provisioning/alerting/lagwatch-rules.yaml", &doc)
	if doc.APIVersion != 1 || len(doc.Groups) == 0 {
		t.Fatalf("alerting file: apiVersion %d, %d groups", doc.APIVersion, len(doc.Groups))
	}
	for _, g := range doc.Groups {
		if g.Folder == "" || g.Interval == "" || g.Name == "" {
			t.Errorf("group %q: folder, interval and name are required", g.Name)
		}
		rules = append(rules, g.Rules...)
	}
	for _, d := range doc.DeleteRules {
		if d.OrgID != 1 || d.UID == "" {
			t.Errorf("deleteRules entry %+v: want orgId 1 and a uid", d)
		}
		deleted = append(deleted, d.UID)
	}
	return rules, deleted
}

// evaluator returns the rule's condition: a threshold expression's evaluator
// type (gt, lt, within_range, outside_range) and its parameters.
func (r alertRule) evaluator(t *testing.T) (typ string, params []float64) {
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
		typ, _ = ev["type"].(string)
		raw, _ := ev["params"].([]any)
		for _, p := range raw {
			switch v := p.(type) {
			case int:
				params = append(params, float64(v))
			case float64:
				params = append(params, v)
			default:
				t.Fatalf("rule %s: evaluator parameter %v is not a number", r.UID, p)
			}
		}
		want := map[string]int{"gt": 1, "lt": 1, "within_range": 2, "outside_range": 2}
		if n, ok := want[typ]; !ok || len(params) != n {
			t.Fatalf("rule %s: evaluator %v", r.UID, ev)
		}
		return typ, params
	}
	t.Fatalf("rule %s: no condition %s", r.UID, r.Condition)
	return "", nil
}

// threshold returns the threshold of a gt rule.
func (r alertRule) threshold(t *testing.T) float64 {
	t.Helper()
	typ, params := r.evaluator(t)
	if typ != "gt" {
		t.Fatalf("rule %s: evaluator %s, want gt", r.UID, typ)
	}
	return params[0]
}

// fires applies the rule's evaluator to a value as Grafana's threshold
// expression does (ranges are exclusive at both ends).
func (r alertRule) fires(t *testing.T, v float64) bool {
	t.Helper()
	typ, p := r.evaluator(t)
	switch typ {
	case "gt":
		return v > p[0]
	case "lt":
		return v < p[0]
	case "within_range":
		return v > p[0] && v < p[1]
	default: // outside_range
		return v < p[0] || v > p[1]
	}
}

// ruleWant is what each provisioned rule asks: a current query of one
// metric, for the maintainer and services given, over a threshold.
type ruleWant struct {
	metric, maintainer string
	minSeverity        string   // "": every advisory counts
	services           []string // nil: every service
	threshold          float64
	evaluator          string // "" is gt
	params             []float64
	title              string // a part of the title
}

func wantRules(t *testing.T) map[string]ruleWant {
	t.Helper()
	return map[string]ruleWant{
		"lagwatch-chart-lag-14d": {metric: "lag", threshold: 14 * 86400, title: "more than 14 days"},
		// Verdict codes 0..4: above 3 is possibly abandoned only.
		"lagwatch-chart-possibly-abandoned": {metric: "verdict", threshold: 3, title: "possibly abandoned"},
		// Every service: only those that say what runs have the series.
		"lagwatch-deployed-lag-30d": {metric: "deployed_lag", threshold: 30 * 86400, title: "Running version behind upstream for more than 30 days"},
		// High and critical advisories only, a fix missing for more than 7 days.
		"lagwatch-deployed-security-fix": {metric: "deployed_security_lag", minSeverity: "high", threshold: 7 * 86400, title: "A released fix for a high or critical advisory is missing from what you run"},
		"lagwatch-deployed-eol":          {metric: "deployed_eol", threshold: 0, title: "past its end of life"},
		// 0 < support_left < 30 days: after the end, the end-of-life rule.
		"lagwatch-deployed-support-30d": {metric: "deployed_support_left", evaluator: "within_range", params: []float64{0, 30 * 86400}, title: "ends within 30 days"},
	}
}

// lagwatchQuery is the rule's Lagwatch query.
func (r alertRule) lagwatchQuery(t *testing.T) alertQuery {
	t.Helper()
	for _, q := range r.Data {
		if q.DatasourceUID == lagwatchUID {
			return q
		}
	}
	t.Fatalf("rule %s: no Lagwatch query", r.UID)
	return alertQuery{}
}

func TestAlertRulesStructure(t *testing.T) {
	rules, deleted := alertFile(t)
	want := wantRules(t)
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	uids := map[string]bool{}
	for _, r := range rules {
		uids[r.UID] = true
		w, ok := want[r.UID]
		if !ok {
			t.Errorf("unexpected rule %s", r.UID)
			continue
		}
		if !strings.Contains(r.Title, w.title) {
			t.Errorf("rule %s: title %q, want it to say %q", r.UID, r.Title, w.title)
		}
		refs := map[string]bool{}
		for _, q := range r.Data {
			refs[q.RefID] = true
			if q.Model["refId"] != q.RefID {
				t.Errorf("rule %s: model refId %v != %s", r.UID, q.Model["refId"], q.RefID)
			}
			if q.RelativeTimeRange == nil {
				t.Errorf("rule %s query %s: no relativeTimeRange", r.UID, q.RefID)
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
				// One metric: every series keeps its own label set (service,
				// metric), and each service is one alert instance.
				if !knownMetric(w.metric) {
					t.Errorf("rule %s: metric %s is not one the backend lists", r.UID, w.metric)
				}
				if q.Model["queryType"] != "current" || !slices.Equal(strSlice(q.Model["metrics"]), []string{w.metric}) {
					t.Errorf("rule %s: model %v, want a current query of %s", r.UID, q.Model, w.metric)
				}
				if m, _ := q.Model["minSeverity"].(string); m != w.minSeverity {
					t.Errorf("rule %s: minSeverity %q, want %q", r.UID, m, w.minSeverity)
				}
				if m, _ := q.Model["maintainer"].(string); m != w.maintainer {
					t.Errorf("rule %s: maintainer %q, want %q", r.UID, m, w.maintainer)
				}
				if got := strSlice(q.Model["services"]); !slices.Equal(got, w.services) && !(len(got) == 0 && len(w.services) == 0) {
					t.Errorf("rule %s: services %v, want %v", r.UID, got, w.services)
				}
				if _, ok := q.Model["deployedVersion"]; ok {
					t.Errorf("rule %s: a what-if version has no place in an alert rule", r.UID)
				}
			default:
				t.Errorf("rule %s query %s: datasource %s is neither lagwatch nor __expr__", r.UID, q.RefID, q.DatasourceUID)
			}
		}
		// reduce (last, dropNN) then threshold, as the first rule.
		if len(r.Data) != 3 || r.Data[1].Model["type"] != "reduce" || r.Data[1].Model["reducer"] != "last" || r.Condition != r.Data[2].RefID {
			t.Errorf("rule %s: want A (Lagwatch), B (reduce last), C (threshold, the condition)", r.UID)
		}
		switch typ, params := r.evaluator(t); {
		case w.evaluator == "" && (typ != "gt" || params[0] != w.threshold):
			t.Errorf("rule %s: %s %v, want gt %v", r.UID, typ, params, w.threshold)
		case w.evaluator != "" && (typ != w.evaluator || !slices.Equal(params, w.params)):
			t.Errorf("rule %s: %s %v, want %s %v", r.UID, typ, params, w.evaluator, w.params)
		}
		if r.For == "" || r.NoDataState == "" || r.ExecErrState == "" || r.Title == "" {
			t.Errorf("rule %s: for, noDataState, execErrState and title are required", r.UID)
		}
		// A failing source gives its service a null value: it must not read as OK.
		if r.NoDataState != "NoData" || r.ExecErrState != "Error" {
			t.Errorf("rule %s: noDataState %q, execErrState %q, want NoData and Error", r.UID, r.NoDataState, r.ExecErrState)
		}
		if r.Labels["severity"] == "" || r.Labels["team"] == "" || r.Labels["component"] == "" {
			t.Errorf("rule %s: labels %v, want team, severity and component", r.UID, r.Labels)
		}
		for _, k := range []string{"summary", "description"} {
			if !strings.Contains(r.Annotations[k], "{{ $labels.service }}") && !strings.Contains(r.Annotations[k], "$labels.") {
				t.Errorf("rule %s: annotation %s does not name the service: %q", r.UID, k, r.Annotations[k])
			}
		}
		if !strings.Contains(r.Annotations["summary"], "$values.") {
			t.Errorf("rule %s: summary does not show the value", r.UID)
		}
		checkRunbook(t, r)
	}
	// The verdict threshold singles out "possibly abandoned".
	th := ruleByUID(t, rules, "lagwatch-chart-possibly-abandoned").threshold(t)
	for _, v := range verdictOrder {
		if fires := float64(v.Code()) > th; fires != (v == engine.VerdictAbandoned) {
			t.Errorf("verdict %q (code %d) fires %v at threshold %v", v, v.Code(), fires, th)
		}
	}
	// Its description quotes the provisioned A and W.
	w, _, a := verdictDays(t)
	desc := ruleByUID(t, rules, "lagwatch-chart-possibly-abandoned").Annotations["description"]
	for _, s := range []string{fmt.Sprintf("%d days", a), fmt.Sprintf("%d days", w)} {
		if !strings.Contains(desc, s) {
			t.Errorf("the abandoned rule's description does not quote %q (the provisioned verdict days)", s)
		}
	}
	// Deleted uids are not also provisioned (Grafana would drop them).
	for _, uid := range deleted {
		if uids[uid] {
			t.Errorf("deleteRules removes %s, which the file also provisions", uid)
		}
	}
}

// checkRunbook: the runbook annotation names a section of docs/run.md.
func checkRunbook(t *testing.T, r alertRule) {
	t.Helper()
	m := regexp.MustCompile(`^docs/run\.md, section "([^"]+)"$`).FindStringSubmatch(r.Annotations["runbook"])
	if m == nil {
		t.Errorf("rule %s: runbook %q, want docs/run.md, section \"...\"", r.UID, r.Annotations["runbook"])
		return
	}
	if !regexp.MustCompile(`(?m)^#+ ` + regexp.QuoteMeta(m[1]) + `$`).Match(readFile(t, "docs/run.md")) {
		t.Errorf("rule %s: docs/run.md has no section %q", r.UID, m[1])
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
