package quote

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestValue(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                   `"v1.2.3"`,
		"a\nb":                     `"a\nb"`,
		strings.Repeat("é", 80):    `"` + strings.Repeat("é", 80) + `"`,
		strings.Repeat("é", 81):    `"` + strings.Repeat("é", 80) + `"…`,
		strings.Repeat("x", 100e3): `"` + strings.Repeat("x", 80) + `"…`,
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%.20q…) = %.40q…, want %.40q…", in, got, want)
		}
	}
}

func TestCut(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                "v1.2.3",
		strings.Repeat("é", 80): strings.Repeat("é", 80),
		strings.Repeat("é", 81): strings.Repeat("é", 80) + "…",
	} {
		if got := Cut(in); got != want {
			t.Errorf("Cut(%.20q…) = %.40q…, want %.40q…", in, got, want)
		}
	}
}

// The scalar is the value, quoted as a catalog holds it, and a YAML parser
// reads it back unchanged.
func TestYAML(t *testing.T) {
	for in, want := range map[string]string{
		`^v(\d+\.\d+\.\d+)$`: `'^v(\d+\.\d+\.\d+)$'`,
		"it's":               `'it''s'`,
		"":                   `''`,
		"a: #b":              `'a: #b'`,
	} {
		got := YAML(in)
		if got != want {
			t.Errorf("YAML(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := yaml.Unmarshal([]byte("v: "+got), &struct{ V *string }{&back}); err != nil || back != in {
			t.Errorf("YAML(%q) reads back as %q (%v)", in, back, err)
		}
	}
}
