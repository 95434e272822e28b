package discover

import "testing"

func TestServiceName(t *testing.T) {
	for in, want := range map[string]string{"ollama": "ollama", "we ird: chart": "we-ird-chart", "::": "chart", "a/b.c_d": "a-b.c_d"} {
		if got := serviceName(in); got != want {
			t.Errorf("serviceName(%q) = %q, want %q", in, got, want)
		}
	}
}
