package fakes

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// Stack is the fake "internet" of the fixtures: GitHub and Helm servers on
// the fixture folders and the fixtures catalog pointed at them.
type Stack struct {
	GitHub *GitHub
	Helm   *Helm
	OCI    *OCI // serves the otwld Ollama chart history as otwld/ollama
	// Prometheus answers the GPU Operator's deployed query (GPUOperatorQuery)
	// with GPUOperatorDeployed.
	Prometheus *Prometheus
	// Catalog is the fixtures catalog (YAML) with its chart repositories on
	// the fake Helm server and the fake OCI registry.
	Catalog string
}

// NewStack starts a fake GitHub and a fake Helm server on the fixtures
// (closed when the test ends) and builds the fixtures catalog for them.
func NewStack(t testing.TB) *Stack {
	t.Helper()
	dir, err := fixtures.Dir()
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	s := &Stack{GitHub: NewGitHub(t, dir), Helm: NewHelm(t, dir), OCI: NewOCI(t), Prometheus: NewPrometheus(t)}
	s.Prometheus.Set(GPUOperatorQuery, GPUOperatorDeployed...)
	charts, err := fixtures.ChartVersions(filepath.Join(dir, "otwld__ollama-helm", "index.yaml"), "ollama")
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	versions := make([]OCIVersion, len(charts))
	for i, c := range charts {
		versions[len(charts)-1-i] = OCIVersion{Version: c.Version, AppVersion: c.AppVersion, Created: c.Created, Home: c.Home, Sources: splitLines(c.Sources)}
	}
	s.OCI.Put("otwld/ollama", versions)
	cat, err := fixtures.Catalog(s.Helm.URL(), s.OCI.Host())
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	s.Catalog = string(cat)
	return s
}

// GPUOperatorQuery is the deployed query of the fixtures catalog's
// gpu-operator service: helm-exporter's series of its release.
const GPUOperatorQuery = `max by (version) (helm_chart_info{release="gpu-operator"} == 1)`

// GPUOperatorDeployed is what the fake Prometheus says ran: chart v25.3.1
// until 2025-09-12, then v25.3.3 (helm-exporter's version label is the chart
// version, which for the GPU Operator is the operator's version).
var GPUOperatorDeployed = []PromSeries{
	{Labels: map[string]string{"version": "v25.3.1"}, From: mustTime("2025-06-10T00:00:00Z"), To: mustTime("2025-09-12T00:00:00Z")},
	{Labels: map[string]string{"version": "v25.3.3"}, From: mustTime("2025-09-12T00:00:00Z")},
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
