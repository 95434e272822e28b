package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// A lag panel of the last hop over a Prometheus whose version label flips
// 19 000 times inside the range, for an upstream with 5 000 releases
// (issue 16: ~4 GB and past the query's time limit). Over gRPC with the
// built binary: the query answers with exact values and a notice counting
// the changes not drawn as steps, and the plugin process's peak resident
// memory stays under 300 MB.
func TestFlippingDeployedVersion(t *testing.T) {
	dir := t.TempDir()
	from := ts("2025-09-01T00:00:00Z")
	var tags strings.Builder
	tags.WriteString("tag\tdate\tkind\n")
	for i := range 5000 {
		fmt.Fprintf(&tags, "v1.%d.%d\t%s\tlightweight\n", i/100, i%100, from.Add(-time.Duration(5000-i)*time.Hour).Format(time.RFC3339))
	}
	index := fmt.Sprintf("apiVersion: v1\nentries:\n  flip:\n  - name: flip\n    version: 1.0.0\n    appVersion: \"0.0.3\"\n    created: %q\n", from.Add(-time.Hour).Format(time.RFC3339))
	for name, content := range map[string]string{"synth__flip/tags.tsv": tags.String(), "charts/index.yaml": index} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gh, helm := fakes.NewGitHub(t, dir), fakes.NewHelm(t, dir)
	prom := fakes.NewRecorder(t)
	prom.Handle(fakes.FlipPrometheus(19_000))
	catalog := fmt.Sprintf(`services:
  - name: flip
    maintainer: community
    upstream: {repo: synth/flip, source: releases}
    chart: {repository: %s/charts, name: flip}
    deployed:
      prometheus: {query: 'max by (version) (flip_build_info)', label: version}
`, helm.URL())
	pc := start(t)
	pctx := instance(41, gh.URL(), catalog, "t", prom.URL())
	dr := pc.query(t, pctx, "lag", `{"metrics":["deployed_versions_behind","deployed_lag","rollout_lag"]}`, from, from.Add(30*24*time.Hour))
	if dr.Error != nil || len(dr.Frames) != 3 {
		t.Fatalf("%d frames, %v", len(dr.Frames), dr.Error)
	}
	for _, f := range dr.Frames {
		// The synthetic chart ships 0.0.3, no upstream release: the engine's
		// notices about it stand beside the fold notice.
		if f.Meta == nil || !slices.ContainsFunc(f.Meta.Notices, func(n data.Notice) bool { return folded.MatchString(n.Text) }) {
			t.Errorf("%s: notices %+v", f.Name, f.Meta)
		}
		if f.Fields[1].Name == "deployed_versions_behind" {
			if v, ok := f.Fields[1].ConcreteAt(f.Fields[1].Len() - 1); !ok || v.(float64) != 5000 {
				t.Errorf("deployed_versions_behind at the end = %v, want 5000", v)
			}
		}
	}
	if prom.Requests() == 0 {
		t.Fatal("the flipping Prometheus was not asked")
	}
	if peak, ok := peakResident(pc.pid); ok && peak > 300<<20 {
		t.Errorf("the plugin process peaked at %d MiB of resident memory, want under 300", peak>>20)
	}
}

// folded is the notice of a flipping series: about 19 000 changes (the
// range query's start is aligned to its step), more than a thousand.
var folded = regexp.MustCompile(`^flip: 1[89]\d{3} deployed-version changes in the time range, more than 1000: 1[78]\d{3} of them`)

// peakResident reads a process's peak resident set size (VmHWM) from
// /proc; false where there is none.
func peakResident(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
