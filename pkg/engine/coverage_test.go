package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

func TestCoverage(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ups []sources.Release
	for i := 0; i < 10; i++ {
		ups = append(ups, sources.Release{Tag: fmt.Sprintf("v0.%d.0", i), Time: t0.Add(time.Duration(i) * time.Hour)})
	}
	var charts []sources.ChartVersion
	// 25 chart versions: 1.0.0 … 1.24.0; the newest 20 are 1.5.0 … 1.24.0.
	// Those at index ≥ 15 ship 9.9.9 (not upstream); the others ship 0.(i%10).0.
	for i := 0; i < 25; i++ {
		app := fmt.Sprintf("0.%d.0", i%10)
		if i >= 15 {
			app = "9.9.9"
		}
		charts = append(charts, sources.ChartVersion{Version: fmt.Sprintf("1.%d.0", i), AppVersion: app, Created: t0.Add(time.Duration(i) * time.Minute)})
	}
	// 1.24.0 republished later with the same app version: counted once.
	charts = append(charts, sources.ChartVersion{Version: "1.24.0", AppVersion: "9.9.9", Created: t0.Add(time.Hour * 24)})
	tl, _, err := Build(Spec{}, ups, charts)
	if err != nil {
		t.Fatal(err)
	}
	cov := tl.Coverage()
	if cov.Of != 20 || cov.Matched != 10 || len(cov.Missing) != 10 || cov.Missing[0] != "9.9.9" {
		t.Fatalf("coverage = %+v, want 10 of 20 with 10 missing", cov)
	}
	if cov.Low() {
		t.Errorf("10 of 20 is 50 %%: not low")
	}
	tl.Upstream = tl.Upstream[:1] // only 0.0.0 is upstream now: chart 1.10.0 alone matches
	if cov := tl.Coverage(); cov.Matched != 1 || !cov.Low() {
		t.Errorf("coverage = %+v, want 1 of 20, low", cov)
	}
	if cov := (&Timeline{}).Coverage(); cov.Of != 0 || cov.Low() || cov.Share() != 1 {
		t.Errorf("no chart: %+v", cov)
	}
}
