package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// tagsQuery lists 100 tags per call with their dates: the tagger date of
// annotated tags, the committer date of lightweight ones.
const tagsQuery = `query($owner: String!, $name: String!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    refs(refPrefix: "refs/tags/", first: 100, after: $cursor) {
      pageInfo { hasNextPage endCursor }
      nodes {
        name
        target {
          __typename
          ... on Commit { committedDate }
          ... on Tag { tagger { date } target { ... on Commit { committedDate } } }
        }
      }
    }
  }
}`

type gqlTarget struct {
	Typename      string `json:"__typename"`
	CommittedDate string `json:"committedDate"`
	Tagger        *struct {
		Date string `json:"date"`
	} `json:"tagger"`
	Target *struct {
		CommittedDate string `json:"committedDate"`
	} `json:"target"`
}

type gqlResponse struct {
	Data struct {
		Repository *struct {
			Refs struct {
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
				Nodes []struct {
					Name   string    `json:"name"`
					Target gqlTarget `json:"target"`
				} `json:"nodes"`
			} `json:"refs"`
		} `json:"repository"`
	} `json:"data"`
	Errors []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"errors"`
}

// fetchTags lists every tag of repo through GraphQL. GraphQL POSTs cannot be
// revalidated, so there is no prev entry to reuse.
func (s *Source) fetchTags(ctx context.Context, repo, owner, name string) (cache.Entry[timeline], error) {
	var out cache.Entry[timeline]
	var cursor *string
	seenCursor := map[string]bool{}
	seenTag := map[string]bool{}
	for page := 1; ; page++ {
		if page > maxPages {
			out.Value.notices = append(out.Value.notices, sources.Notice(fmt.Sprintf("tags of %s: only the first %d tags were read", repo, maxPages*100)))
			break
		}
		body, err := json.Marshal(map[string]any{
			"query":     tagsQuery,
			"variables": map[string]any{"owner": owner, "name": name, "cursor": cursor},
		})
		if err != nil {
			return out, fmt.Errorf("tags of %s: %w", repo, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.graphqlURL, bytes.NewReader(body))
		if err != nil {
			return out, fmt.Errorf("tags of %s: %w", repo, err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.send(req, resourceGraphQL, repo)
		if err != nil {
			return out, err
		}
		if resp.StatusCode != http.StatusOK {
			err := s.statusError(repo, req, resp)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				// A 404 of the GraphQL endpoint is not about the repository.
				err = fmt.Errorf("tags of %s: %s %s: HTTP 404: no GraphQL API at %s", repo, req.Method, req.URL.RequestURI(), s.graphqlURL)
			}
			return out, err
		}
		gr, err := decodePage(resp.Body, decodeTagsPage)
		resp.Body.Close()
		if err != nil {
			return out, fmt.Errorf("tags of %s: POST %s: %w", repo, req.URL.RequestURI(), err)
		}
		s.parses.Add(1)
		if err := s.graphQLErrors(repo, req, resp, gr); err != nil {
			return out, err
		}
		if gr.Data.Repository == nil {
			return out, fmt.Errorf("repository %s not found (or private without access): POST %s", repo, req.URL.RequestURI())
		}
		refs := gr.Data.Repository.Refs
		for _, r := range tagsOf(gr) {
			if seenTag[r.Tag] {
				continue // a tag listed twice (pages that overlap) counts once
			}
			seenTag[r.Tag] = true
			out.Value.releases = append(out.Value.releases, r)
		}
		if !refs.PageInfo.HasNextPage || refs.PageInfo.EndCursor == "" {
			break
		}
		c := refs.PageInfo.EndCursor
		if seenCursor[c] {
			out.Value.notices = append(out.Value.notices, sources.Notice(fmt.Sprintf("tags of %s: GitHub's page cursor repeats; stopped after %d pages", repo, page)))
			break
		}
		seenCursor[c] = true
		cursor = &c
	}
	sortNewestFirst(out.Value.releases)
	return out, nil
}

// decodeTagsPage reads one GraphQL answer of tagsQuery.
func decodeTagsPage(r io.Reader) (*gqlResponse, error) {
	var gr gqlResponse
	if err := json.NewDecoder(r).Decode(&gr); err != nil {
		return nil, errors.New("the answer is not the GraphQL JSON GitHub sends")
	}
	return &gr, nil
}

// tagsOf lists the tags of one answer with their dates.
func tagsOf(gr *gqlResponse) []sources.Release {
	if gr.Data.Repository == nil {
		return nil
	}
	nodes := gr.Data.Repository.Refs.Nodes
	out := make([]sources.Release, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, sources.Release{Tag: n.Name, Time: tagDate(n.Target)})
	}
	return out
}

// graphQLErrors turns the errors array into an error naming the repository.
func (s *Source) graphQLErrors(repo string, req *http.Request, resp *http.Response, gr *gqlResponse) error {
	if len(gr.Errors) == 0 {
		return nil
	}
	var msgs []string
	for _, e := range gr.Errors {
		switch e.Type {
		case "NOT_FOUND":
			return fmt.Errorf("repository %s not found (or private without access): POST %s: GitHub says %s", repo, req.URL.RequestURI(), quote.Value(strings.Join(strings.Fields(s.redactText(e.Message)), " ")))
		case "RATE_LIMITED":
			until := s.now().Add(time.Minute)
			if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				until = s.resetAt(reset)
			}
			s.block(resourceGraphQL, until)
			return fmt.Errorf("tags of %s: POST %s: %w", repo, req.URL.RequestURI(), &RateLimitedError{Resource: resourceGraphQL, Until: until})
		}
		msgs = append(msgs, quote.Value(strings.Join(strings.Fields(s.redactText(e.Message)), " ")))
		if len(msgs) == 3 {
			break
		}
	}
	return fmt.Errorf("tags of %s: POST %s: GraphQL errors: %w", repo, req.URL.RequestURI(), errors.New(strings.Join(msgs, "; ")))
}

// tagDate is the tagger date of an annotated tag (falling back to its
// commit's date) or the committer date of a lightweight tag. Tags of trees or
// blobs have no date (zero time).
func tagDate(t gqlTarget) time.Time {
	var raw string
	switch t.Typename {
	case "Commit":
		raw = t.CommittedDate
	case "Tag":
		if t.Tagger != nil {
			raw = t.Tagger.Date
		}
		if raw == "" && t.Target != nil {
			raw = t.Target.CommittedDate
		}
	}
	d, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}
	}
	return d.UTC()
}
