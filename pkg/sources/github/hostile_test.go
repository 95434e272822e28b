package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// hostileSource is a Source with a token against a scripted server, through
// the allow-listed client the collector builds.
func hostileSource(t *testing.T, rec *fakes.Recorder, clock *fakes.Clock, extraHosts ...string) *Source {
	t.Helper()
	hosts := append([]string{strings.TrimPrefix(rec.URL(), "http://")}, extraHosts...)
	client := &http.Client{Transport: sources.NewAllowHosts(nil, hosts...), CheckRedirect: sources.CheckRedirect, Timeout: 2 * time.Minute} // a bound for a broken test, not a timing assertion: the 33 MB page must arrive whole on a loaded machine
	src, err := New(Config{BaseURL: rec.URL(), Token: testToken, HTTPClient: client, CacheTTL: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func releasesJSON(tags ...string) string {
	var items []string
	for i, tag := range tags {
		items = append(items, fmt.Sprintf(`{"tag_name":%q,"published_at":"2025-01-%02dT00:00:00Z"}`, tag, i+1))
	}
	return "[" + strings.Join(items, ",") + "]"
}

// An upstream that echoes request headers into its error message must not
// put the token into errors, notices or the rate-limit check.
func TestEchoedTokenIsRedacted(t *testing.T) {
	rec := fakes.NewRecorder(t)
	clock := fakes.NewClock(t0)
	src := hostileSource(t, rec, clock)
	rec.Handle(fakes.EchoHeaders)
	for _, kind := range []string{sources.KindReleases, sources.KindTags} {
		_, _, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app", Kind: kind})
		if err == nil || strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("%s: err = %v", kind, err)
		}
	}
	if _, err := src.RateLimit(context.Background()); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("rate limit: err = %v", err)
	}
	// Stale data served after a failed refresh: the notice quotes the error.
	rec.Handle(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, releasesJSON("v1.0.0")) })
	clock.Advance(time.Hour)
	if _, _, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"}); err != nil {
		t.Fatal(err)
	}
	rec.Handle(fakes.EchoHeaders)
	clock.Advance(time.Hour)
	_, notices, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if err != nil || len(notices) != 1 || strings.Contains(string(notices[0]), testToken) || strings.Contains(string(notices[0]), "\n") {
		t.Errorf("stale: %v %q", err, notices)
	}
}

// Redirects away from the GitHub API origin never carry the token: another
// allowed host, the same host on another port, plain http on the same host.
func TestRedirectsDropTheToken(t *testing.T) {
	clock := fakes.NewClock(t0)
	api := fakes.NewRecorder(t)
	other := fakes.NewRecorder(t) // another allowed host (a chart host)
	other.Handle(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, releasesJSON("v1.0.0")) })
	otherHost := strings.TrimPrefix(other.URL(), "http://")
	src := hostileSource(t, api, clock, otherHost)
	// Same host name (127.0.0.1), another port: Go's own policy would keep the header.
	api.Handle(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL()+"/moved", http.StatusFound)
	})
	rs, _, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	if got := other.Authorizations(); len(got) != 0 {
		t.Errorf("the redirect target received %q", got)
	}
	if got := api.Authorizations(); len(got) != 1 || got[0] != "Bearer "+testToken {
		t.Errorf("the API received %q", got)
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://api.github.com/x", "https://API.github.com:443/y", true},
		{"https://api.github.com/x", "http://api.github.com/x", false},
		{"https://api.github.com/x", "https://api.github.com:8443/x", false},
		{"https://api.github.com/x", "https://github.com/x", false},
	} {
		a, b := mustURL(t, tc.a), mustURL(t, tc.b)
		if got := sources.SameOrigin(a, b); got != tc.same {
			t.Errorf("%s ~ %s = %v", tc.a, tc.b, got)
		}
	}
}

// A secondary rate limit (403 with a message, no remaining=0, no
// Retry-After) stops requests for a minute, doubling when it repeats, and
// the rate-limit check reports the block.
func TestSecondaryRateLimit(t *testing.T) {
	rec := fakes.NewRecorder(t)
	clock := fakes.NewClock(t0)
	src := hostileSource(t, rec, clock)
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rate_limit" {
			fmt.Fprint(w, `{"resources":{"core":{"limit":5000,"remaining":4000}}}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
	})
	ref := sources.UpstreamRef{Repo: "acme/app"}
	if _, _, err := src.Releases(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "secondary rate limit") {
		t.Fatalf("err = %v", err)
	}
	before := rec.Requests()
	clock.Advance(30 * time.Second)
	if _, _, err := src.Releases(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "no requests until") {
		t.Fatalf("while blocked: err = %v", err)
	}
	if rec.Requests() != before {
		t.Errorf("%d requests sent while blocked", rec.Requests()-before)
	}
	rl, err := src.RateLimit(context.Background())
	if err != nil || rl.BlockedUntil.IsZero() {
		t.Errorf("rate limit check: %+v %v", rl, err)
	}
	clock.Advance(time.Minute)
	_, _, _ = src.Releases(context.Background(), ref) // blocked again, now for two minutes
	if until := src.blocked[resourceCore]; !until.Equal(clock.Now().Add(2 * time.Minute)) {
		t.Errorf("second back-off until %s, want 2 minutes from %s", until, clock.Now())
	}
}

// An absurd reset time (year 3000) holds GitHub back for at most MaxBackoff.
func TestAbsurdResetIsClamped(t *testing.T) {
	rec := fakes.NewRecorder(t)
	clock := fakes.NewClock(t0)
	src := hostileSource(t, rec, clock)
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "32503680000") // 3000-01-01
		w.WriteHeader(http.StatusForbidden)
	})
	_, _, _ = src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if until := src.blocked[resourceCore]; until.After(clock.Now().Add(MaxBackoff)) {
		t.Errorf("blocked until %s", until)
	}
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "999999999")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	clock.Advance(2 * MaxBackoff)
	_, _, _ = src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if until := src.blocked[resourceCore]; until.After(clock.Now().Add(MaxBackoff)) {
		t.Errorf("Retry-After: blocked until %s", until)
	}
}

// Reset times too large for a time.Duration or a time.Time (Retry-After in
// seconds, X-RateLimit-Reset in Unix seconds, on REST and GraphQL) are capped
// before they are converted: they hold GitHub back for MaxBackoff, not for a
// wrapped-around moment in the past that blocks nothing.
func TestOverflowingResetBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, header, value string
		kind                string
	}{
		{"Retry-After", "Retry-After", "10000000000", sources.KindReleases},
		{"X-RateLimit-Reset", "X-RateLimit-Reset", "9223372036854775807", sources.KindReleases},
		{"GraphQL X-RateLimit-Reset", "X-RateLimit-Reset", "9223372036854775807", sources.KindTags},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := fakes.NewRecorder(t)
			clock := fakes.NewClock(t0)
			src := hostileSource(t, rec, clock)
			rec.Handle(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(tc.header, tc.value)
				if r.URL.Path == "/graphql" {
					fmt.Fprint(w, `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}`)
					return
				}
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.WriteHeader(http.StatusTooManyRequests)
			})
			ref := sources.UpstreamRef{Repo: "acme/app", Kind: tc.kind}
			_, _, err := src.Releases(context.Background(), ref)
			want := "no requests until " + clock.Now().Add(MaxBackoff).Format(time.RFC3339)
			if tc.kind == sources.KindTags && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("err = %v, want %q", err, want)
			}
			before := rec.Requests()
			clock.Advance(MaxBackoff - time.Second)
			_, _, err = src.Releases(context.Background(), ref)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("while blocked: err = %v, want %q", err, want)
			}
			if rec.Requests() != before {
				t.Errorf("%d requests sent while blocked", rec.Requests()-before)
			}
		})
	}
}

// A Link header that points back to a page already read, or pages that
// repeat releases, must not cost 100 requests nor count a release twice.
func TestPaginationLoops(t *testing.T) {
	rec := fakes.NewRecorder(t)
	clock := fakes.NewClock(t0)
	src := hostileSource(t, rec, clock)
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		next := "/repos/acme/app/releases?per_page=100&page=2"
		if r.URL.Query().Get("page") == "2" {
			next = "/repos/acme/app/releases?per_page=100" // back to page 1
		}
		w.Header().Set("Link", fmt.Sprintf("<%s%s>; rel=\"next\"", rec.URL(), next))
		fmt.Fprint(w, releasesJSON("v1.0.0", "v0.9.0"))
	})
	rs, notices, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if err != nil || len(rs) != 2 || len(notices) != 1 || !strings.Contains(string(notices[0]), "points back to a page already read") {
		t.Errorf("releases %d, notices %q, err %v", len(rs), notices, err)
	}
	if rec.Requests() != 2 {
		t.Errorf("%d requests, want 2", rec.Requests())
	}

	rec2 := fakes.NewRecorder(t)
	src2 := hostileSource(t, rec2, clock)
	rec2.Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{"repository":{"refs":{"pageInfo":{"hasNextPage":true,"endCursor":"same"},"nodes":[{"name":"v1.0.0","target":{"__typename":"Commit","committedDate":"2025-01-01T00:00:00Z"}}]}}}}`)
	})
	rs, notices, err = src2.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app", Kind: sources.KindTags})
	if err != nil || len(rs) != 1 || len(notices) != 1 || !strings.Contains(string(notices[0]), "cursor repeats") {
		t.Errorf("tags %d, notices %q, err %v", len(rs), notices, err)
	}
	if rec2.Requests() != 2 {
		t.Errorf("%d GraphQL requests, want 2", rec2.Requests())
	}
}

// Answers that are not GitHub's JSON say so without Go type names.
func TestMalformedAnswers(t *testing.T) {
	rec := fakes.NewRecorder(t)
	clock := fakes.NewClock(t0)
	src := hostileSource(t, rec, clock)
	for _, body := range []string{`{"not":"a list"}`, `[{"tag_name": 5}]`, `<html>`} {
		rec.Handle(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		clock.Advance(time.Hour)
		_, _, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
		if err == nil || !strings.Contains(err.Error(), "not the JSON list of releases GitHub sends") || strings.Contains(err.Error(), "github.") {
			t.Errorf("%s: err = %v", body, err)
		}
		_, _, err = src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app", Kind: sources.KindTags})
		if err == nil || strings.Contains(err.Error(), "github.") || strings.Contains(err.Error(), "Go ") {
			t.Errorf("tags %s: err = %v", body, err)
		}
	}
}

// The CLI names GITHUB_TOKEN where the plugin names its settings.
func TestTokenHint(t *testing.T) {
	for hint, want := range map[string]string{"": "set one in the datasource settings", "set the GITHUB_TOKEN environment variable": "set the GITHUB_TOKEN environment variable"} {
		e := newEnv(t, "", false)
		src, err := New(Config{BaseURL: e.gh.URL(), HTTPClient: e.gh.Client(), TokenHint: hint})
		if err != nil {
			t.Fatal(err)
		}
		_, notices, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "chroma-core/chroma", Kind: sources.KindTags})
		if err != nil || len(notices) != 1 || !strings.Contains(string(notices[0]), want) {
			t.Errorf("hint %q: %q %v", hint, notices, err)
		}
	}
}

// A feed that is not Atom is named so.
func TestMalformedFeed(t *testing.T) {
	rec := fakes.NewRecorder(t)
	rec.Handle(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") })
	src, err := New(Config{BaseURL: rec.URL(), HTTPClient: &http.Client{Transport: sources.NewAllowHosts(nil, strings.TrimPrefix(rec.URL(), "http://"))}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = src.Releases(context.Background(), sources.UpstreamRef{Repo: "a/b", Kind: sources.KindTags})
	if err == nil || !strings.Contains(err.Error(), "not GitHub's Atom tag feed") {
		t.Errorf("err = %v", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A page larger than any GitHub page says so, not "unexpected EOF".
func TestHugePage(t *testing.T) {
	rec := fakes.NewRecorder(t)
	src := hostileSource(t, rec, fakes.NewClock(t0))
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"tag_name":"`)
		chunk := strings.Repeat("x", 1<<20)
		for range 33 {
			fmt.Fprint(w, chunk)
		}
		fmt.Fprint(w, `"}]`)
	})
	_, _, err := src.Releases(context.Background(), sources.UpstreamRef{Repo: "acme/app"})
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MB") {
		t.Errorf("err = %v", err)
	}
}
