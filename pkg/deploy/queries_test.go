package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/plugin"
)

// evalAt is the time the provisioned queries are run at: the fixtures'
// reference date (ollama 1 version behind, chromadb 11).
var evalAt = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)

// newDatasource is a Lagwatch instance on the fixtures catalog, reading the
// fake GitHub and Helm servers, configured like the provisioned one except
// for the catalog (inline, pointed at the fakes) and the GitHub URL.
func newDatasource(t *testing.T) *plugin.Datasource {
	t.Helper()
	st := fakes.NewStack(t)
	jsonData := map[string]any{}
	for k, v := range datasources(t)[lagwatchUID].JSONData {
		jsonData[k] = v
	}
	delete(jsonData, "catalogPath")
	jsonData["catalog"] = st.Catalog
	jsonData["githubUrl"] = st.GitHub.URL()
	// The fixtures' OCI chart has 164 versions and the queries look back to
	// 2025: read its whole history at once.
	jsonData["ociBudget"] = 500
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

// selection is one choice of the dashboard variables; nil means All.
type selection struct {
	name       string
	services   []string
	maintainer []string
}

var selections = []selection{
	{name: "All/All"},
	{name: "ollama/community", services: []string{"ollama"}, maintainer: []string{"community"}},
	{name: "two services/both maintainers", services: []string{"ollama", "gpu-operator"}, maintainer: []string{"vendor", "community"}},
	{name: "All/vendor", maintainer: []string{"vendor"}},
}

// interpolate does what the frontend's applyTemplateVariables does
// (src/datasource.ts): "$service" in services expands to the selected names,
// All to none (= every service); "$maintainer" becomes the single selected
// value, and several values or All become "" (any maintainer).
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

// TestDashboardQueries runs every Lagwatch query of the dashboard (panel
// targets and annotations), as Grafana sends it for several variable
// selections, and checks the frames.
func TestDashboardQueries(t *testing.T) {
	d := loadDashboard(t)
	ds := newDatasource(t)
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
	if len(queries) < 8 {
		t.Fatalf("only %d Lagwatch queries found", len(queries))
	}
	for _, q := range queries {
		for _, sel := range selections {
			t.Run(q.where+"/"+sel.name, func(t *testing.T) {
				model := interpolate(t, q.target, sel)
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
				switch qt {
				case "lag", "current":
					if len(dr.Frames) == 0 {
						t.Fatalf("no series")
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
				case "events":
					names := fieldNames(dr.Frames[0])
					for _, want := range []string{"time", "title", "text", "tags"} {
						if !slices.Contains(names, want) {
							t.Errorf("events frame has no field %q (annotations read it)", want)
						}
					}
				}
				if q.panel != nil && q.panel.Type == "barchart" {
					checkGroupBy(t, *q.panel, dr.Frames[0])
				}
			})
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

// TestAlertRuleQueries runs each rule's Lagwatch query as Grafana's alerting
// does (relative time range, intervalMs, maxDataPoints from the model),
// checks the numeric-multi contract and the labels the annotations use, and
// evaluates reduce + threshold on the fixtures to show which services fire.
func TestAlertRuleQueries(t *testing.T) {
	ds := newDatasource(t)
	wantFiring := map[string][]string{
		"lagwatch-chart-lag-14d":             {"chromadb"}, // 125 days behind; ollama is 3.9 days behind
		"lagwatch-community-chart-abandoned": {"chromadb"}, // last chart 130 days old; ollama's is 4.7 days
	}
	for _, r := range alertRules(t) {
		t.Run(r.UID, func(t *testing.T) {
			var q *alertQuery
			for i := range r.Data {
				if r.Data[i].DatasourceUID == lagwatchUID {
					q = &r.Data[i]
				}
			}
			if q == nil {
				t.Fatal("no Lagwatch query")
			}
			tr := backend.TimeRange{
				From: evalAt.Add(-time.Duration(q.RelativeTimeRange.From) * time.Second),
				To:   evalAt.Add(-time.Duration(q.RelativeTimeRange.To) * time.Second),
			}
			interval := time.Duration(toInt(q.Model["intervalMs"])) * time.Millisecond
			dr := runQuery(t, ds, q.Model, tr, interval, toInt(q.Model["maxDataPoints"]))
			if dr.Error != nil {
				t.Fatalf("rejected: %v", dr.Error)
			}
			if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
				t.Fatalf("not numeric-multi: %v", err)
			}
			threshold := r.threshold(t)
			var firing []string
			for _, f := range dr.Frames {
				v := f.Fields[0]
				for _, l := range []string{"service", "maintainer", "metric", "chart", "repo"} {
					if v.Labels[l] == "" {
						t.Errorf("series %q has no %s label (the rule's annotations and routing use it)", f.Name, l)
					}
				}
				if want, _ := q.Model["maintainer"].(string); want != "" && v.Labels["maintainer"] != want {
					t.Errorf("series %q: maintainer %s, the rule asks for %s", f.Name, v.Labels["maintainer"], want)
				}
				if v.Len() == 1 {
					if x, ok := v.ConcreteAt(0); ok && x.(float64) > threshold {
						firing = append(firing, v.Labels["service"])
					}
				}
			}
			slices.Sort(firing)
			if !slices.Equal(firing, wantFiring[r.UID]) {
				t.Errorf("firing for %v at %s, want %v", firing, evalAt.Format(time.DateOnly), wantFiring[r.UID])
			}
		})
	}
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
