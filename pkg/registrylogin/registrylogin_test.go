package registrylogin

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse("# logins\nghcr.io robot:ghp_x\n\ndocker.io me:pa:ss\n")
	if err != nil || got["ghcr.io"].Password != "ghp_x" || got["registry-1.docker.io"] != (Login{"me", "pa:ss"}) {
		t.Fatalf("%+v %v", got, err)
	}
	for text, want := range map[string]string{
		"ghcr.io robot":                   "line 1 (ghcr.io): expected HOST USERNAME:PASSWORD",
		"ghcr.io a:b\nghcr.io c:secretpw": "line 2: ghcr.io is given twice",
		"https://ghcr.io/x user:secretpw": "line 1: expected HOST USERNAME:PASSWORD, the host is missing",
	} {
		if _, err := Parse(text); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: %v", text, err)
		}
	}
}
