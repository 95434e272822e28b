package fakes

import (
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// Stack is the fake "internet" of the fixtures: GitHub and Helm servers on
// the fixture folders and the fixtures catalog pointed at them.
type Stack struct {
	GitHub *GitHub
	Helm   *Helm
	// Catalog is the fixtures catalog (YAML) with its chart repositories on
	// the fake Helm server (fixtures.Catalog(Helm.URL())).
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
	s := &Stack{GitHub: NewGitHub(t, dir), Helm: NewHelm(t, dir)}
	cat, err := fixtures.Catalog(s.Helm.URL())
	if err != nil {
		t.Fatalf("fakes.NewStack: %v", err)
	}
	s.Catalog = string(cat)
	return s
}
