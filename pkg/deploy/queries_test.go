package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/plugin"
)

// evalAt is the time the provisioned queries are run at: the fixtures'
// reference date (ollama 1 version behind, chromadb 11).
var evalAt = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)

// newDatasource is a Lagwatch instance on the fixtures catalog, reading the
// fake GitHub, Helm, OCI and Prometheus servers, configured like the
// provisioned one except for the catalog (inline, pointed at the fakes), the
// GitHub URL and the Prometheus URL (the fake one, which answers the
// gpu-operator's deployed query; ollama's deployed version is pinned).
func newDatasource(t *testing.T) *plugin.Datasource {
	t.Helper()
	st := fakes.NewStack(t)
	return newDatasourceOn(t, st.Catalog, st.GitHub.URL(), st.Prometheus.URL(), map[string]any{
		// The fixtures' OCI chart has 164 versions and the queries look back to
		// 2025: read its whole history at once.
		"ociBudget": 500,
	})
}

// newDatasourceOn is a Lagwatch instance with the provisioned jsonData, but
// the catalog given inline and the GitHub and Prometheus URLs of fakes.
func newDatasourceOn(t *testing.T, catalogYAML, githubURL, prometheusURL string, extra map[string]any) *plugin.Datasource {
	t.Helper()
	jsonData := map[string]any{}
	for k, v := range datasources(t)[lagwatchUID].JSONData {
		jsonData[k] = v
	}
	if jsonData["prometheusUrl"] == nil {
		t.Fatalf("the provisioned datasource has no jsonData.prometheusUrl: the deployed metrics would be empty")
	}
	delete(jsonData, "catalogPath")
	jsonData["catalog"] = catalogYAML
	jsonData["githubUrl"] = githubURL
	jsonData["prometheusUrl"] = prometheusURL
	for k, v := range extra {
		jsonData[k] = v
	}
	raw, _ := json.Marshal(jsonData)
	inst, err := plugin.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: lagwatchUID, JSONData: raw, DecryptedSecureJSONData: map[string]string{"githubToken": "test-token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*plugin.Datasource)
	t.Cleanup(ds.Dispose)
	return ds
}

// selection is one choice of the dashboard variables; nil means All. pipeline
// is the single service of the pipeline row ($pipeline_service).
type selection struct {
	name       string
	services   []string
	maintainer []string
	pipeline   string
}

// The pipeline services cover the three cases of the last hop in the
// fixtures: a pinned deployed version (ollama), one read from Prometheus
// (gpu-operator), and none (chromadb, vllm-stack: their deployed metrics are
// null).
var selections = []selection{
	{name: "All/All", pipeline: "gpu-operator"},
	{name: "ollama/community", services: []string{"ollama"}, maintainer: []string{"community"}, pipeline: "ollama"},
	{name: "two services/both maintainers", services: []string{"ollama", "gpu-operator"}, maintainer: []string{"vendor", "community"}, pipeline: "chromadb"},
	{name: "All/vendor", maintainer: []string{"vendor"}, pipeline: "vllm-stack"},
}

// interpolate does what the frontend's applyTemplateVariables does
// (src/datasource.ts): "$service" in services expands to the selected names,
// All to none (= every service); "$pipeline_service" to its one service;
// "$maintainer" becomes the single selected value, and several values or All
// become "" (any maintainer).
func interpolate(t *testing.T, target map[string]any, sel selection) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range target {
		out[k] = v
	}
	if list, ok := target["services"].([]any); ok {
		var names []string
		for _, x := range list {
			switch x {
			case "$service":
				names = append(names, sel.services...)
			case "$" + pipelineVar:
				names = append(names, sel.pipeline)
			default:
				names = append(names, x.(string))
			}
		}
		out["services"] = names
	}
	if m, ok := target["maintainer"].(string); ok {
		switch {
		case m != "$maintainer":
		case len(sel.maintainer) == 1:
			out["maintainer"] = sel.maintainer[0]
		default:
			out["maintainer"] = ""
		}
	}
	for k, v := range out {
		if s, ok := v.(string); ok && len(s) > 0 && s[0] == '$' {
			t.Fatalf("query field %s = %q: unknown variable", k, s)
		}
	}
	return out
}

func runQuery(t *testing.T, ds *plugin.Datasource, model map[string]any, tr backend.TimeRange, interval time.Duration, maxPoints int64) backend.DataResponse {
	t.Helper()
	raw, _ := json.Marshal(model)
	qt, _ := model["queryType"].(string)
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: qt, JSON: raw, TimeRange: tr, Interval: interval, MaxDataPoints: maxPoints,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses["A"]
}

// checkFrames applies the data plane contract of the query type.
func checkFrames(queryType string, frames data.Frames) error {
	switch queryType {
	case "lag":
		return dataplanetest.CheckTimeSeriesMulti(frames)
	case "current":
		return dataplanetest.CheckNumericMulti(frames)
	case "status", "events":
		if len(frames) != 1 {
			return fmt.Errorf("%s: %d frames, want 1 table", queryType, len(frames))
		}
		return nil
	}
	return fmt.Errorf("unknown queryType %q", queryType)
}

func fieldNames(f *data.Frame) []string {
	var out []string
	for _, fd := range f.Fields {
		out = append(out, fd.Name)
	}
	return out
}

// displayName is the name Grafana shows and matches transformations on
// (getFieldDisplayName of a table field): the backend's display name, else
// the field name.
func displayName(fd *data.Field) string {
	if fd.Config != nil && fd.Config.DisplayNameFromDS != "" {
		return fd.Config.DisplayNameFromDS
	}
	return fd.Name
}

// fixtureDeployed is what the fixtures catalog says runs, by service: the
// pinned version, or the version the fake Prometheus answers at evalAt.
func fixtureDeployed(t *testing.T) map[string]string {
	t.Helper()
	src, err := fixtures.Catalog("http://helm.invalid", "oci.invalid")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range cat.Services {
		switch {
		case s.Deployed == nil:
		case s.Deployed.Version != "":
			out[s.Name] = s.Deployed.Version
		case s.Deployed.Prometheus.Query == fakes.GPUOperatorQuery:
			last := fakes.GPUOperatorDeployed[len(fakes.GPUOperatorDeployed)-1]
			out[s.Name] = strings.TrimPrefix(last.Labels[s.Deployed.Prometheus.Label], "v")
		default:
			t.Fatalf("fixtures catalog: %s reads a query the fake Prometheus does not answer", s.Name)
		}
	}
	if len(out) != 2 {
		t.Fatalf("fixtures catalog: deployed services %v, want ollama (pinned) and gpu-operator (Prometheus)", out)
	}
	return out
}

// The last hop of the fixtures at evalAt, from testdata/fixtures/real: what
// runs, and the oldest upstream release newer than it.
var fixtureLastHop = map[string]struct {
	behind     int64
	firstNewer time.Time // deployed_lag = evalAt - firstNewer
}{
	"ollama":       {5, time.Date(2025, 9, 12, 23, 40, 14, 0, time.UTC)}, // runs 0.11.10 (pinned); 0.11.11 .. 0.12.3 are newer
	"gpu-operator": {1, time.Date(2025, 9, 17, 19, 8, 37, 0, time.UTC)},  // runs v25.3.3 (fake Prometheus); v25.3.4 is newer
}

// values reads every non-null number of a frame's value field.
func values(f *data.Frame) (nums []float64, nulls int) {
	v := f.Fields[len(f.Fields)-1]
	for i := 0; i < v.Len(); i++ {
		if x, ok := v.ConcreteAt(i); ok {
			nums = append(nums, x.(float64))
		} else {
			nulls++
		}
	}
	return nums, nulls
}

// TestDashboardQueries runs every Lagwatch query of the dashboard (panel
// targets and annotations), as Grafana sends it for several variable
// selections, and checks the frames: the data plane contract, the fields the
// panels name, and for the pipeline row the numbers of the last hop.
func TestDashboardQueries(t *testing.T) {
	d := loadDashboard(t)
	ds := newDatasource(t)
	deployed := fixtureDeployed(t)
	tr := backend.TimeRange{From: evalAt.Add(-90 * 24 * time.Hour), To: evalAt}

	type query struct {
		where  string
		target map[string]any
		panel  *panel
	}
	var queries []query
	for _, p := range allPanels(d.Panels) {
		if p.Datasource == nil || p.Datasource.UID != lagwatchUID {
			continue
		}
		for _, tg := range p.Targets {
			queries = append(queries, query{fmt.Sprintf("panel %q target %v", p.Title, tg["refId"]), tg, &p})
		}
	}
	for _, a := range d.Annotations.List {
		queries = append(queries, query{"annotation " + a.Name, a.Target, nil})
	}
	if len(queries) < 16 {
		t.Fatalf("only %d Lagwatch queries found", len(queries))
	}
	for _, q := range queries {
		for _, sel := range selections {
			t.Run(q.where+"/"+sel.name, func(t *testing.T) {
				model := interpolate(t, q.target, sel)
				skipUnwired(t, model)
				dr := runQuery(t, ds, model, tr, time.Hour, 1000)
				if dr.Error != nil {
					t.Fatalf("rejected: %v (query %v)", dr.Error, model)
				}
				qt := model["queryType"].(string)
				if err := checkFrames(qt, dr.Frames); err != nil {
					t.Fatalf("frames: %v", err)
				}
				for _, f := range dr.Frames {
					if f.Meta == nil {
						continue
					}
					for _, n := range f.Meta.Notices {
						if n.Severity == data.NoticeSeverityError {
							t.Errorf("error notice: %s", n.Text)
						}
					}
				}
				onePipeline := slices.Equal(strSlice(q.target["services"]), []string{"$" + pipelineVar})
				switch qt {
				case "lag", "current":
					_, known := deployed[sel.pipeline]
					if len(dr.Frames) == 0 && !(onePipeline && !known && onlyLastHop(model)) {
						// A service that names no deployed version has no last-hop series.
						t.Fatalf("no series")
					}
					if onePipeline {
						checkPipelineSeries(t, model, dr.Frames, sel.pipeline, deployed)
					}
				case "status":
					names := fieldNames(dr.Frames[0])
					// Fields the dashboard's overrides and transformations name.
					for _, want := range []string{"service", "maintainer", "lag", "versions_behind", "chart_age", "is_current", "error", "delay_median", "delay_p90"} {
						if !slices.Contains(names, want) {
							t.Errorf("status frame has no field %q (has %v)", want, names)
						}
					}
					if n, _ := dr.Frames[0].RowLen(); n == 0 {
						t.Errorf("status table is empty")
					}
					if q.panel != nil {
						checkFieldRefs(t, *q.panel, dr.Frames[0])
					}
					if onePipeline {
						f := dr.Frames[0]
						if n, _ := f.RowLen(); n != 1 {
							t.Fatalf("status of the pipeline service: %d rows, want 1", n)
						}
						got, _ := f.Fields[slices.Index(names, "deployed")].ConcreteAt(0)
						if got != deployed[sel.pipeline] {
							t.Errorf("%s: deployed %q, want %q", sel.pipeline, got, deployed[sel.pipeline])
						}
					}
				case "events":
					names := fieldNames(dr.Frames[0])
					for _, want := range []string{"time", "title", "text", "tags"} {
						if !slices.Contains(names, want) {
							t.Errorf("events frame has no field %q (annotations read it)", want)
						}
					}
					checkEvents(t, model, dr.Frames[0], sel.pipeline, tr)
				}
				if q.panel != nil && q.panel.Type == "barchart" {
					checkGroupBy(t, *q.panel, dr.Frames[0])
				}
			})
		}
	}
}

// checkPipelineSeries: the pipeline row's series are the one service's, and
// its last-hop metrics have numbers exactly where the catalog says what runs.
// lastHopMetrics are the metric names of the pipeline panels' last hop, as
// the dashboard spells them.
var lastHopMetrics = []string{"deployed_lag", "rollout_lag", "deployed_versions_behind"}

// onlyLastHop reports whether a query asks for last-hop metrics only.
func onlyLastHop(model map[string]any) bool {
	ms := strSlice(toAnySlice(model["metrics"]))
	for _, m := range ms {
		if !slices.Contains(lastHopMetrics, m) {
			return false
		}
	}
	return len(ms) > 0
}

func checkPipelineSeries(t *testing.T, model map[string]any, frames data.Frames, service string, deployed map[string]string) {
	t.Helper()
	qt := model["queryType"].(string)
	for _, f := range frames {
		v := f.Fields[len(f.Fields)-1]
		if v.Labels["service"] != service {
			t.Errorf("series %q: service %q, want only the pipeline service %s", f.Name, v.Labels["service"], service)
		}
		metric := v.Labels["metric"]
		nums, nulls := values(f)
		_, known := deployed[service]
		switch {
		case !slices.Contains(lastHopMetrics, metric):
			if metric == "verdict" && (len(nums) != 1 || nums[0] < 0 || nums[0] > 4) {
				t.Errorf("%s verdict = %v, want one code 0..4", service, nums)
			}
		case !known:
			t.Errorf("%s %s: the catalog says nothing of what runs, want no last-hop series", service, metric)
		case qt == "lag":
			// Pinned, or scraped since before the range: known at every point.
			if len(nums) == 0 || nulls != 0 {
				t.Errorf("%s %s: %d numbers, %d nulls; want a number at every point", service, metric, len(nums), nulls)
			}
			if hop := fixtureLastHop[service]; metric == "deployed_lag" && len(nums) > 0 && nums[len(nums)-1] != evalAt.Sub(hop.firstNewer).Seconds() {
				t.Errorf("%s deployed_lag at %s = %v s, want %v s", service, evalAt.Format(time.DateOnly), nums[len(nums)-1], evalAt.Sub(hop.firstNewer).Seconds())
			}
		case metric == "deployed_versions_behind":
			if want := float64(fixtureLastHop[service].behind); len(nums) != 1 || nums[0] != want {
				t.Errorf("%s deployed_versions_behind = %v, want %v", service, nums, want)
			}
		}
	}
}

// checkEvents: the forecast layer draws the pipeline service's expected chart
// releases, also after the end of the range (ahead of now); the deployed
// layer marks the changes of what runs.
func checkEvents(t *testing.T, model map[string]any, f *data.Frame, pipeline string, tr backend.TimeRange) {
	t.Helper()
	kinds := strSlice(toAnySlice(model["eventKinds"]))
	idx := func(name string) int { return slices.Index(fieldNames(f), name) }
	n, _ := f.RowLen()
	var ahead, changes int
	for i := 0; i < n; i++ {
		kind, _ := f.Fields[idx("kind")].ConcreteAt(i)
		svc, _ := f.Fields[idx("service")].ConcreteAt(i)
		at, _ := f.Fields[idx("time")].ConcreteAt(i)
		if !slices.Contains(kinds, kind.(string)) {
			t.Errorf("event kind %v in a layer of %v", kind, kinds)
		}
		if slices.Equal(kinds, []string{"forecast"}) || slices.Equal(kinds, []string{"deployed"}) {
			if svc != pipeline {
				t.Errorf("%v event of %v on the pipeline of %s", kinds, svc, pipeline)
			}
		}
		if kind == "forecast" && at.(time.Time).After(tr.To) {
			ahead++
		}
		if kind == "deployed" {
			changes++
		}
	}
	switch {
	case slices.Equal(kinds, []string{"forecast"}) && pipeline == "ollama" && ahead == 0:
		// ollama 0.12.3 (2025-09-26) is not in a chart at evalAt.
		t.Errorf("no ollama forecast after %s: the open release should be drawn ahead of now", tr.To.Format(time.DateOnly))
	case slices.Equal(kinds, []string{"deployed"}) && pipeline == "gpu-operator" && changes == 0:
		// The fake Prometheus: v25.3.1, then v25.3.3 from 2025-09-12.
		t.Errorf("no deployed event for gpu-operator: the upgrade to v25.3.3 on 2025-09-12 is in the range")
	case slices.Equal(kinds, []string{"deployed"}) && pipeline == "ollama" && changes != 0:
		t.Errorf("%d deployed events for ollama: a pinned version never changes", changes)
	}
}

func toAnySlice(v any) any {
	if s, ok := v.([]string); ok {
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	return v
}

// checkFieldRefs: every field a table or stat panel names (transformations,
// overrides, the stat's field selection) is in the frame, by field name or
// display name, the way Grafana matches them: byName and filterFieldsByName
// accept either, organize and byRegexp only the display name.
func checkFieldRefs(t *testing.T, p panel, f *data.Frame) {
	t.Helper()
	names, shown := map[string]bool{}, map[string]bool{}
	for _, fd := range f.Fields {
		names[fd.Name], names[displayName(fd)], shown[displayName(fd)] = true, true, true
	}
	for _, tr := range p.Transform {
		switch tr.ID {
		case "filterFieldsByName":
			inc, _ := tr.Options["include"].(map[string]any)
			for _, n := range strSlice(inc["names"]) {
				if !names[n] {
					t.Errorf("panel %q: filterFieldsByName keeps %q, which the status frame does not have", p.Title, n)
				}
			}
		case "organize":
			for _, key := range []string{"indexByName", "renameByName", "excludeByName"} {
				m, _ := tr.Options[key].(map[string]any)
				for n := range m {
					if !shown[n] {
						t.Errorf("panel %q: organize.%s names %q, not a display name of the status frame (%v)", p.Title, key, n, shown)
					}
				}
			}
		}
	}
	var ov struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
		} `json:"overrides"`
	}
	raw, _ := json.Marshal(p.FieldConfig)
	_ = json.Unmarshal(raw, &ov)
	for _, o := range ov.Overrides {
		switch o.Matcher.ID {
		case "byName":
			if !names[o.Matcher.Options] {
				t.Errorf("panel %q: override for %q matches no field", p.Title, o.Matcher.Options)
			}
		case "byRegexp":
			re := regexp.MustCompile(o.Matcher.Options)
			if !slices.ContainsFunc(slices.Collect(maps.Keys(shown)), re.MatchString) {
				t.Errorf("panel %q: override %s matches no display name", p.Title, o.Matcher.Options)
			}
		}
	}
	if p.Type == "stat" {
		ro, _ := p.Options["reduceOptions"].(map[string]any)
		if pat, _ := ro["fields"].(string); pat != "" {
			re := regexp.MustCompile(strings.Trim(pat, "/"))
			alts := strings.Count(pat, "|") + 1
			n := 0
			for s := range shown {
				if re.MatchString(s) {
					n++
				}
			}
			if n != alts {
				t.Errorf("panel %q: fields %s select %d fields, want %d", p.Title, pat, n, alts)
			}
		}
	}
}

// checkGroupBy: every field the panel's groupBy transformation aggregates is
// in the frame, by name or by display name.
func checkGroupBy(t *testing.T, p panel, f *data.Frame) {
	t.Helper()
	have := map[string]bool{}
	for _, fd := range f.Fields {
		have[fd.Name] = true
		if fd.Config != nil && fd.Config.DisplayNameFromDS != "" {
			have[fd.Config.DisplayNameFromDS] = true
		}
	}
	found := 0
	for _, tr := range p.Transform {
		if tr.ID != "groupBy" {
			continue
		}
		fields, _ := tr.Options["fields"].(map[string]any)
		for name := range fields {
			if have[name] {
				found++
			}
		}
		if _, ok := fields["maintainer"]; !ok {
			t.Errorf("panel %q does not group by maintainer", p.Title)
		}
	}
	if found < 3 {
		t.Errorf("panel %q: groupBy names %d fields of the status frame, want maintainer, delay_median and delay_p90", p.Title, found)
	}
}

// TestVariableQueriesResolve: the variable queries list things the
// datasource's /services resource knows (maintainers of the fixtures).
func TestVariableQueriesResolve(t *testing.T) {
	d := loadDashboard(t)
	ds := newDatasource(t)
	var got struct {
		Services []struct {
			Name       string `json:"name"`
			Maintainer string `json:"maintainer"`
		} `json:"services"`
		Maintainers []string `json:"maintainers"`
	}
	sender := backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
		if r.Status != 200 {
			return fmt.Errorf("GET services: %d %s", r.Status, r.Body)
		}
		return json.Unmarshal(r.Body, &got)
	})
	if err := ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: "GET", Path: "services", URL: "services"}, sender); err != nil {
		t.Fatal(err)
	}
	if len(got.Services) != 5 || !slices.Contains(got.Maintainers, "community") || !slices.Contains(got.Maintainers, "vendor") {
		t.Fatalf("GET services = %+v", got)
	}
	for _, v := range d.Templating.List {
		if v.Query["list"] == "services" && v.Query["maintainer"] != "$maintainer" {
			t.Errorf("the service variable does not follow $maintainer: %v", v.Query)
		}
	}
}

// ruleRun is one evaluation of a rule's Lagwatch query: the value of every
// alert instance (nil for null: NoData) and the services that fire.
type ruleRun struct {
	values map[string]*float64
	firing []string
}

// runRule runs the rule's Lagwatch query (model as given) as Grafana's
// alerting does at time at: relative time range, intervalMs and
// maxDataPoints from the model. It checks the numeric-multi contract, one
// label set per series (Grafana refuses duplicates), the labels the
// annotations use, and applies the threshold.
func runRule(t *testing.T, ds *plugin.Datasource, r alertRule, model map[string]any, at time.Time) ruleRun {
	t.Helper()
	skipUnwired(t, model)
	q := r.lagwatchQuery(t)
	tr := backend.TimeRange{
		From: at.Add(-time.Duration(q.RelativeTimeRange.From) * time.Second),
		To:   at.Add(-time.Duration(q.RelativeTimeRange.To) * time.Second),
	}
	interval := time.Duration(toInt(model["intervalMs"])) * time.Millisecond
	dr := runQuery(t, ds, model, tr, interval, toInt(model["maxDataPoints"]))
	if dr.Error != nil {
		t.Fatalf("rejected: %v", dr.Error)
	}
	if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
		t.Fatalf("not numeric-multi: %v", err)
	}
	metric := strSlice(model["metrics"])[0]
	run := ruleRun{values: map[string]*float64{}}
	seen := map[string]bool{}
	for _, f := range dr.Frames {
		v := f.Fields[0]
		for _, l := range []string{"service", "maintainer", "metric", "chart", "repo"} {
			if v.Labels[l] == "" {
				t.Errorf("series %q has no %s label (the rule's annotations and routing use it)", f.Name, l)
			}
		}
		if key := v.Labels.String(); seen[key] {
			t.Errorf("label set %s twice: Grafana cannot tell the alert instances apart", key)
		} else {
			seen[key] = true
		}
		if v.Labels["metric"] != metric {
			t.Errorf("series %q: metric label %q, want %s", f.Name, v.Labels["metric"], metric)
		}
		if want, _ := model["maintainer"].(string); want != "" && v.Labels["maintainer"] != want {
			t.Errorf("series %q: maintainer %s, the rule asks for %s", f.Name, v.Labels["maintainer"], want)
		}
		svc := v.Labels["service"]
		if _, dup := run.values[svc]; dup {
			t.Errorf("service %s has two series", svc)
		}
		run.values[svc] = nil
		if v.Len() == 1 {
			if x, ok := v.ConcreteAt(0); ok {
				n := x.(float64)
				run.values[svc] = &n
				if r.fires(t, n) {
					run.firing = append(run.firing, svc)
				}
			}
		}
	}
	slices.Sort(run.firing)
	if names := strSlice(model["services"]); len(names) > 0 {
		got := slices.Sorted(maps.Keys(run.values))
		if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
			t.Errorf("series for %v, the rule names %v", got, want)
		}
	}
	return run
}

// TestAlertRuleQueries runs every rule as provisioned, in two worlds: the
// fixtures at evalAt (real release histories: ollama 1 version behind,
// chromadb 11), and the compose stack's last hop at composeAt (Prometheus and
// Grafana, whose running versions compose's Prometheus knows). A rule that
// names services runs where they exist, and once more on the fixtures with
// the services whose running version the fixtures know.
func TestAlertRuleQueries(t *testing.T) {
	fixturesDS, compose := newDatasource(t), newComposeWorld(t)
	fixtureSvc := fixtureDeployed(t)
	type world struct {
		name string
		ds   *plugin.Datasource
		at   time.Time
		// services: those the world knows; firing: by rule uid; nulls: by
		// rule uid, the services whose value is null because their catalog
		// entry names no input of the rule's metric (no advisories, no eol
		// product): NoData.
		services []string
		firing   map[string][]string
		nulls    map[string][]string
	}
	worlds := []world{
		{"fixtures", fixturesDS, evalAt, []string{"ollama", "chromadb", "vllm-stack", "gpu-operator", "ollama-oci"}, map[string][]string{
			"lagwatch-chart-lag-14d": {"chromadb"}, // 125 days behind; ollama is 3.9 days behind
			// chromadb: last chart 130 days old (> A = 120) and 11 releases
			// behind; ollama's chart is 4.7 days old.
			"lagwatch-chart-possibly-abandoned": {"chromadb"},
			// Series for ollama and gpu-operator only (the others name no
			// deployed version): 17.0 and 12.2 days behind.
			"lagwatch-deployed-lag-30d": nil,
		}, map[string][]string{
			// The fixtures catalog names no advisories and no eol product.
			"lagwatch-deployed-security-fix": {"gpu-operator", "ollama"},
			"lagwatch-deployed-eol":          {"gpu-operator", "ollama"},
			"lagwatch-deployed-support-30d":  {"gpu-operator", "ollama"},
		}},
		{"compose", compose.ds, composeAt, []string{"prometheus", "grafana"}, map[string][]string{
			"lagwatch-chart-lag-14d":            nil,                       // the charts ship the newest release
			"lagwatch-chart-possibly-abandoned": nil,                       // newest charts 58 days old
			"lagwatch-deployed-lag-30d":         {"grafana", "prometheus"}, // both run a version 92 days behind
			// Prometheus 3.5's end of life was 2026-07-31; Grafana 12.4's is
			// 2027-05-24 (endoflife.date fixtures). TestEOLRulesOnCompose
			// has the support rule firing 16 days earlier.
			"lagwatch-deployed-eol":         {"prometheus"},
			"lagwatch-deployed-support-30d": nil,
		}, map[string][]string{
			// The homelab catalog gives them no advisories (docs/run.md).
			"lagwatch-deployed-security-fix": {"grafana", "prometheus"},
		}},
	}
	for _, r := range alertRules(t) {
		for _, w := range worlds {
			model := r.lagwatchQuery(t).Model
			names := strSlice(model["services"])
			if len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(w.services, n) }) {
				if w.name != "fixtures" {
					t.Fatalf("rule %s names %v, unknown in the %s world", r.UID, names, w.name)
				}
				// The same rule for the services the fixtures deploy.
				m := maps.Clone(model)
				m["services"] = slices.Sorted(maps.Keys(fixtureSvc))
				model = m
			}
			t.Run(r.UID+"/"+w.name, func(t *testing.T) {
				run := runRule(t, w.ds, r, model, w.at)
				if len(run.values) == 0 {
					t.Fatal("no series")
				}
				if strings.HasPrefix(strSlice(model["metrics"])[0], "deployed_") {
					// Last hop: instances only for the services that say what runs.
					want := []string{"grafana", "prometheus"}
					if w.name == "fixtures" {
						want = slices.Sorted(maps.Keys(fixtureSvc))
					}
					if got := slices.Sorted(maps.Keys(run.values)); !slices.Equal(got, want) {
						t.Errorf("instances %v, want %v", got, want)
					}
				}
				if !slices.Equal(run.firing, w.firing[r.UID]) {
					t.Errorf("firing for %v at %s, want %v", run.firing, w.at.Format(time.DateOnly), w.firing[r.UID])
				}
				for svc, v := range run.values {
					null := slices.Contains(w.nulls[r.UID], svc)
					switch {
					case null && v != nil:
						t.Errorf("%s: %v, want null (NoData): its catalog entry names no input of %s", svc, *v, strSlice(model["metrics"]))
					case null:
					case v == nil:
						t.Errorf("%s: null (NoData) although its sources and its running version are known", svc)
					case r.UID == "lagwatch-deployed-lag-30d" && w.name == "fixtures":
						if want := evalAt.Sub(fixtureLastHop[svc].firstNewer).Seconds(); *v != want {
							t.Errorf("%s deployed_lag %v s, want %v s", svc, *v, want)
						}
					case r.UID == "lagwatch-deployed-lag-30d":
						if *v != composeWant.deployedLag.Seconds() {
							t.Errorf("%s deployed_lag %v s, want %v s", svc, *v, composeWant.deployedLag.Seconds())
						}
					}
				}
			})
		}
	}

	// A service whose running version cannot be read stays an instance with
	// a null value (NoData), it does not vanish or read as OK.
	t.Run("lagwatch-deployed-lag-30d/prometheus down", func(t *testing.T) {
		w := newComposeWorld(t)
		w.prom.Close()
		r := ruleByUID(t, alertRules(t), "lagwatch-deployed-lag-30d")
		run := runRule(t, w.ds, r, r.lagwatchQuery(t).Model, composeAt)
		for _, s := range w.services {
			if v, ok := run.values[s.Name]; !ok || v != nil {
				t.Errorf("%s with Prometheus down: value %v (present %v), want a null instance", s.Name, v, ok)
			}
		}
	})
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}
