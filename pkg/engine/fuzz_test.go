package engine_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// FuzzVersionOrdering reads fuzzed tags and appVersions through a pattern:
// Build never panics, keeps only versions that parse, orders the timelines
// by time then version, and Sweep agrees with At. Seeds: real tag names of
// the fixtures (testdata/fuzz/FuzzVersionOrdering) and the traps of the spec.
func FuzzVersionOrdering(f *testing.F) {
	f.Add("v0.12.3\nv0.12.3-rc1\nchroma-1.1.1\njs_release_1.0.0\n1.2.3-debian-12-r0\nv25.3.4", `^v?(\d+\.\d+\.\d+(?:-.+)?)$`, "0.11.11\n1.10\nv2.0.0", "")
	f.Add("1.0.0\n1.0.0\n0.9.0", "", "1.0.0\n0.9.0", `^(\d+\.\d+\.\d+)`)
	f.Fuzz(func(t *testing.T, tags, pattern, apps, appPattern string) {
		if len(tags)+len(apps)+len(pattern)+len(appPattern) > 4096 {
			return
		}
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var ups []sources.Release
		for i, tag := range strings.Split(tags, "\n") {
			ups = append(ups, sources.Release{Tag: tag, Time: base.Add(time.Duration(i%7) * time.Hour)})
		}
		var charts []sources.ChartVersion
		for i, app := range strings.Split(apps, "\n") {
			charts = append(charts, sources.ChartVersion{Version: "1.0." + string(rune('0'+i%10)), AppVersion: app, Created: base.Add(time.Duration(i%5) * time.Hour)})
		}
		tl, notices, err := engine.Build(engine.Spec{TagPattern: pattern, VersionPattern: appPattern, Prereleases: len(tags)%2 == 0}, ups, charts)
		if err != nil {
			return // a pattern that does not compile or has the wrong groups
		}
		for _, n := range notices {
			if len(n) > 600 {
				t.Errorf("a %d-byte notice", len(n))
			}
		}
		for i := 1; i < len(tl.Upstream); i++ {
			a, b := tl.Upstream[i-1], tl.Upstream[i]
			if b.Time.Before(a.Time) || b.Time.Equal(a.Time) && b.Version.LessThan(a.Version) {
				t.Fatalf("upstream out of order at %d: %s %s", i, a.Tag, b.Tag)
			}
		}
		for _, r := range tl.Upstream {
			again, _, err := engine.Build(engine.Spec{Prereleases: true}, []sources.Release{{Tag: r.Version.Original(), Time: r.Time}}, nil)
			if err != nil || len(again.Upstream) != 1 || !again.Upstream[0].Version.Equal(r.Version) {
				t.Fatalf("version %s does not read back", r.Version.Original())
			}
		}
		times := []time.Time{base.Add(-time.Hour), base, base.Add(90 * time.Minute), base.Add(5 * time.Hour), base.Add(100 * time.Hour)}
		swept := tl.Sweep(times)
		for i, at := range times {
			if want := tl.At(at); !reflect.DeepEqual(want, swept[i]) {
				t.Fatalf("Sweep and At differ at %s", at)
			}
		}
	})
}
