package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// newestOf returns the n newest version tags of tags by semver (the
// reference the streaming heap is checked against).
func newestOf(tags []string, n int) []string {
	type tv struct {
		tag string
		v   *semver.Version
	}
	var all []tv
	for _, t := range tags {
		if v, err := semver.StrictNewVersion(t); err == nil {
			all = append(all, tv{t, v})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[j].v.LessThan(all[i].v) })
	out := make([]string, 0, n)
	for _, x := range all[:min(n, len(all))] {
		out = append(out, x.tag)
	}
	return out
}

// A tag-list bomb: 40 pages of 20 000 short distinct semver tags (the
// landed code kept and parsed all 800 000; within the documented page
// limits it is 20 M). The listing stops at maxTags, keeps the newest
// keepVersions, says so, and the heap the client holds between pages and
// while it resolves versions stays small; the versions read are the newest.
func TestTagListBomb(t *testing.T) {
	reg := newRegistry(t)
	tags := semverTags(800_000)
	reg.setTags(tags, 20_000)
	reg.sampled = true
	src, err := New(Config{HTTPClient: reg.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	vs, notices, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + reg.host(), Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(src)
	t.Logf("heap between pages and HEADs: %+d KiB", (int64(reg.peak)-int64(before))>>10)
	if grew := int64(reg.peak) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d MiB while the tag list was read and its versions resolved", grew>>20)
	}
	if pages := reg.count("GET tags"); pages != maxTags/20_000+1 {
		t.Errorf("%d tag list pages read, want %d", pages, maxTags/20_000+1)
	}
	want := newestOf(tags[:maxTags], DefaultBudget)
	for i, v := range vs {
		if i >= len(want) || v.Version != want[i] {
			t.Fatalf("version %d is %s, want %s", i, v.Version, want[min(i, len(want)-1)])
		}
	}
	kept := newestOf(tags[:maxTags], keepVersions)
	for _, n := range []string{
		fmt.Sprintf("the tag list was read up to %d tags and the rest was not read", maxTags),
		fmt.Sprintf("%d older versions were left out: only the newest 1000 are kept, the oldest kept is %q", maxTags-maxTags/1000-keepVersions, kept[len(kept)-1]),
		"history incomplete: 980 of 1000 versions not read yet",
		fmt.Sprintf(`%d tags are not chart versions (latest, digests, signatures, attestations) and were skipped: "sha256-%064d.sig", "sha256-%064d.sig", "sha256-%064d.sig", …`, maxTags/1000, 999, 1999, 2999),
	} {
		if !noticeWith(notices, n) {
			t.Errorf("no notice %q in %q", n, notices)
		}
	}
}

// Below the tag cap every version tag is read: the newest keepVersions are
// kept exactly, in any page order, a tag listed twice counts once, and a
// later refresh reads the rest of the kept ones within the budget.
func TestNewestVersionsKept(t *testing.T) {
	reg := newRegistry(t)
	tags := semverTags(6_000)
	tags = append(tags, tags[96], tags[95], "latest") // listed twice (kept ones), and not a version
	reg.setTags(tags, 700)
	src, err := New(Config{HTTPClient: reg.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := src.listTags(context.Background(), reg.host(), "x")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tv := range l.newestFirst() {
		got = append(got, tv.tag)
	}
	want := newestOf(semverTags(6_000), keepVersions)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kept %d versions %v … , want %v …", len(got), got[:3], want[:3])
	}
	if l.tags != 6_003 || l.skipped != 7 || l.dropped != 6_000-6-keepVersions || l.capped {
		t.Errorf("tags %d, skipped %d, dropped %d, capped %v", l.tags, l.skipped, l.dropped, l.capped)
	}
}

// cancelling is a transport that reads a tag list page whole, then hands
// it out and cancels the request's context once after bytes of it were
// read, counting what is read after that.
type cancelling struct {
	next   http.RoundTripper
	after  int
	cancel context.CancelFunc

	mu        sync.Mutex
	read      int
	afterward int
}

func (c *cancelling) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(&cancelAfter{c, bytes.NewReader(b)})
	return resp, nil
}

type cancelAfter struct {
	c *cancelling
	r io.Reader
}

func (a *cancelAfter) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.c.read >= a.c.after {
		a.c.afterward += n
	}
	if a.c.read += n; a.c.read >= a.c.after {
		a.c.cancel()
	}
	return n, err
}

// A refresh whose context ends in the middle of a large tag list page
// returns with the context's error without reading the rest of the page
// (the landed code decoded, parsed and sorted all of it first).
func TestTagListCancel(t *testing.T) {
	reg := newRegistry(t)
	reg.setTags(semverTags(300_000), 300_000) // one page of 3.4 MB; the context ends within maxTags
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &cancelling{next: reg.srv.Client().Transport, after: 256 << 10, cancel: cancel}
	src, err := New(Config{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.refresh(ctx, reg.host(), "x", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the context's", err)
	}
	t.Logf("%d KiB read after the context ended", tr.afterward>>10)
	if tr.afterward > 128<<10 {
		t.Errorf("%d KiB of the page read after the context ended", tr.afterward>>10)
	}
}

// A registry that adds 10 versions with 1 MB manifests at every refresh:
// the landed code kept every manifest (50 MB after 5 refreshes); what is
// kept now is a small record per version, in memory and on disk.
func TestGrowingRegistry(t *testing.T) {
	reg := newRegistry(t)
	reg.pad = 1 << 20
	dir := t.TempDir()
	src, err := New(Config{HTTPClient: reg.srv.Client(), CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ref := sources.ChartRef{Repository: "oci://" + reg.host(), Name: "x"}
	var tags []string
	var before uint64
	for refresh := range 6 {
		for i := range 10 {
			tags = append(tags, fmt.Sprintf("1.%d.%d", refresh, i))
		}
		reg.setTags(tags, 1000)
		vs, _, err := src.ChartVersions(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != len(tags) || vs[0].Version != tags[len(tags)-1] || vs[0].AppVersion != "app-"+tags[len(tags)-1] || vs[0].Created.IsZero() {
			t.Fatalf("refresh %d: %d versions, newest %+v", refresh, len(vs), vs[0])
		}
		if refresh == 0 {
			before = heapInUse()
		}
	}
	grew := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(src) // what it holds is what is measured
	t.Logf("heap after 5 refreshes: %+d KiB", grew>>10)
	if grew > 4<<20 {
		t.Errorf("the heap grew by %d MiB over 5 refreshes adding 50 manifests of 1 MB", grew>>20)
	}
	if got := reg.count("GET manifests"); got != len(tags) {
		t.Errorf("%d manifest GETs for %d versions", got, len(tags))
	}
	files, _ := filepath.Glob(filepath.Join(dir, recordsDir, "*"))
	for _, f := range files {
		if info, err := os.Stat(f); err != nil || info.Size() > maxRecordBytes {
			t.Fatalf("%s: %v, %d bytes", f, err, info.Size())
		}
	}
	if len(files) != len(tags) {
		t.Errorf("%d files in the cache directory, want %d", len(files), len(tags))
	}
}

// The records in memory and on disk are bounded in number: the oldest go
// first, and a version whose record went is read again when needed.
func TestRecordBounds(t *testing.T) {
	reg := newRegistry(t)
	dir := t.TempDir()
	src, err := New(Config{HTTPClient: reg.srv.Client(), CacheDir: dir, Budget: 100})
	if err != nil {
		t.Fatal(err)
	}
	src.records.max, src.disk.max = 8, 10
	tags := semverTags(30)
	reg.setTags(tags, 1000)
	ref := sources.ChartRef{Repository: "oci://" + reg.host(), Name: "x"}
	if vs, _, err := src.ChartVersions(context.Background(), ref); err != nil || len(vs) != 30 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, recordsDir, "*.json"))
	if n := src.records.len(); n != 8 || len(files) > 10 {
		t.Errorf("%d records in memory, %d on disk", n, len(files))
	}
	// A restart with the directory reads what the disk kept and fetches
	// the rest.
	restarted, err := New(Config{HTTPClient: reg.srv.Client(), CacheDir: dir, Budget: 100})
	if err != nil {
		t.Fatal(err)
	}
	before := reg.count("GET manifests")
	vs, _, err := restarted.ChartVersions(context.Background(), ref)
	if err != nil || len(vs) != 30 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	if fetched := reg.count("GET manifests") - before; fetched != 30-len(files) {
		t.Errorf("%d manifests fetched after a restart with %d records on disk", fetched, len(files))
	}
}
