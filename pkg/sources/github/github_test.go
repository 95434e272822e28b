package github

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

const testToken = "ghp_secret_test_token"

var t0 = time.Date(2026, 8, 22, 12, 0, 0, 0, time.UTC)

type env struct {
	gh    *fakes.GitHub
	clock *fakes.Clock
	src   *Source
}

func newEnv(t *testing.T, token string, ghe bool) *env {
	t.Helper()
	gh := fakes.NewGitHub(t, fakes.FixturesDir())
	clock := fakes.NewClock(t0)
	gh.SetClock(clock.Now)
	base := gh.URL()
	if ghe {
		base = gh.GHEURL()
	}
	src, err := New(Config{BaseURL: base, Token: token, HTTPClient: gh.Client(), CacheTTL: 15 * time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{gh: gh, clock: clock, src: src}
}

func tagDates(t *testing.T, repo string) map[string]time.Time {
	t.Helper()
	folder := strings.Replace(repo, "/", "__", 1)
	tags, err := fixtures.ReadTags(filepath.Join(fakes.FixturesDir(), folder, "tags.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]time.Time{}
	for _, tag := range tags {
		m[tag.Name] = tag.Date
	}
	return m
}

func checkNewestFirst(t *testing.T, rs []sources.Release) {
	t.Helper()
	for i := 1; i < len(rs); i++ {
		if rs[i].Time.After(rs[i-1].Time) {
			t.Fatalf("not newest first at %d: %s %v after %s %v", i, rs[i].Tag, rs[i].Time, rs[i-1].Tag, rs[i-1].Time)
		}
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		repo      string
		ghe       bool
		wantCount int
		wantPages int
		known     map[string]string
	}{
		{"ollama/ollama", false, 635, 7, map[string]string{"v0.12.3": "2025-09-26T01:30:45Z", "v0.13.4-rc2": "", "v0.32.15": "2026-08-19T22:40:16Z"}},
		{"chroma-core/chroma", false, 195, 2, map[string]string{"1.0.11": "2025-05-27T23:26:56Z", "0.0.1": "2022-10-16T03:16:31Z"}},
		{"NVIDIA/gpu-operator", true, 70, 1, map[string]string{"v1.7.0": "2021-05-21T23:34:44Z"}},
		{"vllm-project/production-stack", true, 23, 1, map[string]string{"vllm-stack-0.0.2": "2025-01-27T00:26:20Z"}},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testToken, tc.ghe)
			rs, notices, err := e.src.Releases(context.Background(), sources.UpstreamRef{Repo: tc.repo, Kind: sources.KindTags})
			if err != nil {
				t.Fatal(err)
			}
			if len(notices) != 0 {
				t.Errorf("notices: %v", notices)
			}
			if len(rs) != tc.wantCount {
				t.Fatalf("%d tags, want %d", len(rs), tc.wantCount)
			}
			if got := e.gh.RequestsTo("/graphql"); got != tc.wantPages {
				t.Errorf("%d GraphQL requests, want %d", got, tc.wantPages)
			}
			want := tagDates(t, tc.repo)
			for _, r := range rs {
				if !r.Time.Equal(want[r.Tag]) || r.Prerelease {
					t.Errorf("tag %s: time %v prerelease %v, want %v (tags.tsv)", r.Tag, r.Time, r.Prerelease, want[r.Tag])
				}
			}
			got := map[string]time.Time{}
			for _, r := range rs {
				got[r.Tag] = r.Time
			}
			for tag, date := range tc.known {
				if date == "" {
					date = want[tag].Format(time.RFC3339) // annotated: tagger date, not the commit's
				}
				if g := got[tag].Format(time.RFC3339); g != date {
					t.Errorf("tag %s dated %s, want %s", tag, g, date)
				}
			}
			checkNewestFirst(t, rs)
		})
	}
}

func TestReleases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		repo      string
		ghe       bool
		token     string
		wantPages int
	}{
		{"ollama/ollama", false, testToken, 7}, // 635 releases + 1 draft
		{"chroma-core/chroma", false, "", 2},
		{"NVIDIA/gpu-operator", true, testToken, 1},
		{"vllm-project/production-stack", false, "", 1},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.token, tc.ghe)
			rs, _, err := e.src.Releases(context.Background(), sources.UpstreamRef{Repo: tc.repo, Kind: sources.KindReleases})
			if err != nil {
				t.Fatal(err)
			}
			want := tagDates(t, tc.repo)
			if len(rs) != len(want) {
				t.Fatalf("%d releases, want %d (one per tag, draft dropped)", len(rs), len(want))
			}
			prereleases := 0
			for _, r := range rs {
				if r.Tag == "draft-next" {
					t.Fatalf("draft release returned")
				}
				if !r.Time.Equal(want[r.Tag]) {
					t.Errorf("release %s at %v, want %v", r.Tag, r.Time, want[r.Tag])
				}
				if r.Prerelease != fakes.IsPrerelease(r.Tag) {
					t.Errorf("release %s prerelease = %v", r.Tag, r.Prerelease)
				}
				if r.Prerelease {
					prereleases++
				}
			}
			if tc.repo == "ollama/ollama" && prereleases < 380 {
				t.Errorf("only %d prereleases flagged", prereleases)
			}
			path := "/repos/" + tc.repo + "/releases"
			if got := e.gh.RequestsTo(path); got != tc.wantPages {
				t.Errorf("%d requests to %s, want %d", got, path, tc.wantPages)
			}
			checkNewestFirst(t, rs)
		})
	}
}

func TestReleasesRevalidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	ctx := context.Background()
	ref := sources.UpstreamRef{Repo: "ollama/ollama", Kind: sources.KindReleases}
	first, _, err := e.src.Releases(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if e.gh.Requests() != 7 {
		t.Fatalf("%d requests for 7 pages", e.gh.Requests())
	}
	parses := e.src.parses.Load()

	e.clock.Advance(14 * time.Minute)
	if _, _, err := e.src.Releases(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := e.gh.Requests(); got != 7 {
		t.Fatalf("within the TTL: %d requests in total, want no new one", got)
	}

	e.clock.Advance(2 * time.Minute)
	again, notices, err := e.src.Releases(ctx, ref)
	if err != nil || len(notices) != 0 {
		t.Fatal(err, notices)
	}
	if got := e.gh.Requests(); got != 8 || e.gh.NotModified() != 1 {
		t.Fatalf("after the TTL: %d requests (%d 304s), want 8 and 1", got, e.gh.NotModified())
	}
	if e.src.parses.Load() != parses {
		t.Fatalf("a 304 was parsed again")
	}
	if len(again) != len(first) || again[0] != first[0] {
		t.Fatalf("revalidated list differs")
	}

	// A new release changes the ETag: the next refresh reads every page.
	e.gh.AddRelease("ollama/ollama", "v0.33.0", t0, false)
	e.clock.Advance(16 * time.Minute)
	rs, _, err := e.src.Releases(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(first)+1 || rs[0].Tag != "v0.33.0" || !rs[0].Time.Equal(t0) {
		t.Fatalf("new release not seen: %d releases, newest %+v", len(rs), rs[0])
	}
	if got := e.gh.Requests(); got != 8+7 {
		t.Fatalf("%d requests, want 15", got)
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	gate := e.gh.Hold()
	ref := sources.UpstreamRef{Repo: "vllm-project/production-stack", Kind: sources.KindReleases}
	const n = 16
	err := gate.Burst(n, func() error {
		rs, _, err := e.src.Releases(context.Background(), ref)
		if err == nil && len(rs) != 23 {
			err = errors.New("wrong release count")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.gh.Requests(); got != 1 {
		t.Fatalf("%d requests for %d concurrent calls, want 1", got, n)
	}
}

func TestRateLimitBackoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	ctx := context.Background()
	ref := sources.UpstreamRef{Repo: "chroma-core/chroma", Kind: sources.KindReleases}
	good, _, err := e.src.Releases(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	fetchedAt := e.clock.Now()
	reset := t0.Add(time.Hour)
	e.gh.SetRateLimited(reset)
	e.clock.Advance(20 * time.Minute)
	before := e.gh.Requests()

	rs, notices, err := e.src.Releases(ctx, ref)
	if err != nil {
		t.Fatalf("want stale data, got %v", err)
	}
	if len(rs) != len(good) || len(notices) != 1 {
		t.Fatalf("stale: %d releases, notices %v", len(rs), notices)
	}
	for _, want := range []string{"serving data fetched at " + fetchedAt.Format(time.RFC3339), "rate limit", "chroma-core/chroma", "HTTP 403"} {
		if !strings.Contains(string(notices[0]), want) {
			t.Errorf("notice %q lacks %q", notices[0], want)
		}
	}
	if got := e.gh.Requests() - before; got != 1 {
		t.Fatalf("%d requests for the refused refresh, want 1", got)
	}

	// Until the reset nothing is sent: stale data again, and a repository
	// never fetched gets a rate-limit error.
	e.clock.Advance(20 * time.Minute)
	before = e.gh.Requests()
	rs, notices, err = e.src.Releases(ctx, ref)
	if err != nil || len(rs) != len(good) || len(notices) != 1 || !strings.Contains(string(notices[0]), "no requests until "+reset.Format(time.RFC3339)) {
		t.Fatalf("while limited: %d releases, %v, %v", len(rs), notices, err)
	}
	_, _, err = e.src.Releases(ctx, sources.UpstreamRef{Repo: "ollama/ollama", Kind: sources.KindReleases})
	var rl *RateLimitedError
	if !errors.As(err, &rl) || !rl.Until.Equal(reset) || !strings.Contains(err.Error(), "ollama/ollama") {
		t.Fatalf("uncached repo while limited: err = %v", err)
	}
	if got := e.gh.Requests() - before; got != 0 {
		t.Fatalf("%d requests sent while rate limited", got)
	}
	rlInfo, err := e.src.RateLimit(ctx)
	if err != nil || !rlInfo.BlockedUntil.Equal(reset) || rlInfo.Core.Remaining != 0 {
		t.Fatalf("RateLimit while limited: %+v, %v", rlInfo, err)
	}

	// After the reset requests resume (a 304: the list did not change).
	e.clock.Set(reset.Add(time.Second))
	rs, notices, err = e.src.Releases(ctx, ref)
	if err != nil || len(notices) != 0 || len(rs) != len(good) {
		t.Fatalf("after reset: %d releases, %v, %v", len(rs), notices, err)
	}
	if e.gh.Requests() == before {
		t.Fatalf("no request after the reset")
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	resp := &httpResponseStub{status: 429, headers: map[string]string{"Retry-After": "120"}}
	until, ok := e.src.resetTime(resp.build())
	if !ok || !until.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Retry-After: %v %v", until, ok)
	}
}

func TestFailingRepoIsolated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind, failRepo string
		status         int
		wantErr        []string
	}{
		{sources.KindReleases, "ollama/ollama", 500, []string{"ollama/ollama", "/repos/ollama/ollama/releases", "HTTP 500"}},
		{sources.KindReleases, "ollama/ollama", 404, []string{"repository ollama/ollama not found (or private without a token)", "HTTP 404"}},
		{sources.KindTags, "ollama/ollama", 502, []string{"ollama/ollama", "/graphql", "HTTP 502"}},
		{sources.KindTags, "ollama/ollama", 404, []string{"repository ollama/ollama not found"}},
		{sources.KindTags, "nobody/nothing", 0, []string{"repository nobody/nothing not found", "Could not resolve"}},
		{sources.KindReleases, "nobody/nothing", 0, []string{"repository nobody/nothing not found (or private without a token)"}},
	} {
		t.Run(tc.kind+"/"+tc.failRepo, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testToken, false)
			if tc.status != 0 {
				e.gh.FailRepo(tc.failRepo, tc.status)
			}
			_, _, err := e.src.Releases(context.Background(), sources.UpstreamRef{Repo: tc.failRepo, Kind: tc.kind})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token: %v", err)
			}
			rs, notices, err := e.src.Releases(context.Background(), sources.UpstreamRef{Repo: "chroma-core/chroma", Kind: tc.kind})
			if err != nil || len(notices) != 0 || len(rs) != 195 {
				t.Fatalf("other repo: %d releases, %v, %v", len(rs), notices, err)
			}
		})
	}
}

// Without a token, tags come from GitHub's tag feed (the web host, not the
// API): the 10 newest, with their dates, a notice saying so, and a 304 when
// nothing changed.
func TestTagsWithoutTokenFromFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", false)
	ref := sources.UpstreamRef{Repo: "chroma-core/chroma", Kind: sources.KindTags}
	rs, notices, err := e.src.Releases(context.Background(), ref)
	if err != nil || len(rs) != 10 {
		t.Fatalf("%d tags, %v", len(rs), err)
	}
	dates := tagDates(t, "chroma-core/chroma")
	for _, r := range rs {
		if !r.Time.Equal(dates[r.Tag]) {
			t.Errorf("%s: %s, fixture says %s", r.Tag, r.Time, dates[r.Tag])
		}
	}
	checkNewestFirst(t, rs)
	if len(notices) != 1 || !strings.Contains(string(notices[0]), "only the 10 newest tags") || !strings.Contains(string(notices[0]), "set one in the datasource settings for the whole history") {
		t.Errorf("notices %q", notices)
	}
	if e.gh.RequestsTo("/graphql") != 0 || e.gh.RequestsTo("/chroma-core/chroma/tags.atom") != 1 {
		t.Errorf("requests: GraphQL %d, feed %d", e.gh.RequestsTo("/graphql"), e.gh.RequestsTo("/chroma-core/chroma/tags.atom"))
	}
	e.clock.Advance(time.Hour)
	if _, _, err := e.src.Releases(context.Background(), ref); err != nil || e.gh.NotModified() != 1 {
		t.Errorf("refresh: %v, %d answered 304", err, e.gh.NotModified())
	}
	for auth := range e.gh.Authorizations() {
		if auth != "" {
			t.Errorf("the feed received Authorization %q", auth)
		}
	}
}

func TestWebURL(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.github.com":         "https://github.com",
		"https://ghe.example.com/api/v3": "https://ghe.example.com",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
	} {
		if got := WebURL(base); got != want {
			t.Errorf("%s: %s, want %s", base, got, want)
		}
	}
}

func TestRateLimitInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token     string
		wantLimit int
	}{{testToken, 5000}, {"", 60}} {
		e := newEnv(t, tc.token, tc.token == "")
		rl, err := e.src.RateLimit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rl.Authenticated != (tc.token != "") || rl.Core.Limit != tc.wantLimit || rl.Core.Remaining != tc.wantLimit || !rl.Core.Reset.Equal(t0.Add(time.Hour)) {
			t.Fatalf("token %q: %+v", tc.token, rl)
		}
	}
}

func TestBadRepoAndKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	for _, ref := range []sources.UpstreamRef{
		{Repo: "no-slash", Kind: sources.KindReleases},
		{Repo: "a/b/c", Kind: sources.KindReleases},
		{Repo: "a/b", Kind: "commits"},
	} {
		if _, _, err := e.src.Releases(context.Background(), ref); err == nil {
			t.Errorf("%+v: want an error", ref)
		}
	}
	if e.gh.Requests() != 0 {
		t.Fatalf("requests sent for invalid refs")
	}
}

func TestGraphQLURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://api.github.com":          "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com/api/graphql",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/graphql",
	} {
		if got := GraphQLURL(in); got != want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://api.github.com/repos/o/r/releases?per_page=100")
	for _, tc := range []struct {
		headers []string
		want    string
	}{
		{nil, ""},
		{[]string{`<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/releases?per_page=100&page=7>; rel="last"`}, "https://api.github.com/repositories/1/releases?per_page=100&page=2"},
		{[]string{`<https://x/p?page=1>; rel="prev"`, `<https://x/p?page=3>; rel="next"`}, "https://x/p?page=3"},
		{[]string{`</repos/o/r/releases?page=2>; rel=next`}, "https://api.github.com/repos/o/r/releases?page=2"},
		{[]string{`<https://x/p?page=9>; rel="last"`}, ""},
	} {
		got, err := nextLink(base, tc.headers)
		if err != nil || got != tc.want {
			t.Errorf("nextLink(%q) = %q, %v; want %q", tc.headers, got, err, tc.want)
		}
	}
}

func TestLinkToOtherHostRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testToken, false)
	req, _ := newGet("https://evil.example.com/repos/o/r/releases?page=2")
	if _, err := e.src.send(req, resourceCore, "o/r"); err == nil || !strings.Contains(err.Error(), "evil.example.com") {
		t.Fatalf("err = %v", err)
	}
}

type httpResponseStub struct {
	status  int
	headers map[string]string
}

func (s *httpResponseStub) build() *http.Response {
	h := http.Header{}
	for k, v := range s.headers {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: s.status, Header: h}
}

func newGet(u string) (*http.Request, error) {
	return http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
}
