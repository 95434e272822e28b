package fakes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SyntheticCatalog writes n synthetic services into dir, for scale
// benchmarks: upstream synth/svcNNN with 80 releases over two years (one
// every 9 days, v1.X.Y), and one Helm repository "charts" whose chart svcNNN
// ships 7 of every 10 releases, 1 to 10 days after each. It returns the
// catalog (chart repository HELM_URL/charts, to be replaced). Serve dir with
// NewGitHub and NewHelm.
func SyntheticCatalog(tb testing.TB, dir string, n int) string {
	tb.Helper()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var catalog, index strings.Builder
	catalog.WriteString("services:\n")
	index.WriteString("apiVersion: v1\nentries:\n")
	for i := range n {
		name := fmt.Sprintf("svc%03d", i)
		var tags strings.Builder
		tags.WriteString("tag\tdate\tkind\n")
		fmt.Fprintf(&index, "  %s:\n", name)
		chart := 0
		for r := range 80 {
			version := fmt.Sprintf("1.%d.%d", r/10, r%10)
			published := start.Add(time.Duration(r*9*24+i)*time.Hour + time.Duration(r*37)*time.Minute)
			fmt.Fprintf(&tags, "v%s\t%s\tlightweight\n", version, published.Format(time.RFC3339))
			if (r+i)%10 < 7 {
				created := published.Add(time.Duration(1+(r*7+i)%10) * 24 * time.Hour)
				fmt.Fprintf(&index, "  - name: %s\n    version: 0.%d.0\n    appVersion: %q\n    created: %q\n", name, chart, version, created.Format(time.RFC3339Nano))
				chart++
			}
		}
		folder := filepath.Join(dir, "synth__"+name)
		if err := os.MkdirAll(folder, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, "tags.tsv"), []byte(tags.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		maintainer := "community"
		if i%3 == 0 {
			maintainer = "vendor"
		}
		fmt.Fprintf(&catalog, "  - name: %s\n    maintainer: %s\n    upstream: {repo: synth/%s, source: releases, tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$'}\n    chart: {repository: HELM_URL/charts, name: %s}\n", name, maintainer, name, name)
	}
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "charts", "index.yaml"), []byte(index.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return catalog.String()
}
