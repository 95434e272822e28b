package fakes

import (
	"path/filepath"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// Stack is the fake "internet" of the fixtures: GitHub and Helm servers on
// the fixture folders and the fixtures catalog pointed at them.
type Stack struct {
	GitHub *GitHub
	Helm   *Helm
	OCI    *OCI // serves the otwld Ollama chart history as otwld/ollama
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
	s := &Stack{GitHub: NewGitHub(t, dir), Helm: NewHelm(t, dir), OCI: NewOCI(t)}
	charts, err := fixtures.ChartVersions(filepath.Join(dir, "otwld__ollama-helm", "index.yaml"), "ollama")
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	versions := make([]OCIVersion, len(charts))
	for i, c := range charts {
		versions[len(charts)-1-i] = OCIVersion{Version: c.Version, AppVersion: c.AppVersion, Created: c.Created}
	}
	s.OCI.Put("otwld/ollama", versions)
	cat, err := fixtures.Catalog(s.Helm.URL(), s.OCI.Host())
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	s.Catalog = string(cat)
	return s
}
