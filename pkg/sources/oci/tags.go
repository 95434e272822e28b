package oci

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/Masterminds/semver/v3"
)

// Limits of one tag listing. A tag list inside the page limits (50 pages of
// 4 MB) can hold some 20 M short tags; only these are kept of it.
const (
	// keepVersions is how many versions of a chart are kept, the newest by
	// semver: more than any real chart has published (Bitnami's Redis: 535)
	// and than the manifest budget reads in one refresh (at most 1000).
	keepVersions = 1000
	// maxTags is how many tags are read in all: 50 full pages of the 1000
	// asked for. Later pages are not requested; a notice says so.
	maxTags = maxTagPages * 1000
	// maxTagLen is the longest tag the OCI distribution spec allows; a
	// longer one is not a version and is only counted.
	maxTagLen = 128
	// checkEvery is how many tags are read between looks at the context.
	checkEvery = 4096
	// maxDepth is the deepest nesting skipped, as encoding/json's limit.
	maxDepth = 10000
)

var errTagList = errors.New("the tag list is not the JSON the OCI distribution API defines")

// errEnough stops decoding a page once maxTags tags were read.
var errEnough = errors.New("enough tags")

// decodeTags reads one tag-list page, {"name": …, "tags": […]}, token by
// token (each tag decoded on its own, which costs a quarter of a Token) and
// hands each tag to each, never holding the list: a page of millions of
// tags costs the memory of one. An error from each stops the reading and
// is returned as is.
func decodeTags(r io.Reader, each func(tag string) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // numbers elsewhere in the page are skipped, never parsed
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errTagList
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errTagList
		}
		if t != "tags" { // exact, as the spec spells it
			if err := skipValue(dec); err != nil {
				return errTagList
			}
			continue
		}
		t, err = dec.Token()
		if err != nil {
			return errTagList
		}
		if t == nil {
			continue // "tags": null, as some registries send for no tags
		}
		if t != json.Delim('[') {
			return errTagList
		}
		for dec.More() {
			var tag string // null reads as "", as it did in a []string
			if err := dec.Decode(&tag); err != nil {
				return errTagList
			}
			if err := each(tag); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return errTagList
		}
	}
	if _, err := dec.Token(); err != nil {
		return errTagList
	}
	return nil
}

// skipValue reads past one JSON value (the next token and, for an object
// or array, everything up to its end), nested at most as deep as
// encoding/json allows.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxDepth {
				return errTagList
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

type tagVersion struct {
	tag string
	v   *semver.Version
}

// older orders by semver, then by tag, so that equal versions written
// differently ("1.0.0", "v1.0.0") have an order too.
func older(a, b tagVersion) bool {
	if c := a.v.Compare(b.v); c != 0 {
		return c < 0
	}
	return a.tag < b.tag
}

// oldestFirst is a min-heap of kept versions: the oldest on top, the one
// to drop when a newer one comes.
type oldestFirst []tagVersion

func (h oldestFirst) Len() int           { return len(h) }
func (h oldestFirst) Less(i, j int) bool { return older(h[i], h[j]) }
func (h oldestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *oldestFirst) Push(x any)        { *h = append(*h, x.(tagVersion)) }
func (h *oldestFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// listing is what a tag list holds, within the limits above.
type listing struct {
	kept     oldestFirst     // at most keepVersions, the newest
	in       map[string]bool // tags in kept
	tags     int             // tags read
	skipped  int             // tags that are not versions
	examples []string        // up to 3 of them
	dropped  int             // versions older than the kept ones (one listed twice counts twice: they are not kept)
	capped   bool            // maxTags reached: later pages not read
}

// add takes one tag of the list.
func (l *listing) add(tag string) {
	l.tags++
	v, ok := (*semver.Version)(nil), false
	if len(tag) <= maxTagLen {
		v, ok = versionOf(tag)
	}
	if !ok {
		l.skipped++
		if len(l.examples) < 3 {
			l.examples = append(l.examples, cut(tag, maxTagLen))
		}
		return
	}
	tv := tagVersion{tag, v}
	switch {
	case l.in[tag]:
		return // listed twice
	case len(l.kept) < keepVersions:
		heap.Push(&l.kept, tv)
		l.in[tag] = true
		return
	}
	l.dropped++
	if older(tv, l.kept[0]) {
		return
	}
	delete(l.in, l.kept[0].tag)
	l.kept[0] = tv
	heap.Fix(&l.kept, 0)
	l.in[tag] = true
}

// newestFirst returns the kept versions, newest first.
func (l *listing) newestFirst() []tagVersion {
	out := append([]tagVersion(nil), l.kept...)
	sort.Slice(out, func(i, j int) bool { return older(out[j], out[i]) })
	return out
}

// listTags reads the tag list page by page, keeping only the newest
// keepVersions versions and counts of the rest. It stops with the context
// between pages and every checkEvery tags.
func (s *Source) listTags(ctx context.Context, host, repo string) (*listing, error) {
	next := fmt.Sprintf("%s/v2/%s/tags/list?n=1000", s.base(host), repo)
	seen := map[string]bool{}
	l := &listing{in: map[string]bool{}}
	each := func(tag string) error {
		if l.tags%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if l.tags == maxTags {
			l.capped = true
			return errEnough
		}
		l.add(tag)
		return nil
	}
	for page := 0; next != ""; page++ {
		if page == maxTagPages || seen[next] {
			break // a registry that pages forever or in a circle: use what came
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seen[next] = true
		resp, err := s.do(ctx, host, repo, http.MethodGet, next, "application/json")
		if err != nil {
			return nil, err
		}
		s.count(func(c *Counts) { c.Tags++ })
		err = decodeTags(io.LimitReader(resp.Body, maxTagsBytes), each)
		resp.Body.Close()
		switch {
		case errors.Is(err, errEnough):
			return l, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, err
		}
		next, err = nextLink(resp)
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}
