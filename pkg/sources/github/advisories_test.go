package github

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

var ollamaRef = sources.AdvisoryRef{Ecosystem: "go", Packages: []string{"github.com/ollama/ollama", "github.com/jmorganca/ollama"}}

// The fixture's 16 advisories come through GitHub's cursor pagination, with
// and without a token, newest first, with GitHub's severity words and
// publication times; all name github.com/ollama/ollama (GitHub files
// GHSA-5jx5-hqx5-2vrj there, where vulndb named the older jmorganca path),
// so the second package's list is empty. A second call within the cache's
// hours asks nothing, and a refresh after it is a 304.
func TestAdvisoriesFromFakeGitHub(t *testing.T) {
	for _, token := range []string{"", testToken} {
		e := newEnv(t, token, false)
		advs, notices, err := e.src.Advisories(context.Background(), ollamaRef)
		if err != nil || len(notices) > 0 {
			t.Fatal(err, notices)
		}
		if len(advs) != 16 {
			t.Fatalf("token %v: %d advisories, want 16", token != "", len(advs))
		}
		// per_page=100: one page per package.
		if n := e.gh.RequestsTo("/advisories"); n != 2 {
			t.Errorf("requests: %d, want 2", n)
		}
		byID := map[string]sources.Advisory{}
		for i, a := range advs {
			byID[a.ID] = a
			if i > 0 && a.Published.After(advs[i-1].Published) {
				t.Errorf("not newest first at %s", a.ID)
			}
		}
		p := byID["GHSA-8hqg-whrw-pv92"]
		if p.CVE != "CVE-2024-37032" || p.Severity != "medium" || !p.Published.Equal(time.Date(2024, 5, 31, 6, 30, 27, 0, time.UTC)) ||
			len(p.Vulnerabilities) != 1 || p.Vulnerabilities[0] != (sources.AdvisoryVulnerability{Ecosystem: "go", Package: "github.com/ollama/ollama", Range: "< 0.1.34", Patched: "0.1.34"}) {
			t.Errorf("Probllama: %+v", p)
		}
		if j := byID["GHSA-5jx5-hqx5-2vrj"]; len(j.Vulnerabilities) != 1 || j.Vulnerabilities[0].Package != "github.com/ollama/ollama" || j.Severity != "high" {
			t.Errorf("GitHub's package for the DNS rebinding advisory: %+v", j)
		}
		for _, a := range advs {
			for _, v := range a.Vulnerabilities {
				if v.Package == "github.com/jmorganca/ollama" {
					t.Errorf("%s names the jmorganca path: GitHub's records do not", a.ID)
				}
			}
		}
		if u := byID["GHSA-x99g-8v8j-25j2"]; len(u.Vulnerabilities) != 1 || u.Vulnerabilities[0].Patched != "" || u.Vulnerabilities[0].Range != "<= 0.20.2" || u.Severity != "low" {
			t.Errorf("no patched version: %+v", u)
		}
		if c := byID["GHSA-f6mr-38g8-39rg"]; c.Severity != "critical" || !c.Published.Equal(time.Date(2025, 12, 18, 18, 30, 30, 0, time.UTC)) {
			t.Errorf("critical: %+v", c)
		}
		e.gh.ResetCounters()
		if _, _, err := e.src.Advisories(context.Background(), ollamaRef); err != nil || e.gh.Requests() != 0 {
			t.Errorf("cached call: %v, %d requests", err, e.gh.Requests())
		}
		e.clock.Advance(DefaultAdvisoryCacheTTL + time.Minute)
		again, _, err := e.src.Advisories(context.Background(), ollamaRef)
		if err != nil || len(again) != 16 || e.gh.NotModified() != 2 {
			t.Errorf("revalidation: %v, %d advisories, %d answered 304", err, len(again), e.gh.NotModified())
		}
	}
}

// Small pages: the cursor in the Link header is followed to the end.
// Withdrawn advisories are left out; an advisory naming another package too,
// or the same name in another ecosystem, keeps only the ranges of the
// service's packages in its ecosystem.
func TestAdvisoriesPaginationAndWithdrawn(t *testing.T) {
	e := newEnv(t, "", false)
	e.gh.AddAdvisory(map[string]any{"ghsa_id": "GHSA-wdrn-0000-0000", "severity": "critical", "published_at": "2025-01-01T00:00:00Z",
		"withdrawn_at": "2025-01-02T00:00:00Z", "vulnerabilities": []any{map[string]any{
			"package": map[string]any{"ecosystem": "go", "name": "github.com/ollama/ollama"}, "vulnerable_version_range": "< 9.0.0", "first_patched_version": "9.0.0"}}})
	e.gh.AddAdvisory(map[string]any{"ghsa_id": "GHSA-both-0000-0000", "severity": "low", "published_at": "2025-01-01T00:00:00Z",
		"withdrawn_at": nil, "vulnerabilities": []any{
			map[string]any{"package": map[string]any{"ecosystem": "go", "name": "example.com/other"}, "vulnerable_version_range": "< 2.0.0", "first_patched_version": "2.0.0"},
			map[string]any{"package": map[string]any{"ecosystem": "npm", "name": "github.com/ollama/ollama"}, "vulnerable_version_range": "< 5.0.0", "first_patched_version": "5.0.0"},
			map[string]any{"package": map[string]any{"ecosystem": "go", "name": "github.com/ollama/ollama"}, "vulnerable_version_range": ">= 0.3.0, < 0.3.12", "first_patched_version": "0.3.12"}}})
	src, err := New(Config{BaseURL: e.gh.URL(), HTTPClient: e.gh.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	advs, _, err := src.fetchAdvisoriesPerPage(context.Background(), "go", "github.com/ollama/ollama", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 17 { // the fixture's 16 + the one naming two packages; not the withdrawn one
		t.Errorf("%d advisories, want 17", len(advs))
	}
	if n := e.gh.RequestsTo("/advisories"); n != 5 { // 18 matching, 4 a page
		t.Errorf("%d pages read, want 5", n)
	}
	all, _, err := src.Advisories(context.Background(), sources.AdvisoryRef{Ecosystem: "go", Packages: []string{"github.com/ollama/ollama"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.ID == "GHSA-wdrn-0000-0000" {
			t.Error("a withdrawn advisory was returned")
		}
		if a.ID == "GHSA-both-0000-0000" && (len(a.Vulnerabilities) != 1 || a.Vulnerabilities[0].Range != ">= 0.3.0, < 0.3.12") {
			t.Errorf("ranges of other packages kept: %+v", a.Vulnerabilities)
		}
	}
}

func TestAdvisoriesErrors(t *testing.T) {
	e := newEnv(t, testToken, false)
	if _, _, err := e.src.Advisories(context.Background(), sources.AdvisoryRef{Ecosystem: "golang", Packages: []string{"x"}}); err == nil || !strings.Contains(err.Error(), `ecosystem "golang" is not one of GitHub's`) {
		t.Errorf("unknown ecosystem: %v", err)
	}
	// A hostile or broken server: an answer over the cap, a page that is
	// not JSON, a published_at that is no time. The token never shows.
	huge := strings.Repeat(" ", MaxAdvisoryPageBytes+10)
	for name, tc := range map[string]struct {
		body string
		want string
	}{
		"too large": {"[" + huge + "]", "larger than 8 MB"},
		"not json":  {"<html>" + testToken + "</html>", "not the JSON list of advisories"},
		"bad time": {`[{"ghsa_id":"GHSA-aaaa-bbbb-cccc","severity":"high","published_at":"June 2024","vulnerabilities":[]}]`,
			`advisory "GHSA-aaaa-bbbb-cccc": published_at "June 2024" is not a plausible RFC 3339 time; left out`},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, tc.body)
		}))
		defer srv.Close()
		src, err := New(Config{BaseURL: srv.URL, Token: testToken, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, notices, err := src.Advisories(context.Background(), sources.AdvisoryRef{Ecosystem: "go", Packages: []string{"p"}})
		text := fmt.Sprint(err, notices)
		if !strings.Contains(text, tc.want) || strings.Contains(text, testToken) {
			t.Errorf("%s: %s", name, text)
		}
	}
}

// fetchAdvisoriesPerPage reads with smaller pages, to test pagination.
func (s *Source) fetchAdvisoriesPerPage(ctx context.Context, eco, pkg string, perPage int) ([]sources.Advisory, []sources.Notice, error) {
	e, err := s.fetchAdvisoryPages(ctx, eco, pkg, perPage, nil)
	return e.Value.advisories, e.Value.notices, err
}

// GitHub's message in an error answer is quoted with the token removed;
// a rate-limited GitHub holds back the advisories like the releases, and the
// last good list is served with a notice.
func TestAdvisoriesRateLimitAndRedaction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message":"token %s is broken"}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	src, err := New(Config{BaseURL: srv.URL, Token: testToken, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = src.Advisories(context.Background(), sources.AdvisoryRef{Ecosystem: "go", Packages: []string{"p"}})
	if err == nil || strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error: %v", err)
	}

	e := newEnv(t, testToken, false)
	if _, _, err := e.src.Advisories(context.Background(), ollamaRef); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(DefaultAdvisoryCacheTTL + time.Minute)
	e.gh.SetRateLimited(e.clock.Now().Add(30 * time.Minute))
	advs, notices, err := e.src.Advisories(context.Background(), ollamaRef)
	if err != nil || len(advs) != 16 || !strings.Contains(fmt.Sprint(notices), "rate limit") {
		t.Errorf("rate limited: %v, %d advisories, notices %q", err, len(advs), notices)
	}
}
