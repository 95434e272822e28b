package catalog

import (
	"errors"
	"os"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// FuzzCatalogParse: any input gives a catalog or catalog Errors whose
// messages name no Go type, in bounded size. Seeds: the repository's
// catalogs and testdata/fuzz/FuzzCatalogParse.
func FuzzCatalogParse(f *testing.F) {
	for _, path := range []string{"../../testdata/catalogs/fixtures.yaml", "../../provisioning/catalog/homelab-stack.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cat, err := Parse(src)
		if err == nil {
			if len(cat.Services) == 0 {
				t.Fatal("a valid catalog with no services")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %v is not a list of catalog errors", err)
		}
		for _, e := range errs {
			if bad := fakes.GoTypeIn(e.Message); bad != "" {
				t.Errorf("message %q shows %q", e.Message, bad)
			}
			if len(e.Message) > 1000 {
				t.Errorf("a %d-byte message", len(e.Message))
			}
		}
	})
}
