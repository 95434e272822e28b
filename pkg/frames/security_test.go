package frames_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/dataplanetest"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
)

// advisories reads the advisories fixture built from golang/vulndb with the
// GitHub source's decoder, as the collector does.
func advisories(t testing.TB) []engine.Advisory {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "golang__vulndb/advisories.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, _, err := github.DecodeAdvisoriesPage(f)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]sources.Advisory, len(page))
	for i, a := range page {
		raw[i] = a.Advisory
	}
	advs, notices := engine.BuildAdvisories(raw)
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	return advs
}

func productCycles(t testing.TB, product string) *engine.Cycles {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "endoflife-date__endoflife.date/products", product+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := eol.DecodeProduct(body)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := engine.BuildCycles(product, raw)
	return c
}

// secResults are the fixtures' services with Ollama's advisories from
// golang/vulndb and a pinned deployed 0.1.32 (the case).
func secResults(t testing.TB) []collector.Result {
	rs := results(&testing.T{})
	rs[0].Security = engine.NewSecurity(rs[0].Timeline, advisories(t))
	rs[0].Service.Advisories = &catalog.Advisories{Ecosystem: "go"}
	d, err := engine.PinnedDeployed("0.1.32")
	if err != nil {
		t.Fatal(err)
	}
	rs[0].Deployed = &d
	return rs
}

var secMetrics = append(append([]string{}, models.SecurityMetrics...), models.EOLMetrics...)

// want is the value a frame must show for metric of r at t, read from the
// engine's pure functions; nil for null (a failed service among them).
func want(r collector.Result, metric string, t time.Time) *float64 {
	if r.Timeline == nil {
		return nil
	}
	st := r.Timeline.At(t)
	var x *semver.Version
	switch {
	case models.IsLastHop(metric):
		if r.Deployed != nil && st.LastHopKnown() {
			x = r.Deployed.At(t)
		}
	case st.Known():
		x = st.Chart.App
	}
	if x == nil {
		return nil
	}
	f := func(v float64) *float64 { return &v }
	switch metric {
	case models.MetricSecurityFixesBehind, models.MetricSecurityLag, models.MetricSecuritySeverity,
		models.MetricDeployedSecurityFixesBehind, models.MetricDeployedSecurityLag, models.MetricDeployedSecuritySeverity:
		if r.Security == nil {
			return nil
		}
		s := r.Security.At(x, t)
		switch metric {
		case models.MetricSecurityFixesBehind, models.MetricDeployedSecurityFixesBehind:
			return f(float64(s.FixesBehind))
		case models.MetricSecurityLag, models.MetricDeployedSecurityLag:
			return f(s.Lag.Seconds())
		}
		return f(float64(s.Severity))
	}
	if r.Cycles == nil {
		return nil
	}
	e, ok, _ := r.Cycles.At(x, t)
	switch {
	case !ok:
		return nil
	case metric == models.MetricEOL || metric == models.MetricDeployedEOL:
		if e.EOL {
			return f(1)
		}
		return f(0)
	case e.SupportLeft == nil:
		return nil
	}
	return f(e.SupportLeft.Seconds())
}

func same(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// secTimes are the times of the spec's worked example and around it.
var secTimes = []string{"2024-05-31T06:30:26Z", "2024-05-31T06:30:27Z", "2024-06-28T00:00:00Z", "2024-11-04T12:00:00Z", "2025-04-01T00:00:00Z",
	"2025-08-07T17:34:40Z", "2025-08-07T17:34:41Z", "2025-09-30T00:00:00Z"}

// Current queries on the fixtures at several times of 2024–2025: every
// value equals the engine's; the case pinned: late June 2024, a
// deployed 0.1.32 is one released fix behind (Probllama, fixed in 0.1.34),
// at Probllama's severity, for as long as 0.1.34 has been out; the chart
// (0.1.46) is not.
func TestSecurityCurrentOnFixtures(t *testing.T) {
	rs := secResults(t)
	for _, s := range secTimes {
		at := ts(s)
		fs := frames.Current(rs, secMetrics, at, engine.VerdictParams{})
		if err := dataplanetest.CheckNumericMulti(fs); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range fs {
			l := f.Fields[0].Labels
			r := rs[slices.IndexFunc(rs, func(r collector.Result) bool { return r.Service.Name == l["service"] })]
			got, _ := f.Fields[0].NullableFloatAt(0)
			if w := want(r, l["metric"], at); !same(got, w) {
				t.Errorf("%s %s at %s = %v, want %v", l["service"], l["metric"], s, deref(got), deref(w))
			}
			if l["service"] == "ollama" && models.IsSecurity(l["metric"]) && got == nil {
				t.Errorf("ollama %s at %s is null", l["metric"], s)
			}
			if l["service"] == "chromadb" && got != nil {
				t.Errorf("chromadb %s = %v: it names no advisories and no eol product, want null", l["metric"], *got)
			}
			n++
		}
		// Every chart-side metric for the three; the last hop for Ollama only.
		if want := 3*(len(secMetrics)-5) + 5; n != want {
			t.Errorf("%d series at %s, want %d", n, s, want)
		}
	}
	fs := frames.Current(rs[:1], secMetrics, ts("2024-06-28T00:00:00Z"), engine.VerdictParams{})
	got := map[string]float64{}
	for _, f := range fs {
		if v, ok := f.Fields[0].ConcreteAt(0); ok {
			got[f.Fields[0].Labels["metric"]] = v.(float64)
		}
	}
	fix := releaseTime(t, rs[0].Timeline, "0.1.34")
	if got[models.MetricDeployedSecurityFixesBehind] != 1 || got[models.MetricDeployedSecurityLag] != ts("2024-06-28T00:00:00Z").Sub(fix).Seconds() ||
		got[models.MetricDeployedSecuritySeverity] != float64(severity(t, rs[0].Security, "GHSA-8hqg-whrw-pv92")) {
		t.Errorf("deployed 0.1.32 in late June 2024: %v", got)
	}
	if got[models.MetricSecurityFixesBehind] != 0 || got[models.MetricSecurityLag] != 0 || got[models.MetricSecuritySeverity] != 0 {
		t.Errorf("the chart in late June 2024: %v", got)
	}
}

// severity is the severity of advisory id as the service's advisories read it.
func severity(t *testing.T, sec *engine.Security, id string) engine.Severity {
	for _, a := range sec.Advisories() {
		if a.ID == id {
			return a.Severity
		}
	}
	t.Fatalf("no advisory %s", id)
	return 0
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func releaseTime(t *testing.T, tl *engine.Timeline, v string) time.Time {
	for _, r := range tl.Upstream {
		if r.Version.String() == v {
			return r.Time
		}
	}
	t.Fatalf("no upstream release %s", v)
	return time.Time{}
}

// A lag series of the security metrics: each point equals the engine's
// value there; advisory publish times are grid points, so the step is
// exact; no time twice; a what-if version (the pinned 0.1.32) for the last
// hop only.
func TestSecurityLagSeries(t *testing.T) {
	rs := secResults(t)
	from, to := ts("2024-05-01T00:00:00Z"), ts("2025-09-01T00:00:00Z")
	fs := frames.Lag(context.Background(), rs[:2], secMetrics, from, to, 24*time.Hour, 1000)
	if err := dataplanetest.CheckTimeSeriesMulti(fs); err != nil {
		t.Fatal(err)
	}
	published := map[time.Time]bool{}
	for _, a := range rs[0].Security.Advisories() {
		if !a.Published.Before(from) && !a.Published.After(to) {
			published[a.Published] = true
		}
	}
	if len(published) < 3 {
		t.Fatalf("%d advisories published in the range", len(published))
	}
	for _, f := range fs {
		l := f.Fields[1].Labels
		r := rs[0]
		if l["service"] == "chromadb" {
			r = rs[1]
		}
		times := f.Fields[0]
		seen := map[time.Time]bool{}
		for i := 0; i < times.Len(); i++ {
			at := times.At(i).(time.Time)
			if i > 0 && !at.After(times.At(i-1).(time.Time)) {
				t.Fatalf("%s: time %s after %s", f.Name, at, times.At(i-1))
			}
			seen[at] = true
			got, _ := f.Fields[1].NullableFloatAt(i)
			if w := want(r, l["metric"], at); !same(got, w) {
				t.Fatalf("%s at %s = %v, want %v", f.Name, at, deref(got), deref(w))
			}
		}
		if l["service"] == "ollama" {
			for p := range published {
				if !seen[p] {
					t.Errorf("%s: no point at the advisory publish time %s", f.Name, p)
				}
			}
		}
	}
}

// A packaged version that cannot be compared with upstream (State.Unknown:
// the chart version read as the app version) gives null chart-side and
// last-hop security values, never a reassuring zero.
func TestSecurityNullWhenUnknown(t *testing.T) {
	rs, _ := mistakes(t)
	r := rs[0]
	r.Security = engine.NewSecurity(r.Timeline, advisories(t))
	at := ts("2025-09-30T00:00:00Z")
	if r.Timeline.At(at).Unknown == engine.UnknownNone {
		t.Fatal("the mistake no longer reads as unknown")
	}
	for _, f := range frames.Current([]collector.Result{r}, models.SecurityMetrics, at, engine.VerdictParams{}) {
		if v, _ := f.Fields[0].NullableFloatAt(0); v != nil {
			t.Errorf("%s = %v, want null", f.Name, *v)
		}
	}
}

// End of life on endoflife.date's Redis cycles, for a service packaging
// Redis 7.0.15 from 2024-01 while 7.2.5 runs: eol steps to 1 at 7.0's end
// (2024-07-29T00:00Z, a grid point), support_left crosses 0 there; a
// deployed version with no cycle (9.0.0) is null, with a notice.
func TestEOLFrames(t *testing.T) {
	ups := []sources.Release{{Tag: "7.0.15", Time: ts("2024-01-09T00:00:00Z")}, {Tag: "7.2.5", Time: ts("2024-05-16T00:00:00Z")}}
	charts := []sources.ChartVersion{{Version: "18.6.3", AppVersion: "7.0.15", Created: ts("2024-01-10T00:00:00Z")}}
	svc := catalog.Service{Name: "redis", Maintainer: "vendor", Upstream: catalog.Upstream{Repo: "redis/redis", Source: "tags"},
		Chart: catalog.Chart{Repository: "https://charts.example/redis", Name: "redis", VersionFrom: catalog.FromAppVersion}}
	tl, _, err := engine.Build(collector.Spec(svc), ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	r := collector.Result{Service: svc, Timeline: tl, Cycles: productCycles(t, "redis"), Deployed: pinned(t, "7.2.5")}
	end := ts("2024-07-29T00:00:00Z")
	from, to := ts("2024-07-01T00:00:00Z"), ts("2024-08-01T00:00:00Z")
	fs := frames.Lag(context.Background(), []collector.Result{r}, models.EOLMetrics, from, to, 7*24*time.Hour, 1000)
	byMetric := map[string]*data.Frame{}
	for _, f := range fs {
		byMetric[f.Fields[1].Labels["metric"]] = f
	}
	at := func(metric string, when time.Time) *float64 {
		f := byMetric[metric]
		for i := 0; i < f.Fields[0].Len(); i++ {
			if f.Fields[0].At(i).(time.Time).Equal(when) {
				v, _ := f.Fields[1].NullableFloatAt(i)
				return v
			}
		}
		t.Fatalf("%s has no point at %s", metric, when)
		return nil
	}
	if v := at(models.MetricEOL, end); v == nil || *v != 1 {
		t.Errorf("eol at 7.0's end = %v, want 1", deref(v))
	}
	if v := at(models.MetricSupportLeft, end); v == nil || *v != 0 {
		t.Errorf("support_left at 7.0's end = %v, want 0", deref(v))
	}
	if v := at(models.MetricEOL, from); v == nil || *v != 0 {
		t.Errorf("eol before the end = %v, want 0", deref(v))
	}
	if v := at(models.MetricSupportLeft, to); v == nil || *v != -to.Sub(end).Seconds() {
		t.Errorf("support_left after the end = %v, want %v", deref(v), -to.Sub(end).Seconds())
	}
	for _, f := range fs {
		for i := 0; i < f.Fields[0].Len(); i++ {
			got, _ := f.Fields[1].NullableFloatAt(i)
			if w := want(r, f.Fields[1].Labels["metric"], f.Fields[0].At(i).(time.Time)); !same(got, w) {
				t.Fatalf("%s at %v = %v, want %v", f.Name, f.Fields[0].At(i), deref(got), deref(w))
			}
		}
	}
	r.Deployed = pinned(t, "9.0.0")
	fs = frames.Current([]collector.Result{r}, []string{models.MetricDeployedEOL, models.MetricDeployedSupportLeft}, to, engine.VerdictParams{})
	for _, f := range fs {
		if v, _ := f.Fields[0].NullableFloatAt(0); v != nil {
			t.Errorf("%s = %v for a version with no cycle, want null", f.Name, *v)
		}
		if f.Meta == nil || !slices.ContainsFunc(f.Meta.Notices, func(n data.Notice) bool { return strings.Contains(n.Text, "no release cycle") }) {
			t.Errorf("%s: no notice saying why it is null: %+v", f.Name, f.Meta)
		}
	}
}

// Advisory and eol events: each advisory published in the range once, with
// its id, severity and fixed version; each cycle's end.
func TestSecurityEvents(t *testing.T) {
	rs := secResults(t)[:1]
	rs[0].Cycles = productCycles(t, "redis") // any product: the events only read the cycles
	from, to := ts("2024-01-01T00:00:00Z"), ts("2025-12-31T00:00:00Z")
	f := frames.Events(rs, []string{models.EventAdvisory, models.EventEOL}, from, to)
	kind, _ := f.FieldByName("kind")
	title, _ := f.FieldByName("title")
	version, _ := f.FieldByName("version")
	var advs, ends int
	for i := 0; i < kind.Len(); i++ {
		switch kind.At(i) {
		case models.EventAdvisory:
			advs++
			if title.At(i).(string) == "" {
				t.Error("advisory event without a title")
			}
		case models.EventEOL:
			ends++
		}
	}
	wantAdvs := 0
	for _, a := range rs[0].Security.Advisories() {
		if !a.Published.Before(from) && !a.Published.After(to) {
			wantAdvs++
		}
	}
	wantEnds := len(productCycles(t, "redis").EventTimes(from, to))
	if advs != wantAdvs || ends != wantEnds || advs == 0 || ends == 0 {
		t.Errorf("%d advisory events (want %d), %d eol events (want %d)", advs, wantAdvs, ends, wantEnds)
	}
	// Probllama: fixed in 0.1.34.
	found := false
	for i := 0; i < title.Len(); i++ {
		if strings.Contains(title.At(i).(string), "GHSA-8hqg-whrw-pv92") {
			found = version.At(i) == "0.1.34"
		}
	}
	if !found {
		t.Error("no advisory event for GHSA-8hqg-whrw-pv92 with fixed version 0.1.34")
	}
}

// The status table's security and end-of-life columns equal the current
// query's values and the engine's state: the advisories that count, the
// unfixed ones, the EOL date; null for ChromaDB (no such inputs) and the
// failed service.
func TestStatusSecurityColumns(t *testing.T) {
	rs := secResults(t)
	for _, s := range secTimes {
		at := ts(s)
		f := frames.Status(rs, at.Add(-30*24*time.Hour), at, engine.VerdictParams{})
		cell := func(name string, i int) any {
			fd, _ := f.FieldByName(name)
			if fd == nil {
				t.Fatalf("no column %s", name)
			}
			if v, ok := fd.ConcreteAt(i); ok {
				return v
			}
			return nil
		}
		cur := frames.Current(rs, secMetrics, at, engine.VerdictParams{})
		for _, c := range cur {
			l := c.Fields[0].Labels
			i := slices.IndexFunc(rs, func(r collector.Result) bool { return r.Service.Name == l["service"] })
			v, _ := c.Fields[0].NullableFloatAt(0)
			var got *float64
			switch x := cell(l["metric"], i).(type) {
			case int64:
				g := float64(x)
				got = &g
			case float64:
				got = &x
			}
			if !same(got, v) {
				t.Errorf("%s: status %s = %v, current %v", s, l["metric"], deref(got), deref(v))
			}
		}
		for hop, name := range map[bool]string{false: "", true: "deployed_"} {
			var st engine.SecurityState
			if hop {
				st, _ = rs[0].Security.DeployedAt(*rs[0].Deployed, at)
			} else {
				st, _ = rs[0].Security.PackagedAt(at)
			}
			var ids []string
			for _, c := range st.Counting {
				ids = append(ids, c.Advisory.ID)
			}
			if got := cell(name+"advisories", 0); got != strings.Join(ids, ",") {
				t.Errorf("%s: %sadvisories = %q, want %q", s, name, got, strings.Join(ids, ","))
			}
			if got := cell(name+"advisories_unfixed", 0); got != int64(st.Unfixed) {
				t.Errorf("%s: %sadvisories_unfixed = %v, want %d", s, name, got, st.Unfixed)
			}
			for _, col := range []string{"advisories_unfixed", "security_fixes_behind", "eol_date"} {
				if got := cell(name+col, 1); got != nil {
					t.Errorf("%s: chromadb %s%s = %v, want null", s, name, col, got)
				}
			}
		}
	}
	f := frames.Status(rs, ts("2024-06-01T00:00:00Z"), ts("2024-06-28T00:00:00Z"), engine.VerdictParams{})
	fd, _ := f.FieldByName("deployed_advisories")
	if fd.At(0) != "GHSA-8hqg-whrw-pv92" {
		t.Errorf("deployed 0.1.32 in late June 2024 is behind %q, want Probllama", fd.At(0))
	}
	// End of life: the EOL date of the Redis 7.0 cycle.
	rs[0].Cycles = productCycles(t, "redis")
	rs[0].Deployed = pinned(t, "7.0.15")
	f = frames.Status(rs[:1], ts("2024-07-01T00:00:00Z"), ts("2024-07-30T00:00:00Z"), engine.VerdictParams{})
	for name, want := range map[string]any{"deployed_eol_date": ts("2024-07-29T00:00:00Z"), "deployed_eol": int64(1), "deployed_support_left": -secs("24h")} {
		fd, _ := f.FieldByName(name)
		if v, _ := fd.ConcreteAt(0); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
}

// A query's minimum severity (collector.AtLeast): security series count only
// advisories rated at least that, say so in a min_severity label (never
// sharing a label set with the same metric over every advisory), and other
// metrics keep their labels. The alert: a deployed 0.1.32 is behind
// by no high or critical fix while Probllama (moderate) is the only one,
// and from GHSA-846m's publication by its fix, out since 0.1.47.
func TestMinSeverityFrames(t *testing.T) {
	all := secResults(t)
	high := secResults(t)
	collector.AtLeast(high, engine.SeverityHigh)
	metrics := append([]string{models.MetricLag}, secMetrics...)
	for _, s := range secTimes {
		at := ts(s)
		byLabels := map[string]bool{}
		for _, rs := range [][]collector.Result{all, high} {
			for _, f := range frames.Current(rs, metrics, at, engine.VerdictParams{}) {
				l := f.Fields[0].Labels
				_, tagged := l["min_severity"]
				if models.IsSecurity(l["metric"]) {
					// Security series of both queries side by side, as in one
					// panel or rule: no two share a label set.
					if byLabels[l.String()] {
						t.Errorf("%s: two series with labels %v", s, l)
					}
					byLabels[l.String()] = true
				}
				if rs[0].MinSeverity == engine.SeverityNone || !models.IsSecurity(l["metric"]) {
					if tagged {
						t.Errorf("%s: labels %v carry min_severity", s, l)
					}
					continue
				}
				if l["min_severity"] != "high" {
					t.Errorf("%s: labels %v, want min_severity high", s, l)
				}
				if name, want := f.Fields[0].Config.DisplayNameFromDS, l["service"]+" "+l["metric"]+" (high and above)"; name != want {
					t.Errorf("%s: display name %q, want %q", s, name, want)
				}
				r := rs[slices.IndexFunc(rs, func(r collector.Result) bool { return r.Service.Name == l["service"] })]
				got, _ := f.Fields[0].NullableFloatAt(0)
				if w := want(r, l["metric"], at); !same(got, w) {
					t.Errorf("%s at %s = %v, want %v", l, s, deref(got), deref(w))
				}
			}
		}
	}
	value := func(rs []collector.Result, at time.Time) float64 {
		fs := frames.Current(rs[:1], []string{models.MetricDeployedSecurityLag}, at, engine.VerdictParams{})
		v, _ := fs[0].Fields[0].NullableFloatAt(0)
		return *v
	}
	june := ts("2024-06-28T00:00:00Z")
	if got := value(high, june); got != 0 {
		t.Errorf("high or critical, 0.1.32 in late June 2024: lag %v, want 0", got)
	}
	if got, w := value(all, june), june.Sub(releaseTime(t, all[0].Timeline, "0.1.34")).Seconds(); got != w {
		t.Errorf("every advisory, 0.1.32 in late June 2024: lag %v, want %v", got, w)
	}
	zip := ts("2024-08-29T03:30:49Z") // GHSA-846m-99qv-67mg published
	if got, w := value(high, zip), zip.Sub(releaseTime(t, all[0].Timeline, "0.1.47")).Seconds(); got != w {
		t.Errorf("high or critical, 0.1.32 at GHSA-846m's publication: lag %v, want %v", got, w)
	}
	f := frames.Status(high, june.Add(-24*time.Hour), june, engine.VerdictParams{})
	if fd, _ := f.FieldByName("deployed_advisories"); fd.At(0) != "" {
		t.Errorf("status, high or critical: deployed_advisories %q, want none", fd.At(0))
	}
	if f.Meta == nil || !slices.ContainsFunc(f.Meta.Notices, func(n data.Notice) bool { return strings.Contains(n.Text, "rated high or higher") }) {
		t.Errorf("status, high or critical: no notice of the minimum severity")
	}
}
