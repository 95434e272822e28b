package e2e

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// mistakeNotices are texts the notices of each service of
// testdata/catalogs/mistakes.yaml hold.
var mistakeNotices = map[string]string{
	"ollama-from-version":   `did you mean chart.versionFrom: appVersion? it ships "0.12.2"`,
	"ollama-no-match":       `upstream tags match tagPattern '^release-(\d+\.\d+\.\d+)$' (first: "v0.33.0-rc2"); tagPattern '^v(\d+\.\d+\.\d+)$' keeps 245 of them`,
	"chromadb-no-pattern":   `66 upstream tags left out (not a version)`,
	"ollama-wrong-upstream": `low coverage: 0 of the chart's last 20 versions ship an upstream version`,
}

// nulled are the services of mistakes.yaml whose comparison with upstream
// does not hold: every metric but chart_age is null.
var nulled = map[string]bool{"ollama-from-version": true, "ollama-no-match": true}

// TestCatalogMistakesOverGRPC: the built plugin, over gRPC, on the catalog
// mistakes of issue 17 at 2025-09-30: nulls (NoData for alert rules), never
// a reassuring zero, and one notice per cause.
func TestCatalogMistakesOverGRPC(t *testing.T) {
	s := newServers(t)
	cat, err := fixtures.CatalogFile("mistakes.yaml", s.Helm.URL(), s.OCI.Host())
	if err != nil {
		t.Fatal(err)
	}
	pc := start(t)
	pctx := instance(7, s.GitHub.URL(), string(cat), "test-token")
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")

	t.Run("current", func(t *testing.T) {
		dr := pc.query(t, pctx, "current", `{"metrics":["lag","versions_behind","drift","chart_age","is_current","deployed_versions_behind","deployed_lag","rollout_lag","verdict"]}`, from, to)
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		if err := dataplanetest.CheckNumericMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, f := range dr.Frames {
			l := f.Fields[0].Labels
			svc, metric := l["service"], l["metric"]
			seen[svc]++
			v, ok := f.Fields[0].ConcreteAt(0)
			switch {
			case metric == "chart_age" && !ok:
				t.Errorf("%s chart_age is null", svc)
			case nulled[svc] && metric != "chart_age" && ok:
				t.Errorf("%s %s = %v, want null", svc, metric, v)
			case svc == "ollama-wrong-upstream" && metric == "versions_behind" && !ok:
				t.Errorf("%s versions_behind is null: low coverage still gives numbers", svc)
			}
			checkNotices(t, f, svc)
		}
		for svc := range nulled {
			if seen[svc] != 9 {
				t.Errorf("%s has %d series, want all 9 (null ones stay, so alert instances go NoData)", svc, seen[svc])
			}
		}
	})
	t.Run("lag", func(t *testing.T) {
		dr := pc.query(t, pctx, "lag", `{"metrics":["lag","versions_behind","is_current","deployed_lag"]}`, from, to)
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		if err := dataplanetest.CheckTimeSeriesMulti(dr.Frames); err != nil {
			t.Fatal(err)
		}
		for _, f := range dr.Frames {
			svc := f.Fields[1].Labels["service"]
			values := 0
			for i := range f.Fields[1].Len() {
				if _, ok := f.Fields[1].ConcreteAt(i); ok {
					values++
				}
			}
			if nulled[svc] != (values == 0) {
				t.Errorf("%s: %d of %d points have a value", f.Name, values, f.Fields[1].Len())
			}
			checkNotices(t, f, svc)
		}
	})
	t.Run("status", func(t *testing.T) {
		dr := pc.query(t, pctx, "status", `{}`, from, to)
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		f := dr.Frames[0]
		svcs, _ := f.FieldByName("service")
		for i := range svcs.Len() {
			svc := svcs.At(i).(string)
			for _, name := range []string{"upstream_latest", "versions_behind", "lag", "is_current", "deployed_lag"} {
				fd, _ := f.FieldByName(name)
				v, ok := fd.ConcreteAt(i)
				null := !ok || v == ""
				if name == "deployed_lag" && !nulled[svc] {
					continue // only the nulled services say what they run
				}
				if nulled[svc] != null {
					t.Errorf("status %s %s = %v", svc, name, v)
				}
			}
			if !serviceNotice(f.Meta.Notices, svc) {
				t.Errorf("status: no notice for %s says %q", svc, mistakeNotices[svc])
			}
		}
		if n := len(f.Meta.Notices); n > 20 {
			t.Errorf("status frame: %d notices", n)
		}
	})
}

// checkNotices holds a frame of one service to its cause's notice, and to a
// handful of notices (not one per tag left out).
func checkNotices(t *testing.T, f *data.Frame, svc string) {
	t.Helper()
	if f.Meta == nil || !serviceNotice(f.Meta.Notices, svc) {
		t.Errorf("%s: no notice says %q: %+v", f.Name, mistakeNotices[svc], f.Meta)
		return
	}
	if n := len(f.Meta.Notices); n > 3 {
		var texts []string
		for _, n := range f.Meta.Notices {
			texts = append(texts, n.Text)
		}
		t.Errorf("%s: %d notices: %s", f.Name, n, strings.Join(texts, " | "))
	}
}

// serviceNotice reports whether a notice of svc holds its cause's text.
func serviceNotice(ns []data.Notice, svc string) bool {
	for _, n := range ns {
		if strings.HasPrefix(n.Text, svc+": ") && strings.Contains(n.Text, mistakeNotices[svc]) {
			return true
		}
	}
	return false
}
