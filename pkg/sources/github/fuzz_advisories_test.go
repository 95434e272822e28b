package github

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// FuzzAdvisoriesPage: any answer to GET /advisories decodes to advisories
// with an id and a publish time, or to an error that names no Go type.
// Seeds: the real advisories (golang/vulndb in GitHub's shape).
func FuzzAdvisoriesPage(f *testing.F) {
	body, err := os.ReadFile(filepath.Join(fakes.FixturesDir(), fakes.AdvisoriesFixture))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add([]byte(`[{"ghsa_id":"GHSA-a","published_at":"2024-06-13T16:06:51Z","withdrawn_at":"x","vulnerabilities":[{"package":null},{"package":{"name":"p"},"vulnerable_version_range":"< 1","first_patched_version":null}]}]`))
	f.Add([]byte(`[{"ghsa_id":"","published_at":"0001-01-01T00:00:00Z"},{"ghsa_id":"G","published_at":7}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		advs, notices, err := DecodeAdvisoriesPage(bytes.NewReader(body))
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		for _, a := range advs {
			if a.ID == "" || a.Published.IsZero() || a.Published.Year() < 1990 {
				t.Errorf("advisory kept without an id or a plausible time: %+v", a)
			}
		}
		for _, n := range notices {
			if bad := fakes.GoTypeIn(n); bad != "" {
				t.Errorf("notice %q shows %q", n, bad)
			}
		}
	})
}
