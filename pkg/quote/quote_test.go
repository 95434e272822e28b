package quote

import (
	"strings"
	"testing"
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
