package fakes

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// GitHub is a fake GitHub API serving the fixture repositories.
//
// REST is served at / and at /api/v3/ (GitHub Enterprise layout), GraphQL at
// /graphql and /api/graphql. Implemented endpoints:
//
//   - GET /repos/{owner}/{repo}/releases?per_page=&page= — one release per tag
//     of tags.tsv (prerelease when the version has a "-suffix", published_at =
//     tag date) plus one draft, newest first, paginated with Link headers,
//     ETag and 304 on If-None-Match. Works without a token (limit 60).
//   - POST /graphql — repository(owner,name){refs(refPrefix:"refs/tags/")}:
//     reads the variables owner, name, cursor (and optional first, max 100),
//     tags in name order like GitHub, 100 per page. Lightweight tags are
//     Commits with committedDate; annotated tags are Tags whose tagger date
//     (written with a +02:00 offset) is the tsv date and whose commit is one
//     hour older. Requires an Authorization header. Unknown repositories give
//     a NOT_FOUND error in the errors array.
//   - POST /graphql — aliased repository(owner,name){releases(first,after)}
//     fields, several repositories per query (the batched cold start): the
//     same releases as REST, newest first, drafts flagged, 100 per page;
//     unknown repositories are null with a NOT_FOUND error.
//   - GET /advisories?ecosystem=&affects=&per_page=&after= — the global
//     advisories of golang__vulndb/advisories.json (advisories.go).
//   - GET /repos/{owner}/{repo}/contents/go.mod — the fixture folder's go.mod
//     as GitHub's contents API sends a file (JSON, base64 in 60-character
//     lines); 404 "Not Found" when the folder has none (gomod.go).
//   - GET /rate_limit — never counted against the limit.
//   - GET /{owner}/{repo}/tags.atom — the web host's Atom feed of the 10
//     newest tags (by date), as github.com serves it, with an ETag; outside
//     the API and its rate limit.
//
// Every response carries X-RateLimit-Limit/Remaining/Reset/Used/Resource.
// Request counters use the path without the /api/v3 prefix (/api/graphql is
// counted as /graphql).
type GitHub struct {
	srv *httptest.Server
	authCounts

	mu          sync.Mutex
	repos       map[string]*ghRepo // key: lower-case owner/repo
	now         func() time.Time
	limitedTill time.Time
	failing     map[string]int
	used        map[string]int   // per rate-limit resource
	advisories  []map[string]any // global advisories, newest first (advisories.go)

	counters
	holder
}

type ghRepo struct {
	name     string
	tags     []fixtures.Tag
	releases []ghRelease // newest first
	nextID   int
	gomod    []byte // go.mod at the root, nil when the fixture has none
}

type ghRelease struct {
	ID         int
	Tag        string
	Draft      bool
	Prerelease bool
	Published  time.Time // for a draft: its creation time
}

const ghLimit, ghAnonLimit = 5000, 60

// NewGitHub starts a fake GitHub serving every folder of fixturesDir that
// has a tags.tsv. The server is closed when the test ends.
func NewGitHub(t testing.TB, fixturesDir string) *GitHub {
	t.Helper()
	g := &GitHub{
		repos:   map[string]*ghRepo{},
		now:     time.Now,
		failing: map[string]int{},
		used:    map[string]int{},
	}
	dirs, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatalf("fakes.NewGitHub: %v", err)
	}
	for _, d := range dirs {
		path := filepath.Join(fixturesDir, d.Name(), "tags.tsv")
		if !d.IsDir() {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue
		}
		tags, err := fixtures.ReadTags(path)
		if err != nil {
			t.Fatalf("fakes.NewGitHub: %v", err)
		}
		name := RepoOfFolder(d.Name())
		r := &ghRepo{name: name, tags: tags}
		if b, err := os.ReadFile(filepath.Join(fixturesDir, d.Name(), "go.mod")); err == nil {
			r.gomod = b
		}
		for i, tag := range tags {
			r.releases = append(r.releases, ghRelease{ID: i + 1, Tag: tag.Name, Prerelease: IsPrerelease(tag.Name), Published: tag.Date})
		}
		r.nextID = len(tags) + 1
		var newest time.Time
		for _, tag := range tags {
			if tag.Date.After(newest) {
				newest = tag.Date
			}
		}
		// The draft was created a day after the newest tag and is never published.
		r.releases = append(r.releases, ghRelease{ID: 1_000_000, Tag: "draft-next", Draft: true, Published: newest.Add(24 * time.Hour)})
		r.sort()
		g.repos[strings.ToLower(name)] = r
	}
	g.advisories = loadAdvisories(t, fixturesDir)
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() {
		g.releaseGate()
		g.srv.Close()
	})
	return g
}

// sort orders releases newest first, drafts (no publish date) on top; equal
// dates keep the later tag first.
func (r *ghRepo) sort() {
	sort.SliceStable(r.releases, func(i, j int) bool {
		a, b := r.releases[i], r.releases[j]
		if a.Draft != b.Draft {
			return a.Draft
		}
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.ID > b.ID
	})
}

var prereleaseRe = regexp.MustCompile(`\d+(?:\.\d+)*-[0-9A-Za-z][0-9A-Za-z.-]*$`)

// IsPrerelease is the fake's rule for a release's prerelease flag: the
// version at the end of the tag has a "-suffix" (v0.13.4-rc2, 1.3.0-rc.1; not
// vllm-stack-0.1.9).
func IsPrerelease(tag string) bool { return prereleaseRe.MatchString(tag) }

// URL is the REST base URL (GraphQL at URL()+"/graphql").
func (g *GitHub) URL() string { return g.srv.URL }

// GHEURL is the base URL in the GitHub Enterprise layout (URL()+"/api/v3").
func (g *GitHub) GHEURL() string { return g.srv.URL + "/api/v3" }

// Client returns an HTTP client for the server.
func (g *GitHub) Client() *http.Client { return g.srv.Client() }

// Repos lists the served repositories (owner/repo), sorted.
func (g *GitHub) Repos() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.repos {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// Tags returns the tags of repo as in its tags.tsv (file order).
func (g *GitHub) Tags(repo string) []fixtures.Tag {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.repos[strings.ToLower(repo)]; r != nil {
		return append([]fixtures.Tag(nil), r.tags...)
	}
	return nil
}

// SetClock sets the fake's clock (time.Now by default); it decides when a
// rate limit set by SetRateLimited ends and what X-RateLimit-Reset says.
func (g *GitHub) SetClock(now func() time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = now
}

// SetRateLimited makes every request but /rate_limit answer 403 with
// X-RateLimit-Remaining 0 and X-RateLimit-Reset resetAt until the fake's clock
// reaches resetAt. The zero time lifts the limit.
func (g *GitHub) SetRateLimited(resetAt time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limitedTill = resetAt
}

// FailRepo makes every request about repo answer HTTP status (GraphQL too;
// 404 gives GraphQL's NOT_FOUND error). Status 0 heals the repository.
func (g *GitHub) FailRepo(repo string, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if status == 0 {
		delete(g.failing, strings.ToLower(repo))
		return
	}
	g.failing[strings.ToLower(repo)] = status
}

// AddRelease publishes a new release of repo (which changes the ETags of
// its release pages). It does not add a tag.
func (g *GitHub) AddRelease(repo, tag string, published time.Time, prerelease bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[strings.ToLower(repo)]
	if r == nil {
		r = &ghRepo{name: repo, nextID: 1}
		g.repos[strings.ToLower(repo)] = r
	}
	r.releases = append(r.releases, ghRelease{ID: r.nextID, Tag: tag, Prerelease: prerelease, Published: published})
	r.nextID++
	r.sort()
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if p, ok := strings.CutPrefix(path, "/api/v3/"); ok {
		path = "/" + p
	} else if path == "/api/graphql" {
		path = "/graphql"
	}
	g.count(path)
	g.admit(r)
	if strings.HasSuffix(path, "/tags.atom") {
		// The web host's feed: no API rate limit, no token.
		g.mu.Lock()
		defer g.mu.Unlock()
		g.serveTagFeed(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/tags.atom"))
		return
	}
	g.countAuth(r)

	resource := "core"
	if path == "/graphql" {
		resource = "graphql"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if !g.limitedTill.IsZero() && !now.Before(g.limitedTill) {
		// The limit was reset: a new window starts.
		g.limitedTill = time.Time{}
		g.used = map[string]int{}
	}
	limited := now.Before(g.limitedTill)
	limit := ghAnonLimit
	if r.Header.Get("Authorization") != "" {
		limit = ghLimit
	}
	reset := now.Add(time.Hour).Truncate(time.Second)
	if limited {
		reset = g.limitedTill
		g.used[resource] = limit
	}
	if path != "/rate_limit" && !limited {
		g.used[resource]++
	}
	setRate := func(resource string) {
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-g.used[resource])))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("X-RateLimit-Used", strconv.Itoa(g.used[resource]))
		h.Set("X-RateLimit-Resource", resource)
	}
	setRate(resource)

	switch {
	case path == "/rate_limit" && r.Method == http.MethodGet:
		res := func(name string) map[string]any {
			return map[string]any{"limit": limit, "remaining": max(0, limit-g.used[name]), "reset": reset.Unix(), "used": g.used[name]}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"resources": map[string]any{"core": res("core"), "graphql": res("graphql")},
			"rate":      res("core"),
		})
	case limited:
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "API rate limit exceeded for user. (But here's the good news: Authenticated requests get a higher rate limit.)",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
		})
	case path == "/graphql" && r.Method == http.MethodPost:
		g.serveGraphQL(w, r)
	case path == "/advisories" && r.Method == http.MethodGet:
		g.serveAdvisories(w, r, limit)
	case strings.HasPrefix(path, "/repos/") && strings.HasSuffix(path, "/contents/go.mod") && r.Method == http.MethodGet:
		g.serveGoMod(w, strings.TrimSuffix(strings.TrimPrefix(path, "/repos/"), "/contents/go.mod"))
	case strings.HasPrefix(path, "/repos/") && strings.HasSuffix(path, "/releases") && r.Method == http.MethodGet:
		g.serveReleases(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/repos/"), "/releases"), limit)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type releaseJSON struct {
	ID          int     `json:"id"`
	TagName     string  `json:"tag_name"`
	Name        string  `json:"name"`
	Draft       bool    `json:"draft"`
	Prerelease  bool    `json:"prerelease"`
	CreatedAt   string  `json:"created_at"`
	PublishedAt *string `json:"published_at"`
}

// serveReleases is called with g.mu held.
func (g *GitHub) serveReleases(w http.ResponseWriter, r *http.Request, repo string, limit int) {
	if st := g.failing[strings.ToLower(repo)]; st != 0 {
		writeJSON(w, st, map[string]any{"message": http.StatusText(st)})
		return
	}
	rp := g.repos[strings.ToLower(repo)]
	if rp == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	perPage := atoiDefault(r.URL.Query().Get("per_page"), 30)
	perPage = min(max(perPage, 1), 100)
	page := max(atoiDefault(r.URL.Query().Get("page"), 1), 1)
	lastPage := max((len(rp.releases)+perPage-1)/perPage, 1)
	lo := min((page-1)*perPage, len(rp.releases))
	hi := min(lo+perPage, len(rp.releases))
	items := make([]releaseJSON, 0, hi-lo)
	for _, rel := range rp.releases[lo:hi] {
		j := releaseJSON{ID: rel.ID, TagName: rel.Tag, Name: rel.Tag, Draft: rel.Draft, Prerelease: rel.Prerelease}
		if rel.Draft {
			j.CreatedAt = rel.Published.UTC().Format(time.RFC3339) // creation time; drafts have no published_at
		} else {
			s := rel.Published.UTC().Format(time.RFC3339)
			j.CreatedAt, j.PublishedAt = s, &s
		}
		items = append(items, j)
	}
	body, _ := json.Marshal(items)
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`

	links := []string{}
	link := func(p int, rel string) {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("per_page", strconv.Itoa(perPage))
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < lastPage {
		link(page+1, "next")
		link(lastPage, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		g.countNotModified()
		g.used["core"]-- // conditional requests answered 304 are free
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-g.used["core"])))
		h.Set("X-RateLimit-Used", strconv.Itoa(g.used["core"]))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func etagMatch(header, etag string) bool {
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

func atoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

type graphQLRequest struct {
	Query     string `json:"query"`
	Variables struct {
		Owner  string  `json:"owner"`
		Name   string  `json:"name"`
		Cursor *string `json:"cursor"`
		First  int     `json:"first"`
	} `json:"variables"`
}

// serveGraphQL is called with g.mu held.
func (g *GitHub) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"message":           "This endpoint requires you to be authenticated.",
			"documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
		})
		return
	}
	var req graphQLRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	if strings.Contains(req.Query, "releases(") {
		g.serveReleasesGraphQL(w, req.Query)
		return
	}
	if !strings.Contains(req.Query, "refs(") || req.Variables.Owner == "" || req.Variables.Name == "" {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "fake GitHub only answers repository refs queries with variables owner and name"}}})
		return
	}
	repo := req.Variables.Owner + "/" + req.Variables.Name
	notFound := map[string]any{
		"data": map[string]any{"repository": nil},
		"errors": []map[string]any{{
			"type":    "NOT_FOUND",
			"path":    []string{"repository"},
			"message": fmt.Sprintf("Could not resolve to a Repository with the name '%s'.", repo),
		}},
	}
	if st := g.failing[strings.ToLower(repo)]; st != 0 {
		if st == http.StatusNotFound {
			writeJSON(w, http.StatusOK, notFound)
		} else {
			writeJSON(w, st, map[string]any{"message": http.StatusText(st)})
		}
		return
	}
	rp := g.repos[strings.ToLower(repo)]
	if rp == nil {
		writeJSON(w, http.StatusOK, notFound)
		return
	}
	tags := append([]fixtures.Tag(nil), rp.tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	first := req.Variables.First
	if first <= 0 || first > 100 {
		first = 100
	}
	start := 0
	if c := req.Variables.Cursor; c != nil && *c != "" {
		raw, err := base64.StdEncoding.DecodeString(*c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "cursor:"))
		if err != nil || err2 != nil {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "`" + *c + "` does not appear to be a valid cursor."}}})
			return
		}
		start = min(n, len(tags))
	}
	end := min(start+first, len(tags))
	nodes := make([]map[string]any, 0, end-start)
	for _, tag := range tags[start:end] {
		var target map[string]any
		if tag.Annotated {
			target = map[string]any{
				"__typename": "Tag",
				"tagger":     map[string]any{"date": tag.Date.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)},
				"target":     map[string]any{"__typename": "Commit", "committedDate": tag.Date.Add(-time.Hour).UTC().Format(time.RFC3339)},
			}
		} else {
			target = map[string]any{"__typename": "Commit", "committedDate": tag.Date.UTC().Format(time.RFC3339)}
		}
		nodes = append(nodes, map[string]any{"name": tag.Name, "target": target})
	}
	var endCursor any
	if end > start {
		endCursor = base64.StdEncoding.EncodeToString([]byte("cursor:" + strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"refs": map[string]any{
		"totalCount": len(tags),
		"pageInfo":   map[string]any{"hasNextPage": end < len(tags), "endCursor": endCursor},
		"nodes":      nodes,
	}}}})
}

var releasesAlias = regexp.MustCompile(`(\w+): repository\(owner: "([^"]*)", name: "([^"]*)"\) \{ releases\(first: (\d+)(?:, after: "([^"]*)")?`)

// serveReleasesGraphQL answers batched release queries; called with g.mu held.
func (g *GitHub) serveReleasesGraphQL(w http.ResponseWriter, query string) {
	data := map[string]any{}
	var errs []map[string]any
	for _, m := range releasesAlias.FindAllStringSubmatch(query, -1) {
		alias, repo := m[1], m[2]+"/"+m[3]
		rp := g.repos[strings.ToLower(repo)]
		if rp == nil || g.failing[strings.ToLower(repo)] != 0 {
			data[alias] = nil
			errs = append(errs, map[string]any{"type": "NOT_FOUND", "path": []string{alias}, "message": fmt.Sprintf("Could not resolve to a Repository with the name '%s'.", repo)})
			continue
		}
		first := min(max(atoiDefault(m[4], 100), 1), 100)
		start := 0
		if raw, err := base64.StdEncoding.DecodeString(m[5]); err == nil && m[5] != "" {
			start = min(atoiDefault(strings.TrimPrefix(string(raw), "rcursor:"), 0), len(rp.releases))
		}
		end := min(start+first, len(rp.releases))
		nodes := make([]map[string]any, 0, end-start)
		for _, rel := range rp.releases[start:end] {
			n := map[string]any{"tagName": rel.Tag, "isDraft": rel.Draft, "isPrerelease": rel.Prerelease, "createdAt": rel.Published.UTC().Format(time.RFC3339)}
			if !rel.Draft {
				n["publishedAt"] = rel.Published.UTC().Format(time.RFC3339)
			}
			nodes = append(nodes, n)
		}
		var endCursor any
		if end > start {
			endCursor = base64.StdEncoding.EncodeToString([]byte("rcursor:" + strconv.Itoa(end)))
		}
		data[alias] = map[string]any{"releases": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": end < len(rp.releases), "endCursor": endCursor},
			"nodes":    nodes,
		}}
	}
	out := map[string]any{"data": data}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	writeJSON(w, http.StatusOK, out)
}

// serveTagFeed is called with g.mu held.
func (g *GitHub) serveTagFeed(w http.ResponseWriter, r *http.Request, repo string) {
	rp := g.repos[strings.ToLower(repo)]
	if rp == nil || g.failing[strings.ToLower(repo)] != 0 {
		http.NotFound(w, r)
		return
	}
	tags := append([]fixtures.Tag(nil), rp.tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Date.After(tags[j].Date) })
	tags = tags[:min(10, len(tags))]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">` + "\n")
	fmt.Fprintf(&b, "  <id>tag:github.com,2008:https://github.com/%s/tags</id>\n  <title>Tags from %s</title>\n", repo, repo)
	for _, t := range tags {
		fmt.Fprintf(&b, "  <entry>\n    <id>tag:github.com,2008:Repository/1/%s</id>\n    <updated>%s</updated>\n    <link rel=\"alternate\" type=\"text/html\" href=\"https://github.com/%s/releases/tag/%s\"/>\n    <title>%s</title>\n  </entry>\n",
			t.Name, t.Date.UTC().Format(time.RFC3339), repo, url.PathEscape(t.Name), t.Name)
	}
	b.WriteString("</feed>\n")
	sum := sha256.Sum256([]byte(b.String()))
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		g.countNotModified()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}
