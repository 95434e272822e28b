package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// batchSize is how many repositories one GraphQL request reads releases of.
const batchSize = 20

// Prefetch reads, with a token, the releases of every repository of refs
// that has nothing cached yet, batchSize repositories per GraphQL request
// (aliases), and caches them: a cold start of 100 release services costs 5
// requests instead of 100 or more. Repositories it cannot read (not found,
// an error, no token) are left to Releases, which reports them. Warm
// refreshes stay on REST with ETags, where a 304 costs nothing: the first
// one adopts the prefetched list when page 1 holds nothing new.
func (s *Source) Prefetch(ctx context.Context, refs []sources.UpstreamRef) {
	if s.token == "" {
		return
	}
	type want struct {
		repo, owner, name, key string
		cursor                 string
		releases               []sources.Release
		seen                   map[string]bool
		pages                  int
		notices                []sources.Notice
	}
	var pending []*want
	dup := map[string]bool{}
	for _, ref := range refs {
		if ref.Kind != sources.KindReleases && ref.Kind != "" {
			continue
		}
		key := sources.KindReleases + ":" + strings.ToLower(ref.Repo)
		owner, name, err := splitRepo(ref.Repo)
		if err != nil || dup[key] || s.cache.Has(key) {
			continue
		}
		dup[key] = true
		pending = append(pending, &want{repo: ref.Repo, owner: owner, name: name, key: key, seen: map[string]bool{}})
	}
	for len(pending) > 0 && ctx.Err() == nil {
		batch := pending[:min(batchSize, len(pending))]
		pending = pending[len(batch):]
		var q strings.Builder
		q.WriteString("query {")
		for i, w := range batch {
			after := ""
			if w.cursor != "" {
				after = ", after: " + graphQLString(w.cursor)
			}
			fmt.Fprintf(&q, " r%d: repository(owner: %s, name: %s) { releases(first: 100%s, orderBy: {field: CREATED_AT, direction: DESC}) { pageInfo { hasNextPage endCursor } nodes { tagName isDraft isPrerelease publishedAt createdAt } } }",
				i, graphQLString(w.owner), graphQLString(w.name), after)
		}
		q.WriteString(" }")
		answer, err := s.batchQuery(ctx, q.String())
		if err != nil {
			return // rate limited or failing: the services are read one by one
		}
		for i, w := range batch {
			page, ok := answer[fmt.Sprintf("r%d", i)]
			if !ok || page == nil {
				continue // not found or an error: Releases reports it
			}
			w.pages++
			for _, n := range page.Releases.Nodes {
				if n.IsDraft || w.seen[n.TagName] {
					continue
				}
				w.seen[n.TagName] = true
				w.releases = append(w.releases, release(n.TagName, n.IsPrerelease, n.PublishedAt, n.CreatedAt))
			}
			info := page.Releases.PageInfo
			switch {
			case !info.HasNextPage || info.EndCursor == "":
			case info.EndCursor == w.cursor:
				w.notices = append(w.notices, sources.Notice(fmt.Sprintf("releases of %s: GitHub's page cursor repeats; stopped after %d pages", w.repo, w.pages)))
			case w.pages >= maxPages:
				w.notices = append(w.notices, sources.Notice(fmt.Sprintf("releases of %s: only the newest %d pages were read", w.repo, maxPages)))
			default:
				w.cursor = info.EndCursor
				pending = append(pending, w)
				continue
			}
			sortNewestFirst(w.releases)
			s.cache.Put(w.key, cache.Entry[timeline]{Value: timeline{releases: w.releases, notices: w.notices}})
		}
	}
}

type batchPage struct {
	Releases struct {
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
		Nodes []struct {
			TagName      string     `json:"tagName"`
			IsDraft      bool       `json:"isDraft"`
			IsPrerelease bool       `json:"isPrerelease"`
			PublishedAt  *time.Time `json:"publishedAt"`
			CreatedAt    *time.Time `json:"createdAt"`
		} `json:"nodes"`
	} `json:"releases"`
}

// batchQuery sends one batched query and returns its repositories by alias.
func (s *Source) batchQuery(ctx context.Context, query string) (map[string]*batchPage, error) {
	body, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.send(req, resourceGraphQL, "releases of several repositories")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, s.statusError("releases of several repositories", req, resp)
	}
	answer, err := decodePage(resp.Body, func(r io.Reader) (map[string]*batchPage, error) {
		var gr struct {
			Data map[string]*batchPage `json:"data"`
		}
		if err := json.NewDecoder(r).Decode(&gr); err != nil {
			return nil, fmt.Errorf("the answer is not the GraphQL JSON GitHub sends")
		}
		return gr.Data, nil
	})
	if err == nil {
		s.parses.Add(1)
	}
	return answer, err
}

// graphQLString quotes s as a GraphQL string literal (JSON's escapes).
func graphQLString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
