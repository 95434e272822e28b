package frames_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// built is a collected service read from the fixtures as svc describes it.
func built(t *testing.T, svc catalog.Service, tags, index string) collector.Result {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	ups, err := fixtures.Releases(filepath.Join(dir, tags))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := fixtures.ChartVersions(filepath.Join(dir, index), svc.Chart.Name)
	if err != nil {
		t.Fatal(err)
	}
	tl, notices, err := engine.Build(collector.Spec(svc), ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	return collector.Result{Service: svc, Timeline: tl, Notices: notices}
}

func ollamaService(name, pattern, from string) catalog.Service {
	return catalog.Service{Name: name, Maintainer: "community",
		Upstream: catalog.Upstream{Repo: "ollama/ollama", Source: "tags", TagPattern: pattern},
		Chart:    catalog.Chart{Repository: "https://otwld.github.io/ollama-helm", Name: "ollama", VersionFrom: from}}
}

// mistakes are the catalog mistakes of lag-metrics.md ("When the catalog and
// the data disagree") that must give nulls, on the real fixtures, each with a
// text one of its notices holds. A deployed version is pinned on each, so
// the last hop has a series to be null in.
func mistakes(t *testing.T) ([]collector.Result, map[string]string) {
	rs := []collector.Result{
		built(t, ollamaService("ollama-from-version", `^v(\d+\.\d+\.\d+)$`, catalog.FromVersion), "ollama__ollama/tags.tsv", "otwld__ollama-helm/index.yaml"),
		built(t, ollamaService("ollama-no-match", `^release-(\d+\.\d+\.\d+)$`, catalog.FromAppVersion), "ollama__ollama/tags.tsv", "otwld__ollama-helm/index.yaml"),
	}
	for i := range rs {
		d, err := engine.PinnedDeployed("0.11.0")
		if err != nil {
			t.Fatal(err)
		}
		rs[i].Deployed = &d
		rs[i].Service.Deployed = &catalog.Deployed{Version: "0.11.0"}
	}
	return rs, map[string]string{
		"ollama-from-version": `did you mean chart.versionFrom: appVersion? it ships "0.12.2"`,
		"ollama-no-match":     "none of the 635 upstream tags match tagPattern",
	}
}

func noticeTexts(f *data.Frame) []string {
	var out []string
	if f.Meta != nil {
		for _, n := range f.Meta.Notices {
			out = append(out, n.Text)
		}
	}
	return out
}

func hasNotice(f *data.Frame, want string) bool {
	for _, n := range noticeTexts(f) {
		if strings.Contains(n, want) {
			return true
		}
	}
	return false
}

// nullMetrics are null for a service whose packaged version cannot be
// compared with upstream; chart_age keeps its value.
var nullMetrics = append([]string{models.MetricLag, models.MetricVersionsBehind, models.MetricDrift, models.MetricIsCurrent, models.MetricVerdict}, models.LastHopMetrics...)

func TestCurrentNullOnCatalogMistakes(t *testing.T) {
	rs, want := mistakes(t)
	at := ts("2025-09-30T00:00:00Z")
	fs := frames.Current(rs, models.Metrics, at, engine.VerdictParams{})
	if err := dataplanetest.CheckNumericMulti(fs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range fs {
		l := f.Fields[0].Labels
		key := l["service"] + " " + l["metric"]
		seen[key] = true
		v, ok := f.Fields[0].ConcreteAt(0)
		switch m := l["metric"]; {
		case m == models.MetricChartAge:
			if !ok {
				t.Errorf("%s is null: the chart's age does not depend on upstream", key)
			}
		case ok:
			t.Errorf("%s = %v, want null (NoData for an alert rule)", key, v)
		}
		if !hasNotice(f, want[l["service"]]) {
			t.Errorf("%s: no notice says %q: %q", key, want[l["service"]], noticeTexts(f))
		}
	}
	for _, r := range rs {
		for _, m := range nullMetrics {
			if !seen[r.Service.Name+" "+m] {
				t.Errorf("%s %s has no series: it must stay, null, so an alert instance goes NoData", r.Service.Name, m)
			}
		}
	}
}

func TestLagNullOnCatalogMistakes(t *testing.T) {
	rs, want := mistakes(t)
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	fs := frames.Lag(context.Background(), rs, models.LagMetrics, from, to, 6*time.Hour, 1000)
	if err := dataplanetest.CheckTimeSeriesMulti(fs); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		v := f.Fields[1]
		metric := v.Labels["metric"]
		for i := range v.Len() {
			_, ok := v.ConcreteAt(i)
			if ok != (metric == models.MetricChartAge) {
				t.Errorf("%s at %v: has value %v", f.Name, f.Fields[0].At(i), ok)
				break
			}
		}
		if !hasNotice(f, want[v.Labels["service"]]) {
			t.Errorf("%s: no notice says %q: %q", f.Name, want[v.Labels["service"]], noticeTexts(f))
		}
	}
}

func TestStatusNullOnCatalogMistakes(t *testing.T) {
	rs, want := mistakes(t)
	f := frames.Status(rs, ts("2024-09-30T00:00:00Z"), ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})
	for i, r := range rs {
		for _, name := range []string{"upstream_latest", "versions_behind", "lag", "drift", "is_current", "deployed_versions_behind", "deployed_lag", "rollout_lag",
			"releases", "delay_median", "open_releases", "overdue_releases", "verdict_code"} {
			fd, _ := f.FieldByName(name)
			if v, ok := fd.ConcreteAt(i); ok && v != "" {
				t.Errorf("%s %s = %v, want null", r.Service.Name, name, v)
			}
		}
		for name, wantV := range map[string]any{"verdict": string(engine.VerdictNoData), "chart_version": "1.30.0", "deployed": "0.11.0"} {
			fd, _ := f.FieldByName(name)
			if v, _ := fd.ConcreteAt(i); v != wantV {
				t.Errorf("%s %s = %v, want %v", r.Service.Name, name, v, wantV)
			}
		}
		if !hasNotice(f, want[r.Service.Name]) {
			t.Errorf("status: no notice says %q: %q", want[r.Service.Name], noticeTexts(f))
		}
	}
}

// A chart paired with the wrong upstream (otwld's Ollama chart with ChromaDB's
// releases): numbers are given, with a low-coverage warning.
func TestLowCoverageWarning(t *testing.T) {
	svc := ollamaService("ollama-wrong-upstream", `^(\d+\.\d+\.\d+)$`, catalog.FromAppVersion)
	svc.Upstream.Repo = "chroma-core/chroma"
	r := built(t, svc, "chroma-core__chroma/tags.tsv", "otwld__ollama-helm/index.yaml")
	fs := frames.Current([]collector.Result{r}, []string{models.MetricVersionsBehind}, ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})
	if _, ok := fs[0].Fields[0].ConcreteAt(0); !ok {
		t.Error("versions_behind is null: coverage below 50 % still gives the numbers")
	}
	if !hasNotice(fs[0], "low coverage: 0 of the chart's last 20 versions ship an upstream version") {
		t.Errorf("no low-coverage warning: %q", noticeTexts(fs[0]))
	}
}

// Notices are per cause: ChromaDB without tagPattern has 66 tags that are not
// versions and gets one notice on each frame, not 66.
func TestChromaWithoutPatternNotices(t *testing.T) {
	r := result(t, "chromadb", "community", "chroma-core/chroma", "chroma-core__chroma/tags.tsv", "", "amikos-tech__chromadb-chart/index.yaml", "chromadb")
	at := ts("2025-09-30T00:00:00Z")
	all := frames.Current([]collector.Result{r}, models.Metrics, at, engine.VerdictParams{})
	all = append(all, frames.Lag(context.Background(), []collector.Result{r}, chartMetrics, at.Add(-30*24*time.Hour), at, time.Hour, 1000)...)
	all = append(all, frames.Status([]collector.Result{r}, at.Add(-365*24*time.Hour), at, engine.VerdictParams{}))
	for _, f := range all {
		ns := noticeTexts(f)
		if len(ns) != 1 || !strings.HasPrefix(ns[0], "chromadb: 66 upstream tags left out (not a version), e.g. ") {
			t.Errorf("%s: %d notices %.300q, want one counting the 66 tags", f.Name, len(ns), ns)
		}
	}
}

// A frame holds at most frames.MaxNotices notices, errors first, the last
// saying how many more there were.
func TestNoticesCapped(t *testing.T) {
	var rs []collector.Result
	one := result(t, "ollama", "community", "ollama/ollama", "ollama__ollama/tags.tsv", `^v(\d+\.\d+\.\d+)$`, "otwld__ollama-helm/index.yaml", "ollama")
	for i := range 30 {
		r := one
		r.Service.Name = fmt.Sprintf("svc-%02d", i)
		r.Notices = []string{"a notice", "another notice"}
		rs = append(rs, r)
	}
	rs[29].Timeline, rs[29].Err = nil, fmt.Errorf("HTTP 500")
	f := frames.Status(rs, ts("2025-01-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})
	ns := f.Meta.Notices
	if len(ns) != frames.MaxNotices {
		t.Fatalf("%d notices, want %d", len(ns), frames.MaxNotices)
	}
	if ns[0].Severity != data.NoticeSeverityError || !strings.Contains(ns[0].Text, "HTTP 500") {
		t.Errorf("first notice %+v, want the error", ns[0])
	}
	if last := ns[len(ns)-1].Text; !strings.HasPrefix(last, "and 42 more notices") {
		t.Errorf("last notice %q, want \"and 42 more notices\" (61 in all, 19 shown)", last)
	}
}

// A correct catalog gets no notice, also over a range that starts before the
// first upstream release and the first chart (everything null there anyway).
func TestCorrectCatalogNoNotices(t *testing.T) {
	rs := results(t)[:2]
	fs := frames.Lag(context.Background(), rs, models.LagMetrics, ts("2019-01-01T00:00:00Z"), ts("2025-09-30T00:00:00Z"), 24*time.Hour, 1000)
	fs = append(fs, frames.Current(rs, models.Metrics, ts("2025-09-30T00:00:00Z"), engine.VerdictParams{})...)
	for _, f := range fs {
		if ns := noticeTexts(f); len(ns) != 0 {
			t.Errorf("%s: %q", f.Name, ns)
		}
	}
}
