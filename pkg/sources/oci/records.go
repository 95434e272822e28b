package oci

import (
	"container/list"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Bounds of what is kept of manifests and config blobs: not their content
// (a manifest may be 4 MB), only a record of the fields a chart version
// needs, by manifest digest.
const (
	maxRecords     = 10_000 // records in memory, least recently used dropped first
	maxDiskRecords = 10_000 // record files in the cache directory, oldest removed first
	maxRecordBytes = 4 << 10
	maxCreatedLen  = 64 // an RFC 3339 time has at most 35 characters; longer is kept cut, for messages
	// What discovery reads of a chart (home, sources, the images annotation),
	// cut so that a record stays within maxRecordBytes.
	maxHomeLen    = 256
	maxSourcesLen = 768
	maxImagesLen  = 1536
	recordsDir    = "records"
)

// record is what one chart version's manifest and config blob say. It is
// made only from content verified against its digest.
type record struct {
	Digest     string `json:"digest"` // of the manifest
	Version    string `json:"version,omitempty"`
	AppVersion string `json:"appVersion,omitempty"`
	Deprecated bool   `json:"deprecated,omitempty"`
	Created    string `json:"created,omitempty"` // the created annotation as written, cut to maxCreatedLen
	Dated      bool   `json:"dated,omitempty"`   // the manifest has the created annotation
	Home       string `json:"home,omitempty"`    // discovery metadata, cut (see maxHomeLen …)
	Sources    string `json:"sources,omitempty"` // one per line
	Images     string `json:"images,omitempty"`  // the artifacthub.io/images annotation
}

func newRecord(digest string, m Manifest, c HelmConfig) record {
	raw, dated := m.Annotations[annoCreated]
	return record{Digest: digest, Version: c.Version, AppVersion: c.AppVersion, Deprecated: c.Deprecated, Created: cut(raw, maxCreatedLen), Dated: dated,
		Home: cut(c.Home, maxHomeLen), Sources: cut(strings.Join(c.Sources, "\n"), maxSourcesLen), Images: cut(c.Annotations[sources.ImagesAnnotation], maxImagesLen)}
}

// valid reports whether a record read back from disk is one this code
// writes, for the digest it is filed under.
func (r record) valid(digest string) bool {
	return r.Digest == digest && len(r.Version) <= maxVersionLen && len(r.AppVersion) <= maxVersionLen && len(r.Created) <= maxCreatedLen+len("…") &&
		len(r.Home) <= maxHomeLen+len("…") && len(r.Sources) <= maxSourcesLen+len("…") && len(r.Images) <= maxImagesLen+len("…")
}

// chartVersion is the record as the version of a tag.
func (r record) chartVersion(tag string) sources.ChartVersion {
	cv := sources.ChartVersion{Version: r.Version, AppVersion: r.AppVersion, Deprecated: r.Deprecated, CreatedRaw: r.Created,
		Home: r.Home, Sources: r.Sources, Images: r.Images}
	if cv.Version == "" {
		cv.Version = strings.ReplaceAll(tag, "_", "+")
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(r.Created)); err == nil && t.Year() >= 1970 {
		cv.Created = t.UTC()
	}
	return cv
}

// cut shortens s to at most n bytes on a rune boundary, marked with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// records is a least-recently-used set of records by digest. Not safe for
// concurrent use: Source.mu guards it.
type records struct {
	max   int
	order *list.List // of record, most recently used first
	by    map[string]*list.Element
}

func newRecords(max int) *records {
	return &records{max: max, order: list.New(), by: map[string]*list.Element{}}
}

func (rs *records) get(digest string) (record, bool) {
	e, ok := rs.by[digest]
	if !ok {
		return record{}, false
	}
	rs.order.MoveToFront(e)
	return e.Value.(record), true
}

func (rs *records) put(r record) {
	if e, ok := rs.by[r.Digest]; ok {
		e.Value = r
		rs.order.MoveToFront(e)
		return
	}
	rs.by[r.Digest] = rs.order.PushFront(r)
	for rs.order.Len() > rs.max {
		last := rs.order.Back()
		rs.order.Remove(last)
		delete(rs.by, last.Value.(record).Digest)
	}
}

func (rs *records) len() int { return rs.order.Len() }

// disk is the optional cache directory: one small JSON file per record,
// DIR/records/HEX.json, at most max of them (the least recently read or
// written are removed first). Only files named like records are ever
// removed.
type disk struct {
	dir string
	max int

	mu    sync.Mutex
	files int // record files, as last counted plus those written since
}

func (d *disk) path(digest string) string {
	return filepath.Join(d.dir, strings.TrimPrefix(digest, "sha256:")+".json")
}

// get reads a record back; a file that is not a record for this digest
// (corrupt, foreign, too large) is ignored and replaced when the version
// is read again.
func (d *disk) get(digest string) (record, bool) {
	path := d.path(digest)
	f, err := os.Open(path)
	if err != nil {
		return record{}, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	var r record
	if err != nil || len(b) > maxRecordBytes || json.Unmarshal(b, &r) != nil || !r.valid(digest) {
		return record{}, false
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now) // recently used: removed last
	return r, true
}

// put writes a record atomically; failing to is not an error (the cache is
// an optimisation).
func (d *disk) put(r record) {
	b, err := json.Marshal(r)
	if err != nil || len(b) > maxRecordBytes {
		return
	}
	tmp, err := os.CreateTemp(d.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), d.path(r.Digest)) != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files++; d.files > d.max {
		d.prune()
	}
}

// prune counts the record files and removes the oldest (by modification
// time) beyond nine tenths of max, so that it runs once per max/10 writes
// at most. d.mu is held.
func (d *disk) prune() {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		hexPart, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() || !validDigest("sha256:"+hexPart) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{e.Name(), info.ModTime()})
	}
	d.files = len(files)
	if len(files) <= d.max {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files[:len(files)-d.max*9/10] {
		if os.Remove(filepath.Join(d.dir, f.name)) == nil {
			d.files--
		}
	}
}
