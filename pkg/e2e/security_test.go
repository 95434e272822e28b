package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// The security metrics through the built plugin over gRPC, on fakes built
// from golang/vulndb and endoflife.date: Ollama names its advisories (both
// module paths) and an eol product; a what-if deployedVersion 0.1.32 (the
// issue's case) applies to the last hop. The values equal lag-metrics.md at
// several times of 2024–2026 (engine.TestSecurityOnFixtures has the same
// advisories counting), in current, lag, status and events queries.
func TestSecurityOverGRPC(t *testing.T) {
	s := newServers(t)
	eolFake := fakes.NewEOL(t, fakes.FixturesDir())
	catalog := strings.Replace(s.Catalog, `    deployed:
      version: "0.11.10"`, `    deployed:
      version: "0.11.10"
    advisories: {ecosystem: go, package: [github.com/ollama/ollama, github.com/jmorganca/ollama]}
    eol: {product: jaeger}`, 1)
	if catalog == s.Catalog {
		t.Fatal("the fixtures catalog changed: cannot add the security inputs")
	}
	jsonData, _ := json.Marshal(map[string]any{"githubUrl": s.GitHub.URL(), "catalog": catalog, "eolUrl": eolFake.URL(), "timeoutSeconds": 10, "ociBudget": 500})
	pctx := backend.ToProto().PluginContext(backend.PluginContext{OrgID: 1, PluginID: "lagwatch-datasource",
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{ID: 60, UID: "lagwatch-security", Name: "Lagwatch", Type: "lagwatch-datasource",
			JSONData: jsonData, DecryptedSecureJSONData: map[string]string{"githubToken": "test-token"}, Updated: time.Unix(1764000000, 0)}})
	pc := start(t)

	const (
		probllama = "GHSA-8hqg-whrw-pv92"
		zip       = "GHSA-846m-99qv-67mg"
		oob       = "GHSA-95j2-w8x7-hm88"
		late      = "GHSA-93jv-pvg8-hf3v"
		gguf      = "GHSA-x8qc-fggm-mpqg"
	)
	fix0134 := ts("2024-05-07T17:48:32Z") // v0.1.34 in ollama/ollama's tags
	metrics := `"metrics":["security_fixes_behind","security_lag","security_severity","deployed_security_fixes_behind","deployed_security_lag","deployed_security_severity","eol","deployed_eol","deployed_support_left"]`
	for _, tc := range []struct {
		at  string
		ids []string // counting for 0.1.32
	}{
		{"2024-05-31T06:30:26Z", nil}, // Probllama's fix is out, its advisory is not: no hindsight
		{"2024-05-31T06:30:27Z", []string{probllama}},
		{"2024-06-28T00:00:00Z", []string{probllama}},
		{"2025-08-07T17:34:40Z", []string{probllama, zip, oob}},
		{"2025-08-07T17:34:41Z", []string{probllama, zip, oob, late}}, // published 15 months after its fix
		{"2026-08-01T00:00:00Z", []string{probllama, zip, oob, late, gguf}},
	} {
		at := ts(tc.at)
		dr := pc.query(t, pctx, "current", `{"services":["ollama","chromadb"],"deployedVersion":"0.1.32",`+metrics+`}`, at.Add(-time.Hour), at)
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		got := map[string]*float64{}
		for _, f := range dr.Frames {
			l := f.Fields[0].Labels
			v, _ := f.Fields[0].NullableFloatAt(0)
			got[l["service"]+" "+l["metric"]] = v
		}
		lag := 0.0
		if len(tc.ids) > 0 {
			lag = at.Sub(fix0134).Seconds()
		}
		for k, want := range map[string]float64{
			"ollama deployed_security_fixes_behind": float64(len(tc.ids)),
			"ollama deployed_security_lag":          lag,
			"ollama deployed_security_severity":     float64(fakes.SeverityOf(t, tc.ids...)),
			"ollama security_fixes_behind":          0, // the chart ships a fixed version at each of these times
		} {
			if v := got[k]; v == nil || *v != want {
				t.Errorf("%s: %s = %v, want %v", tc.at, k, deref(v), want)
			}
		}
		// Null, never zero: no jaeger cycle for 0.x; ChromaDB names neither
		// input (and, with the what-if version, has a last hop).
		for _, k := range []string{"ollama eol", "ollama deployed_eol", "ollama deployed_support_left", "chromadb security_fixes_behind", "chromadb deployed_security_lag", "chromadb eol"} {
			if v, ok := got[k]; !ok || v != nil {
				t.Errorf("%s: %s = %v (present %v), want a null value", tc.at, k, deref(v), ok)
			}
		}
	}

	// The provisioned rule's query: high and critical advisories only
	// (minSeverity), how long the oldest of their released fixes has been
	// missing. Probllama is moderate: 0 in late June 2024; GHSA-846m
	// (high) is published on 2024-08-29, its fix 0.1.47 out since
	// 2024-06-27: the rule's 7 days are passed at once.
	fix0147 := ts("2024-06-27T04:38:21Z")
	zipAt := ts("2024-08-29T03:30:49Z")
	for at, want := range map[time.Time]float64{
		ts("2024-06-28T00:00:00Z"): 0,
		zipAt.Add(-time.Second):    0,
		zipAt:                      zipAt.Sub(fix0147).Seconds(),
	} {
		dr := pc.query(t, pctx, "current", `{"services":["ollama"],"deployedVersion":"0.1.32","metrics":["deployed_security_lag","deployed_lag"],"minSeverity":"high"}`, at.Add(-time.Hour), at)
		if dr.Error != nil || len(dr.Frames) != 2 {
			t.Fatalf("minSeverity high at %s: %v, %d frames", at, dr.Error, len(dr.Frames))
		}
		for _, f := range dr.Frames {
			l := f.Fields[0].Labels
			if l["metric"] == "deployed_lag" {
				if _, ok := l["min_severity"]; ok {
					t.Errorf("deployed_lag labels %v: min_severity on a metric that reads no advisory", l)
				}
				continue
			}
			v, _ := f.Fields[0].NullableFloatAt(0)
			if l["min_severity"] != "high" || v == nil || *v != want {
				t.Errorf("minSeverity high at %s: %v = %v, want %v with min_severity high", at, l, deref(v), want)
			}
		}
	}
	if dr := pc.query(t, pctx, "events", `{"services":["ollama"],"minSeverity":"high"}`, ts("2024-01-01T00:00:00Z"), ts("2024-12-31T00:00:00Z")); dr.Error == nil || !strings.Contains(dr.Error.Error(), "minSeverity") {
		t.Errorf("minSeverity on events: %v, want an error naming it", dr.Error)
	}

	// The lag series steps exactly at Probllama's publication.
	published := ts("2024-05-31T06:30:27Z")
	dr := pc.query(t, pctx, "lag", `{"services":["ollama"],"deployedVersion":"0.1.32","metrics":["deployed_security_fixes_behind"]}`, ts("2024-05-01T00:00:00Z"), ts("2024-07-01T00:00:00Z"))
	if dr.Error != nil || len(dr.Frames) != 1 {
		t.Fatalf("lag: %v, %d frames", dr.Error, len(dr.Frames))
	}
	f := dr.Frames[0]
	step := -1
	for i := 0; i < f.Fields[0].Len(); i++ {
		at := f.Fields[0].At(i).(time.Time)
		if i > 0 && !at.After(f.Fields[0].At(i-1).(time.Time)) {
			t.Fatalf("lag: time %s after %s", at, f.Fields[0].At(i-1))
		}
		if at.Equal(published) {
			step = i
		}
	}
	if step <= 0 {
		t.Fatalf("lag: no point at the publish time %s", published)
	}
	before, _ := f.Fields[1].NullableFloatAt(step - 1)
	after, _ := f.Fields[1].NullableFloatAt(step)
	if before == nil || *before != 0 || after == nil || *after != 1 {
		t.Errorf("lag: %v before the publication, %v at it; want 0 then 1", deref(before), deref(after))
	}

	// The status table names the advisories that count; events carry the
	// advisories published in the range.
	dr = pc.query(t, pctx, "status", `{"services":["ollama"],"deployedVersion":"0.1.32"}`, ts("2024-06-01T00:00:00Z"), ts("2024-06-28T00:00:00Z"))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if fd, _ := dr.Frames[0].FieldByName("deployed_advisories"); fd == nil || fd.At(0) != probllama {
		t.Errorf("status deployed_advisories = %v, want %s", fd, probllama)
	}
	dr = pc.query(t, pctx, "events", `{"services":["ollama"],"eventKinds":["advisory"]}`, ts("2024-04-01T00:00:00Z"), ts("2024-12-31T00:00:00Z"))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	titles, _ := dr.Frames[0].FieldByName("title")
	var got []string
	for i := 0; i < titles.Len(); i++ {
		got = append(got, titles.At(i).(string))
	}
	if len(got) != 4 || !strings.Contains(got[1], probllama) { // 5jx5 (April 8), Probllama (May 31), zip, oob
		t.Errorf("advisory events = %q", got)
	}

	code, body := pc.resourceCall(t, pctx, "GET", "services", "")
	if code != 200 || !strings.Contains(body, `"name":"ollama","maintainer":"community","repo":"ollama/ollama","chart":"ollama","advisories":true,"eolProduct":"jaeger"`) ||
		!strings.Contains(body, `"advisories":false,"eolProduct":""`) {
		t.Errorf("GET /services = %d %s", code, body)
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
