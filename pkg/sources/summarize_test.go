package sources

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	if n := Summarize("tags are odd", nil); n != "" {
		t.Errorf("no values: %q, want no notice", n)
	}
	if n := Summarize("upstream tags do not parse as versions", []string{"latest"}); n != `upstream tags do not parse as versions: "latest"` {
		t.Errorf("one value: %q", n)
	}
	vals := []string{"latest", "cli-1.0.0", "js_release_0.4.0", "nightly", strings.Repeat("x", 500)}
	n := string(Summarize("upstream tags do not parse as versions", vals))
	if want := `5 upstream tags do not parse as versions, e.g. "latest", "cli-1.0.0", "js_release_0.4.0"`; n != want {
		t.Errorf("five values:\n got %q\nwant %q", n, want)
	}
	long := make([]string, 10_000)
	for i := range long {
		long[i] = strings.Repeat("y", 1000)
	}
	if n := Summarize("values", long); len(n) > 400 || !strings.HasPrefix(string(n), "10000 values, e.g. ") {
		t.Errorf("10000 long values: %d bytes: %.100q", len(n), n)
	}
}

func TestSummarizeCount(t *testing.T) {
	if n := SummarizeCount("series left out", 7, []string{"{a=\"1\"}"}); n != `7 series left out, e.g. "{a=\"1\"}"` {
		t.Errorf("7 counted, 1 example: %q", n)
	}
	if n := SummarizeCount("series left out", 2, nil); n != "2 series left out" {
		t.Errorf("no example: %q", n)
	}
	if n := SummarizeCount("series left out", 0, []string{"x"}); n != "" {
		t.Errorf("none counted: %q", n)
	}
}
