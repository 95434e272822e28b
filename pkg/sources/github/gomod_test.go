package github_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
)

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/ollama/ollama\n\ngo 1.26.0\n":  "github.com/ollama/ollama",
		"// comment\nmodule \"k8s.io/kubernetes\" // x\n": "k8s.io/kubernetes",
		"go 1.22\nmodule\texample.com/m/v2\n":             "example.com/m/v2",
		"modulex foo\nmodule example.com/a\n":             "example.com/a",
		"go 1.22\n":                                       "error: go.mod has no module directive",
		"module \n":                                       `error: the module directive "module" names no module path`,
		"module a b\n":                                    `error: the module directive "module a b" names no module path`,
		"module " + strings.Repeat("x", 400) + "\n":       "error: ",
	} {
		got, err := github.ModulePath([]byte(in))
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != want && !(strings.HasPrefix(want, "error: ") && strings.HasPrefix(got, want)) {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// GoModule reads go.mod through the contents API of the fake GitHub (the
// real shape: base64 in lines); a repository without one is no Go module.
func TestGoModule(t *testing.T) {
	gh := fakes.NewGitHub(t, fakes.FixturesDir())
	s, err := github.New(github.Config{BaseURL: gh.URL()})
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.GoModule(context.Background(), "ollama/ollama")
	if err != nil || !ok || m != "github.com/ollama/ollama" {
		t.Errorf("ollama: %q %v %v", m, ok, err)
	}
	for _, repo := range []string{"chroma-core/chroma", "nobody/nothing"} {
		if m, ok, err := s.GoModule(context.Background(), repo); err != nil || ok || m != "" {
			t.Errorf("%s: %q %v %v", repo, m, ok, err)
		}
	}
	if _, _, err := s.GoModule(context.Background(), "no-slash"); err == nil {
		t.Error("a repo without owner/name was read")
	}
	if n := gh.RequestsTo("/repos/ollama/ollama/contents/go.mod"); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// FuzzModulePath: any go.mod text gives a module path without spaces or
// quotes, or an error; never a panic.
func FuzzModulePath(f *testing.F) {
	f.Add([]byte("module github.com/ollama/ollama\n\ngo 1.26.0\n"))
	f.Add([]byte("module \"k8s.io/x\" // c\n"))
	f.Add([]byte("modulex\nmodule\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := github.ModulePath(b)
		if err == nil && (m == "" || strings.IndexFunc(m, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("\"'`,", r)
		}) >= 0) {
			t.Errorf("%q gave module %q", b, m)
		}
	})
}
