package eol

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// FuzzProduct: any answer decodes to cycles with names, or to an error that
// names no Go type; notices quote what they name. Seeds: the real products.
func FuzzProduct(f *testing.F) {
	for _, p := range []string{"redis", "jaeger", "grafana"} {
		body, err := os.ReadFile(filepath.Join(fakes.FixturesDir(), fakes.EOLFixtures, p+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"result":{"releases":[{"name":"1","eolFrom":"2024-02-30"},{"name":null},{"eolFrom":7}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cycles, notices, err := DecodeProduct(body)
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		for _, c := range cycles {
			if c.Name == "" {
				t.Errorf("a cycle without a name: %+v", c)
			}
			if !c.EOL.IsZero() && (c.EOL.Year() < 1970 || c.EOL.Year() > 9999) {
				t.Errorf("implausible date kept: %+v", c)
			}
		}
		for _, n := range notices {
			if bad := fakes.GoTypeIn(n); bad != "" {
				t.Errorf("notice %q shows %q", n, bad)
			}
		}
	})
}
