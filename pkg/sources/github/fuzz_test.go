package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// seedTags returns the first tags of a real fixture.
func seedTags(f *testing.F, folder string, n int) []fixtures.Tag {
	tags, err := fixtures.ReadTags(filepath.Join(fakes.FixturesDir(), folder, "tags.tsv"))
	if err != nil {
		f.Fatal(err)
	}
	return tags[:min(n, len(tags))]
}

// FuzzReleasesPage: any answer to GET …/releases decodes to releases with
// no drafts, or to an error that names no Go type. Seeds: pages built from
// the real tags of the fixtures, and testdata/fuzz/FuzzReleasesPage.
func FuzzReleasesPage(f *testing.F) {
	var page []map[string]any
	for i, tag := range seedTags(f, "ollama__ollama", 20) {
		page = append(page, map[string]any{"tag_name": tag.Name, "draft": i == 3, "prerelease": i%5 == 0, "published_at": tag.Date.Format(time.RFC3339)})
	}
	b, _ := json.Marshal(page)
	f.Add(b)
	f.Add([]byte(`[{"tag_name":"v1","published_at":null,"created_at":"2025-01-01T00:00:00Z"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := decodeReleasesPage(bytes.NewReader(body))
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		var raw []struct {
			Draft bool `json:"draft"`
		}
		if json.Unmarshal(body, &raw) == nil {
			drafts := 0
			for _, r := range raw {
				if r.Draft {
					drafts++
				}
			}
			if len(rs) != len(raw)-drafts {
				t.Fatalf("%d releases from %d items with %d drafts", len(rs), len(raw), drafts)
			}
		}
	})
}

// FuzzTagsGraphQL: any GraphQL answer decodes, or fails with a message that
// names no Go type; tag dates are UTC or zero. Seeds from real chroma tags.
func FuzzTagsGraphQL(f *testing.F) {
	var nodes []string
	for i, tag := range seedTags(f, "chroma-core__chroma", 20) {
		if i%2 == 0 {
			nodes = append(nodes, fmt.Sprintf(`{"name":%q,"target":{"__typename":"Commit","committedDate":%q}}`, tag.Name, tag.Date.Format(time.RFC3339)))
		} else {
			nodes = append(nodes, fmt.Sprintf(`{"name":%q,"target":{"__typename":"Tag","tagger":{"date":%q},"target":{"committedDate":"2020-01-01T00:00:00Z"}}}`, tag.Name, tag.Date.Format("2006-01-02T15:04:05+02:00")))
		}
	}
	f.Add([]byte(fmt.Sprintf(`{"data":{"repository":{"refs":{"pageInfo":{"hasNextPage":true,"endCursor":"MTAw"},"nodes":[%s]}}}}`, joinComma(nodes))))
	f.Add([]byte(`{"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a Repository"}],"data":{"repository":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		gr, err := decodeTagsPage(bytes.NewReader(body))
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		for _, r := range tagsOf(gr) {
			if !r.Time.IsZero() && r.Time.Location() != time.UTC {
				t.Fatalf("tag %q date %s is not UTC", r.Tag, r.Time)
			}
		}
	})
}

// FuzzLinkNext: a Link header gives a URL resolved against the request or
// an error; never a panic.
func FuzzLinkNext(f *testing.F) {
	f.Add(`<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/releases?per_page=100&page=7>; rel="last"`)
	f.Add(`<../x>; rel="prev next"`)
	base, _ := url.Parse("https://api.github.com/repos/ollama/ollama/releases?per_page=100")
	f.Fuzz(func(t *testing.T, header string) {
		next, err := nextLink(base, []string{header})
		if err == nil && next != "" {
			if _, perr := url.Parse(next); perr != nil {
				t.Fatalf("next %q does not parse: %v", next, perr)
			}
		}
	})
}

func joinComma(items []string) string {
	var b bytes.Buffer
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(it)
	}
	return b.String()
}
