package yamlsafe_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/yamlsafe"
)

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	wide := &strings.Builder{}
	wide.WriteString("{")
	for i := range 20_001 {
		fmt.Fprintf(wide, "k%d: 1,", i)
	}
	wide.WriteString("}")
	for name, tc := range map[string]struct {
		src    string
		limits yamlsafe.Limits
		want   string
	}{
		"repeated key":       {"a: 1\nb: 2\na: 3\n", yamlsafe.Limits{}, `line 3: key "a" is repeated (first at line 1)`},
		"repeated in a list": {"- {x: 1, x: 2}\n", yamlsafe.Limits{}, `line 1: key "x" is repeated (first at line 1)`},
		"too many keys":      {wide.String(), yamlsafe.Limits{}, "a mapping has 20001 keys, more than the limit of 10000"},
		"too deep":           {deep, yamlsafe.Limits{}, "the document nests deeper than 64 levels"},
		"too many nodes":     {"[1, 2, 3, 4, 5]", yamlsafe.Limits{MaxNodes: 5}, "more than 5 values"},
		"too many items":     {"[1, 2, 3]", yamlsafe.Limits{MaxElement: 2}, "a list has 3 items, more than the limit of 2"},
		"too large":          {"a: 1234", yamlsafe.Limits{MaxBytes: 4}, "the document is 7 bytes, more than the limit of 4"},
		"complex key":        {"? [a]\n: 1\n", yamlsafe.Limits{}, "not a plain value"},
		"syntax":             {"a: [\n", yamlsafe.Limits{}, "line 1: did not find expected node content"},
	} {
		_, err := yamlsafe.Parse([]byte(tc.src), tc.limits)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if _, err := yamlsafe.Parse([]byte("# nothing\n"), yamlsafe.Limits{}); !errors.Is(err, yamlsafe.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
}

// The attack that took the landed code to gigabytes: one key repeated 6000
// times (30 KB), and a JSON mapping of 100 000 distinct keys.
func TestRepeatedKeysCostLinear(t *testing.T) {
	repeated := strings.Repeat("a: 1\n", 6000)
	distinct := &strings.Builder{}
	distinct.WriteString("{")
	for i := range 100_000 {
		fmt.Fprintf(distinct, `"k%d":1,`, i)
	}
	distinct.WriteString(`"z":1}`)
	for name, src := range map[string]string{"repeated": repeated, "distinct": distinct.String()} {
		var err error
		peak := fakes.PeakHeap(func() { _, err = yamlsafe.Parse([]byte(src), yamlsafe.Limits{MaxKeys: 1 << 20}) })
		if name == "repeated" && (err == nil || !strings.Contains(err.Error(), `line 2: key "a" is repeated (first at line 1)`)) {
			t.Errorf("%s: err = %v", name, err)
		}
		if name == "distinct" && err != nil {
			t.Errorf("%s: err = %v", name, err)
		}
		// About 45 bytes of node tree per input byte; the landed decoder
		// needed gigabytes for these inputs.
		if limit := uint64(64*len(src)) + 8<<20; peak > limit {
			t.Errorf("%s: the heap grew by %d MB for %d KB of input", name, peak>>20, len(src)>>10)
		}
	}
}

func TestResolve(t *testing.T) {
	root, err := yamlsafe.Parse([]byte("a: &x {v: 1}\nb: *x\n"), yamlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n := yamlsafe.Resolve(root.Content[3]); n == nil || len(n.Content) != 2 || n.Content[1].Value != "1" {
		t.Errorf("alias resolved to %+v", n)
	}
}
