package github

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// maxFeedBytes bounds a tag feed (GitHub's holds the 10 newest tags).
const maxFeedBytes = 1 << 20

// WebURL derives the web base URL, where GitHub serves its Atom feeds, from
// a REST base URL: https://api.github.com -> https://github.com and
// https://HOST/api/v3 -> https://HOST; any other URL is its own web base
// (a test server).
func WebURL(base string) string {
	base = strings.TrimRight(base, "/")
	if b, ok := strings.CutSuffix(base, "/api/v3"); ok {
		return b
	}
	if u, err := url.Parse(base); err == nil && strings.HasPrefix(strings.ToLower(u.Host), "api.") {
		u.Host = u.Host[len("api."):]
		return u.String()
	}
	return base
}

type tagFeed struct {
	Entries []struct {
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

// fetchTagFeed reads the newest tags of repo, with their dates, from
// GitHub's Atom feed (https://github.com/OWNER/REPO/tags.atom): no token and
// no API rate limit, but only the 10 newest tags. It is the source of tags
// without a token; a notice says how little history that is.
func (s *Source) fetchTagFeed(ctx context.Context, repo, owner, name string, prev *cache.Entry[timeline]) (cache.Entry[timeline], error) {
	feedURL := fmt.Sprintf("%s/%s/%s/tags.atom", s.webURL, url.PathEscape(owner), url.PathEscape(name))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, feedURL, nil)
	if err != nil {
		return cache.Entry[timeline]{}, fmt.Errorf("tags of %s: %w", repo, err)
	}
	req.Header.Set("Accept", "application/atom+xml")
	req.Header.Set("User-Agent", "lagwatch")
	prev.Condition(req)
	resp, err := s.hc.Do(req) // never with the token: this is not the API
	if err != nil {
		return cache.Entry[timeline]{}, fmt.Errorf("tags of %s: GET %s: %w", repo, req.URL.Path, sources.StripURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		return *prev, nil
	case resp.StatusCode == http.StatusNotFound:
		return cache.Entry[timeline]{}, fmt.Errorf("repository %s not found (or private without a token): GET %s: HTTP 404", repo, req.URL.Path)
	case resp.StatusCode != http.StatusOK:
		return cache.Entry[timeline]{}, fmt.Errorf("tags of %s: GET %s: HTTP %d", repo, req.URL.Path, resp.StatusCode)
	}
	releases, err := decodePage(resp.Body, func(r io.Reader) ([]sources.Release, error) {
		return decodeTagFeed(io.LimitReader(r, maxFeedBytes))
	})
	if err != nil {
		return cache.Entry[timeline]{}, fmt.Errorf("tags of %s: GET %s: %w", repo, req.URL.Path, err)
	}
	s.parses.Add(1)
	sortNewestFirst(releases)
	note := sources.Notice(fmt.Sprintf("tags of %s read without a GitHub token, from its tag feed: only the %d newest tags, so older history (and versions_behind counts that reach further back) is missing; %s for the whole history", repo, len(releases), s.tokenHint))
	return cache.Entry[timeline]{ETag: resp.Header.Get("ETag"), Value: timeline{releases: releases, notices: []sources.Notice{note}}}, nil
}

// decodeTagFeed reads an Atom tag feed: the tag is the last segment of each
// entry's link (…/releases/tag/TAG), the date its updated time.
func decodeTagFeed(r io.Reader) ([]sources.Release, error) {
	var feed tagFeed
	if err := xml.NewDecoder(r).Decode(&feed); err != nil {
		return nil, fmt.Errorf("the answer is not GitHub's Atom tag feed")
	}
	var out []sources.Release
	seen := map[string]bool{}
	for _, e := range feed.Entries {
		tag := e.Title
		if i := strings.LastIndex(e.Link.Href, "/tag/"); i >= 0 {
			if t, err := url.PathUnescape(e.Link.Href[i+len("/tag/"):]); err == nil && t != "" {
				tag = t
			}
		}
		tag = strings.TrimSpace(tag)
		if tag == "" || seen[tag] {
			continue
		}
		seen[tag] = true
		r := sources.Release{Tag: tag}
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(e.Updated)); err == nil {
			r.Time = t.UTC()
		}
		out = append(out, r)
	}
	return out, nil
}
