package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/plugin"
	"github.com/lagwatch/lagwatch/pkg/sources/prometheus"
	"go.yaml.in/yaml/v3"
)

// The last hop of the compose stack: the homelab catalog's prometheus and
// grafana entries read what runs from compose's Prometheus (their build-info
// series). These tests run those entries, as written in homelab-stack.yaml,
// against fakes shaped like the stack: the fake Prometheus answers exactly the
// catalog's queries with the versions compose runs.

// composeRunning is the version each service run by the compose stack
// reports in its build-info series' version label: the image tag without
// "v" (prom/prometheus:v3.5.0 reports 3.5.0; grafana/grafana:12.4.10, the
// Dockerfile's last stage, reports 12.4.10).
func composeRunning(t *testing.T) map[string]string {
	t.Helper()
	tag := func(image string) string {
		_, tg, ok := strings.Cut(image, ":")
		if !ok || !regexp.MustCompile(`^v?\d+\.\d+\.\d+$`).MatchString(tg) {
			t.Fatalf("image %q is not pinned to a release", image)
		}
		return strings.TrimPrefix(tg, "v")
	}
	df := parseDockerfile(t, readFile(t, "Dockerfile"))
	return map[string]string{
		"prometheus": tag(service(t, loadCompose(t), "prometheus").Image),
		"grafana":    tag(df.stages[len(df.stages)-1].image),
	}
}

// homelabDeployed returns the homelab catalog's services that say what runs.
func homelabDeployed(t *testing.T) []catalog.Service {
	t.Helper()
	cat, err := catalog.Parse(readFile(t, "provisioning/catalog/homelab-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []catalog.Service
	for _, s := range cat.Services {
		if s.Deployed != nil {
			out = append(out, s)
		}
	}
	return out
}

// upstreamTag writes version v as a tag the service's tagPattern keeps, and
// checks that the pattern gives v back (what the engine compares).
func upstreamTag(t *testing.T, s catalog.Service, v string) string {
	t.Helper()
	re := regexp.MustCompile(s.Upstream.TagPattern)
	for _, tag := range []string{"v" + v, v} {
		if m := re.FindStringSubmatch(tag); m != nil {
			if m[1] != v {
				t.Fatalf("%s: tagPattern %s turns tag %s into %s, not %s", s.Name, s.Upstream.TagPattern, tag, m[1], v)
			}
			return tag
		}
	}
	t.Fatalf("%s: tagPattern %s keeps neither v%s nor %s: the running version would not compare with upstream", s.Name, s.Upstream.TagPattern, v, v)
	return ""
}

// composeAt is when the compose world is evaluated; the stack (and its
// Prometheus) came up composeUp before it.
var (
	composeAt = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	composeUp = composeAt.Add(-30 * day)
)

const day = 24 * time.Hour

// The compose world's history, relative to composeAt, for a service running
// X.Y.Z: upstream published .0.0, X.Y.Z, X.Y.(Z+1) and X.(Y+1).0, and
// charts shipped X.Y.Z, X.Y.(Z+1) and X.(Y+1).0 a few days after each. So at
// composeAt: the chart is current (lag 0), what runs is 2 releases behind,
// deployed_lag is 92 days (since X.Y.(Z+1)), rollout_lag 89 days (since the
// chart shipping it).
var (
	composeReleases = []time.Duration{-210 * day, -150 * day, -92 * day, -61 * day}
	composeCharts   = []time.Duration{-146 * day, -89 * day, -58 * day} // ship releases 1, 2 and 3
	composeWant     = struct {
		behind               float64
		deployedLag, rollout time.Duration
	}{2, 92 * day, 89 * day}
)

// composeVersions are .0.0, X.Y.Z, X.Y.(Z+1), X.(Y+1).0.
func composeVersions(t *testing.T, running string) []string {
	t.Helper()
	if _, err := engine.PinnedDeployed(running); err != nil {
		t.Fatalf("the running version %s: %v", running, err)
	}
	var x, y, z int
	if _, err := fmt.Sscanf(running, "%d.%d.%d", &x, &y, &z); err != nil {
		t.Fatalf("running version %q is not X.Y.Z", running)
	}
	return []string{fmt.Sprintf("%d.0.0", x-1), running, fmt.Sprintf("%d.%d.%d", x, y, z+1), fmt.Sprintf("%d.%d.0", x, y+1)}
}

// vAppVersion: charts whose appVersion is v-prefixed (the
// prometheus-community chart writes v3.x.y; Lagwatch drops one "v").
var vAppVersion = map[string]bool{"prometheus": true}

type composeWorld struct {
	ds       *plugin.Datasource
	prom     *fakes.Prometheus
	services []catalog.Service
	running  map[string]string
}

// newComposeWorld serves the homelab catalog's deployed services from fake
// GitHub, Helm and Prometheus servers shaped like the compose stack, and
// opens a Lagwatch datasource with the provisioned settings on them.
func newComposeWorld(t *testing.T) composeWorld {
	t.Helper()
	w := composeWorld{services: homelabDeployed(t), running: composeRunning(t)}
	if len(w.services) == 0 {
		t.Fatal("the homelab catalog says of no service what runs")
	}
	dir := t.TempDir()
	w.prom = fakes.NewPrometheus(t)
	type entry = map[string]any
	var entries []entry
	for _, s := range w.services {
		if s.Deployed.Prometheus == nil {
			t.Fatalf("%s: a pinned deployed version in the homelab catalog goes stale; read it from compose's Prometheus", s.Name)
		}
		running, ok := w.running[s.Name]
		if !ok {
			t.Fatalf("%s reads its running version from compose's Prometheus, but compose does not run it", s.Name)
		}
		versions := composeVersions(t, running)
		var tags strings.Builder
		tags.WriteString("tag\tdate\tkind\n")
		for i, v := range versions {
			fmt.Fprintf(&tags, "%s\t%s\tlightweight\n", upstreamTag(t, s, v), composeAt.Add(composeReleases[i]).Format(time.RFC3339))
		}
		writeFile(t, filepath.Join(dir, strings.Replace(s.Upstream.Repo, "/", "__", 1), "tags.tsv"), tags.String())
		var index strings.Builder
		fmt.Fprintf(&index, "apiVersion: v1\nentries:\n  %s:\n", s.Chart.Name)
		for i := len(composeCharts) - 1; i >= 0; i-- {
			app := versions[i+1]
			if vAppVersion[s.Name] {
				app = "v" + app
			}
			fmt.Fprintf(&index, "  - name: %s\n    version: 1.%d.0\n    appVersion: %q\n    created: %q\n",
				s.Chart.Name, i, app, composeAt.Add(composeCharts[i]).Format(time.RFC3339))
		}
		folder := "chart-" + s.Name
		writeFile(t, filepath.Join(dir, folder, "index.yaml"), index.String())
		// What compose's Prometheus answers: one series per running version
		// (max by (version)), scraped since the stack came up.
		w.prom.Set(s.Deployed.Prometheus.Query, fakes.PromSeries{Labels: map[string]string{s.Deployed.Prometheus.Label: running}, From: composeUp})
		e := entry{
			"name": s.Name, "maintainer": s.Maintainer,
			"upstream": entry{"repo": s.Upstream.Repo, "source": s.Upstream.Source, "tagPattern": s.Upstream.TagPattern},
			"chart":    entry{"repository": "HELM_URL/" + folder, "name": s.Chart.Name},
			"deployed": entry{"prometheus": entry{"query": s.Deployed.Prometheus.Query, "label": s.Deployed.Prometheus.Label}},
		}
		// The catalog's endoflife.date product, served by the fake
		// endoflife.date from the real product files.
		if p := s.EOLProduct(); p != "" {
			e["eol"] = entry{"product": p}
		}
		entries = append(entries, e)
	}
	raw, err := yaml.Marshal(entry{"services": entries})
	if err != nil {
		t.Fatal(err)
	}
	gh, helm := fakes.NewGitHub(t, dir), fakes.NewHelm(t, dir)
	fixturesDir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	w.ds = newDatasourceOn(t, strings.ReplaceAll(string(raw), "HELM_URL", helm.URL()), gh.URL(), w.prom.URL(),
		map[string]any{"eolUrl": fakes.NewEOL(t, fixturesDir).URL()})
	return w
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// statusRows reads a status frame into one map per row (nil for null).
func statusRows(t *testing.T, f *data.Frame) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	n, _ := f.RowLen()
	for i := 0; i < n; i++ {
		row := map[string]any{}
		for _, fd := range f.Fields {
			v, ok := fd.ConcreteAt(i)
			if !ok {
				v = nil
			}
			row[fd.Name] = v
		}
		out[row["service"].(string)] = row
	}
	return out
}

// TestComposeLastHop: the catalog's deployed queries, answered by a
// Prometheus that scrapes the compose stack, give the last hop of Prometheus
// and Grafana: the running version in the status table, and numbers for
// deployed_versions_behind, deployed_lag and rollout_lag; on the first start
// already (a minute after Prometheus' first scrape), and in the history only
// from then on.
func TestComposeLastHop(t *testing.T) {
	w := newComposeWorld(t)
	check := func(t *testing.T, at time.Time) {
		dr := runQuery(t, w.ds, map[string]any{"queryType": "status"}, backend.TimeRange{From: at.Add(-90 * day), To: at}, time.Hour, 100)
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		rows := statusRows(t, dr.Frames[0])
		for _, s := range w.services {
			r := rows[s.Name]
			if r == nil {
				t.Fatalf("no status row for %s", s.Name)
			}
			if r["error"] != "" {
				t.Errorf("%s: error %v", s.Name, r["error"])
			}
			if r["deployed"] != w.running[s.Name] {
				t.Errorf("%s: deployed %v, want %s (what compose runs)", s.Name, r["deployed"], w.running[s.Name])
			}
			if r["deployed_versions_behind"] != int64(composeWant.behind) {
				t.Errorf("%s: deployed_versions_behind %v, want %v", s.Name, r["deployed_versions_behind"], composeWant.behind)
			}
			// From the first scrape on, the history is the same: only the
			// time since the releases grows.
			grown := at.Sub(composeAt)
			if want := (composeWant.deployedLag + grown).Seconds(); r["deployed_lag"] != want {
				t.Errorf("%s: deployed_lag %v, want %v", s.Name, r["deployed_lag"], want)
			}
			if want := (composeWant.rollout + grown).Seconds(); r["rollout_lag"] != want {
				t.Errorf("%s: rollout_lag %v, want %v", s.Name, r["rollout_lag"], want)
			}
			if r["lag"] != 0.0 {
				t.Errorf("%s: lag %v, want 0 (the chart ships the newest release)", s.Name, r["lag"])
			}
		}
	}
	t.Run("first start", func(t *testing.T) { check(t, composeUp.Add(2*time.Minute)) })
	t.Run("a month later", func(t *testing.T) { check(t, composeAt) })

	// The dashboard's pipeline row, for the variable's default service.
	d := loadDashboard(t)
	def := pipelineDefault(t, d)
	if !slices.ContainsFunc(w.services, func(s catalog.Service) bool { return s.Name == def }) {
		t.Fatalf("the pipeline variable's default %q is not a service whose running version the stack knows", def)
	}
	tr := backend.TimeRange{From: composeAt.Add(-90 * day), To: composeAt}
	hops := 0
	for _, p := range pipelinePanels(t, d) {
		if p.Type != "timeseries" {
			continue
		}
		model := interpolate(t, p.Targets[0], selection{pipeline: def})
		dr := runQuery(t, w.ds, model, tr, time.Hour, 1000)
		if dr.Error != nil || len(dr.Frames) != 1 {
			t.Fatalf("panel %q: %v, %d frames", p.Title, dr.Error, len(dr.Frames))
		}
		f := dr.Frames[0]
		times, vals := f.Fields[0], f.Fields[1]
		metric := vals.Labels["metric"]
		last, _ := vals.ConcreteAt(vals.Len() - 1)
		want := map[string]float64{"lag": 0, "deployed_lag": composeWant.deployedLag.Seconds(), "rollout_lag": composeWant.rollout.Seconds()}[metric]
		if last != want {
			t.Errorf("panel %q: %s at %s = %v, want %v", p.Title, metric, composeAt.Format(time.DateOnly), last, want)
		}
		if metric == "lag" {
			hops++
			continue
		}
		hops++
		// Before compose's Prometheus first scraped, what ran is unknown: null,
		// never zero. From its first sample in the range query on (one step of
		// the query at most), a number at every point.
		step := prometheus.Step(tr.From, tr.To)
		for i := 0; i < vals.Len(); i++ {
			at := times.At(i).(time.Time)
			_, known := vals.ConcreteAt(i)
			if (at.Before(composeUp) && known) || (!at.Before(composeUp.Add(step)) && !known) {
				t.Errorf("panel %q: %s at %s: known %v; Prometheus scrapes from %s (range query step %s)", p.Title, metric, at.Format(time.RFC3339), known, composeUp.Format(time.DateOnly), step)
				break
			}
		}
	}
	if hops != 3 {
		t.Errorf("%d pipeline hops drawn, want 3", hops)
	}
}
