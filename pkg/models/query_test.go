package models

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
)

// TestSharedExampleQueries parses the example queries that the TypeScript
// model is tested against too (src/queryModel.test.ts), so the two cannot drift.
func TestSharedExampleQueries(t *testing.T) {
	files, err := filepath.Glob("../../testdata/queries/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example queries: %v", err)
	}
	for _, f := range files {
		if filepath.Base(f) == "services-normalisation.json" {
			continue // not a query: see TestServicesNormalisation
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var envelope struct {
				RefID     string `json:"refId"`
				QueryType string `json:"queryType"`
			}
			if err := json.Unmarshal(raw, &envelope); err != nil {
				t.Fatal(err)
			}
			q, err := ParseQuery(raw, envelope.QueryType)
			if err != nil {
				t.Fatal(err)
			}
			if q.QueryType != envelope.QueryType || envelope.RefID == "" {
				t.Errorf("queryType %q refId %q", q.QueryType, envelope.RefID)
			}
			// Every key of the file is a field of the Go model (or the envelope).
			var keys map[string]any
			_ = json.Unmarshal(raw, &keys)
			known := map[string]bool{"refId": true, "queryType": true, "services": true, "maintainer": true, "metrics": true, "eventKinds": true, "deployedVersion": true, "minSeverity": true, "hide": true, "datasource": true}
			for k := range keys {
				if !known[k] {
					t.Errorf("key %q is not in the Go query model", k)
				}
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(nil, "")
	if err != nil || q.QueryType != QueryLag || len(q.Metrics) != 1 || q.Metrics[0] != MetricLag || len(q.EventKinds) != len(EventKinds) {
		t.Errorf("defaults = %+v, %v", q, err)
	}
	q, _ = ParseQuery(json.RawMessage(`{"queryType":"status","services":["ollama","$__all"," ",""]}`), "")
	if q.QueryType != QueryStatus || len(q.Services) != 0 {
		t.Errorf("an All marker anywhere means all services: %+v", q)
	}
	q, _ = ParseQuery(json.RawMessage(`{"services":[" ollama","","chromadb","ollama"],"metrics":["lag","chart_age","lag"]}`), "")
	if strings.Join(q.Services, ",") != "ollama,chromadb" || strings.Join(q.Metrics, ",") != "lag,chart_age" {
		t.Errorf("trimming and repeats: services %q metrics %q", q.Services, q.Metrics)
	}
	q, _ = ParseQuery(json.RawMessage(`{"queryType":"status"}`), "current")
	if q.QueryType != QueryCurrent {
		t.Errorf("envelope queryType lost: %+v", q)
	}
	for raw, want := range map[string]string{
		`{"queryType":"graph"}`:       `queryType "graph"`,
		`{"metrics":["lag","speed"]}`: `metric "speed"`,
		`{"eventKinds":["deploy"]}`:   `event kind "deploy"`,
		`{"services":"ollama"}`:       "query JSON",
	} {
		if _, err := ParseQuery(json.RawMessage(raw), ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

// TestServicesNormalisation reads the services cases shared with the
// TypeScript model (src/queryModel.test.ts).
func TestServicesNormalisation(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/queries/services-normalisation.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Input    []string `json:"input"`
			Expected []string `json:"expected"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Cases) == 0 {
		t.Fatalf("cases: %v", err)
	}
	for _, c := range file.Cases {
		model, _ := json.Marshal(map[string]any{"services": c.Input})
		q, err := ParseQuery(model, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(q.Services, "|") != strings.Join(c.Expected, "|") {
			t.Errorf("services %q read as %q, want %q", c.Input, q.Services, c.Expected)
		}
	}
}

// A variable the dashboard does not define reaches the backend as text: it
// is an error naming it, not an empty or split result.
func TestUnreplacedVariables(t *testing.T) {
	for raw, want := range map[string]string{
		`{"services":["$service"]}`:            "services: template variable $service was not replaced",
		`{"services":["ollama","${svc:csv}"]}`: "services: template variable ${svc:csv} was not replaced",
		`{"maintainer":"$maintainer"}`:         "maintainer: template variable $maintainer was not replaced",
		`{"maintainer":"[[maintainer]]"}`:      "maintainer: template variable [[maintainer]] was not replaced",
		`{"services":["{ollama,$extra}"]}`:     "template variable $extra",
	} {
		if _, err := ParseQuery(json.RawMessage(raw), ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", raw, err, want)
		}
	}
	if q, err := ParseQuery(json.RawMessage(`{"services":["$__all"],"maintainer":"community"}`), ""); err != nil || len(q.Services) != 0 {
		t.Errorf("$__all: %+v %v", q, err)
	}
}

func TestLastHopQuery(t *testing.T) {
	q, err := ParseQuery(json.RawMessage(`{"metrics":["deployed_lag","rollout_lag"],"deployedVersion":" v0.12.1 "}`), "lag")
	if err != nil || q.DeployedVersion != "v0.12.1" || !q.NeedsDeployed() {
		t.Errorf("what-if: %+v %v", q, err)
	}
	for raw, want := range map[string]string{
		`{"metrics":["verdict"]}`:                      `metric "verdict" has no history: use it in a current query`,
		`{"deployedVersion":"main"}`:                   `deployedVersion (what-if version): deployed version "main" does not parse as semver`,
		`{"deployedVersion":"$version"}`:               "deployedVersion: template variable $version was not replaced",
		`{"metrics":["deployed_versions_behind","x"]}`: `metric "x" is not one of`,
	} {
		if _, err := ParseQuery(json.RawMessage(raw), "lag"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	if _, err := ParseQuery(json.RawMessage(`{"deployedVersion":"1.0.0"}`), "events"); err == nil || !strings.Contains(err.Error(), "not events") {
		t.Errorf("what-if on events: %v", err)
	}
	if q, err := ParseQuery(json.RawMessage(`{"metrics":["verdict","lag"]}`), "current"); err != nil || q.NeedsDeployed() {
		t.Errorf("verdict in current: %+v %v", q, err)
	}
	for _, tc := range []struct {
		raw, typ string
		needs    bool
	}{
		{`{}`, "status", true},
		{`{"eventKinds":["upstream"]}`, "events", false},
		{`{}`, "events", true}, // all kinds, deployed among them
		{`{"metrics":["lag"]}`, "current", false},
	} {
		q, err := ParseQuery(json.RawMessage(tc.raw), tc.typ)
		if err != nil || q.NeedsDeployed() != tc.needs {
			t.Errorf("%s %s: NeedsDeployed = %v, %v", tc.typ, tc.raw, q.NeedsDeployed(), err)
		}
	}
	if len(LagMetrics) != len(Metrics)-1 || contains(LagMetrics, MetricVerdict) {
		t.Errorf("LagMetrics = %v", LagMetrics)
	}
}

// A time range longer than a time.Duration holds is refused with the range
// in the message; up to MaxDuration it is accepted.
func TestCheckTimeRange(t *testing.T) {
	to := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to time.Time
		ok       bool
	}{
		{to.Add(-90 * 24 * time.Hour), to, true},
		{to.Add(-MaxDuration), to, true},
		{to.Add(-MaxDuration - time.Second), to, false},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{to, to.Add(-time.Hour), true}, // ends before it starts: no points, nothing to refuse
	} {
		err := CheckTimeRange(tc.from, tc.to)
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "is longer than 106751 days (about 292 years)") {
			t.Errorf("%s to %s: %v", tc.from, tc.to, err)
		}
	}
}

// TestMinSeverity reads a query's minimum severity: one of GitHub's ratings
// above none, for lag, current and status queries.
func TestMinSeverity(t *testing.T) {
	for raw, want := range map[string]engine.Severity{
		`{}`:                         engine.SeverityNone,
		`{"minSeverity":""}`:         engine.SeverityNone,
		`{"minSeverity":" high "}`:   engine.SeverityHigh,
		`{"minSeverity":"low"}`:      engine.SeverityLow,
		`{"minSeverity":"medium"}`:   engine.SeverityMedium,
		`{"minSeverity":"critical"}`: engine.SeverityCritical,
	} {
		for _, typ := range []string{"lag", "current", "status"} {
			q, err := ParseQuery(json.RawMessage(raw), typ)
			if err != nil || q.Severity() != want {
				t.Errorf("%s in %s: %v %v, want %v", raw, typ, q.Severity(), err, want)
			}
		}
	}
	for raw, want := range map[string]string{
		`{"minSeverity":"moderate"}`: `minSeverity "moderate" is not one of low, medium, high, critical`,
		`{"minSeverity":"none"}`:     `minSeverity "none" is not one of`,
		`{"minSeverity":"High"}`:     `minSeverity "High" is not one of`,
	} {
		if _, err := ParseQuery(json.RawMessage(raw), "current"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	if _, err := ParseQuery(json.RawMessage(`{"minSeverity":"high"}`), "events"); err == nil || !strings.Contains(err.Error(), "not events") {
		t.Errorf("minSeverity on events: %v", err)
	}
}
