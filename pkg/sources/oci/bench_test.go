package oci

import (
	"context"
	"runtime"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

// benchTagList measures one cold refresh of a chart whose tag list is
// pages × perPage short distinct semver tags (one in 1000 a signature),
// with the default manifest budget: time and allocation per refresh, and,
// from one extra run sampled at every page and HEAD, the peak heap the
// client holds ("peak-MiB", after a collection, less the heap before).
func benchTagList(b *testing.B, pages, perPage int) {
	reg := newRegistry(b)
	reg.setTags(semverTags(pages*perPage), perPage)
	ref := sources.ChartRef{Repository: "oci://" + reg.host(), Name: "x"}
	refresh := func() {
		src, err := New(Config{HTTPClient: reg.srv.Client()})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := src.ChartVersions(context.Background(), ref); err != nil {
			b.Fatal(err)
		}
	}
	reg.sampled = true
	before := heapInUse()
	refresh()
	reg.sampled = false
	peak := float64(int64(reg.peak)-int64(before)) / (1 << 20)
	runtime.GC()
	b.ReportAllocs()
	for b.Loop() {
		refresh()
	}
	b.ReportMetric(peak, "peak-MiB") // after the loop: starting it clears reported metrics
}

// The tag-list bomb: 50 pages of 20 000 tags (1 M tags, 11 MB of JSON).
func BenchmarkTagListBomb(b *testing.B) { benchTagList(b, 50, 20_000) }

// A long but honest tag list, 5 pages of 10 000 tags, read whole before
// and after.
func BenchmarkTagList50k(b *testing.B) { benchTagList(b, 5, 10_000) }
