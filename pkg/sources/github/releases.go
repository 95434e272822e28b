package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// maxPageBytes bounds one page of a GitHub answer.
const maxPageBytes = 32 << 20

// errPageTooLarge is returned for a page over maxPageBytes.
var errPageTooLarge = fmt.Errorf("the answer is larger than %d MB, more than any GitHub page", maxPageBytes>>20)

// capped reads at most n bytes and remembers when there was more.
type capped struct {
	r   io.Reader
	n   int64
	hit bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var one [1]byte
		if k, _ := c.r.Read(one[:]); k > 0 {
			c.hit = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

// decodePage runs decode over at most maxPageBytes of body.
func decodePage[T any](body io.Reader, decode func(io.Reader) (T, error)) (T, error) {
	c := &capped{r: body, n: maxPageBytes}
	v, err := decode(c)
	if err != nil && c.hit {
		return v, errPageTooLarge
	}
	return v, err
}

type releaseJSON struct {
	TagName     string     `json:"tag_name"`
	Draft       bool       `json:"draft"`
	Prerelease  bool       `json:"prerelease"`
	PublishedAt *time.Time `json:"published_at"`
	CreatedAt   *time.Time `json:"created_at"`
}

// fetchReleases lists the releases of repo through every page. Page 1 is
// asked with the ETag of prev: a 304 returns prev as it is.
func (s *Source) fetchReleases(ctx context.Context, repo, owner, name string, prev *cache.Entry[timeline]) (cache.Entry[timeline], error) {
	first := fmt.Sprintf("%s/repos/%s/%s/releases?per_page=100", s.base, url.PathEscape(owner), url.PathEscape(name))
	var out cache.Entry[timeline]
	seenTag := map[string]bool{}
	kept := false
	w, err := walkList(ctx, s, first, "releases of "+repo, repo, "newest", maxPages, prev, func(page int, resp *http.Response) (bool, error) {
		pageReleases, err := decodePage(resp.Body, decodeReleasesPage)
		if err != nil {
			return true, err
		}
		s.parses.Add(1)
		if page == 1 && prev != nil && prev.ETag == "" && coveredBy(pageReleases, prev.Value.releases) {
			// The list came from a GraphQL batch (no ETag): page 1 holds
			// nothing new, so keep it and revalidate with this ETag from now on.
			kept = true
			return true, nil
		}
		for _, r := range pageReleases {
			if seenTag[r.Tag] {
				continue // a release listed twice (pages that overlap) counts once
			}
			seenTag[r.Tag] = true
			out.Value.releases = append(out.Value.releases, r)
		}
		return false, nil
	})
	switch {
	case err != nil:
		return out, err
	case w.notModified:
		return *prev, nil
	case kept:
		k := *prev
		k.ETag, k.LastModified = w.etag, w.lastModified
		return k, nil
	}
	out.ETag, out.LastModified = w.etag, w.lastModified
	out.Value.notices = append(out.Value.notices, w.notices...)
	sortNewestFirst(out.Value.releases)
	return out, nil
}

// coveredBy reports whether every release of page is in list, same time.
func coveredBy(page, list []sources.Release) bool {
	have := make(map[string]time.Time, len(list))
	for _, r := range list {
		have[r.Tag] = r.Time
	}
	for _, r := range page {
		if t, ok := have[r.Tag]; !ok || !t.Equal(r.Time) {
			return false
		}
	}
	return true
}

// decodeReleasesPage reads one page of GET /repos/{o}/{r}/releases: the
// releases that are not drafts, with their publish time (creation time when
// unpublished).
func decodeReleasesPage(r io.Reader) ([]sources.Release, error) {
	var items []releaseJSON
	if err := json.NewDecoder(r).Decode(&items); err != nil {
		return nil, errors.New("the answer is not the JSON list of releases GitHub sends")
	}
	out := make([]sources.Release, 0, len(items))
	for _, it := range items {
		if !it.Draft {
			out = append(out, release(it.TagName, it.Prerelease, it.PublishedAt, it.CreatedAt))
		}
	}
	return out, nil
}

// release is a GitHub release as Lagwatch reads it, from REST or GraphQL:
// dated by its publication, or its creation while unpublished.
func release(tag string, prerelease bool, published, created *time.Time) sources.Release {
	r := sources.Release{Tag: tag, Prerelease: prerelease}
	switch {
	case published != nil:
		r.Time = published.UTC()
	case created != nil:
		r.Time = created.UTC()
	}
	return r
}

// nextLink returns the rel="next" target of Link headers ("" when none),
// resolved against the request URL.
func nextLink(base *url.URL, headers []string) (string, error) {
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			isNext := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Contains(" "+strings.Trim(v, `"`)+" ", " next ") {
					isNext = true
				}
			}
			if !isNext {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				return "", fmt.Errorf("malformed Link header %q", h)
			}
			u, err := base.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", fmt.Errorf("malformed Link header %q: %w", h, err)
			}
			return u.String(), nil
		}
	}
	return "", nil
}

func sortNewestFirst(rs []sources.Release) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time.After(rs[j].Time) })
}
