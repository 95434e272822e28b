// Package github reads upstream release timelines from the GitHub API (or a
// GitHub Enterprise server) over plain net/http.
//
// Releases come from the REST API, revalidated with the stored ETag: a 304
// reuses the parsed list without fetching further pages, and 304s do not
// count against the REST rate limit. Tags come from GraphQL, which returns 100
// tags with their dates per call (REST /tags has no dates); GraphQL needs a
// token. Every result is cached (pkg/cache): concurrent callers share one
// fetch, and when GitHub fails or rate limits, the last good data is served
// with a notice. After a rate-limit answer the source sends nothing to that
// API until the announced reset.
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// DefaultBaseURL is the REST base URL of github.com.
const DefaultBaseURL = "https://api.github.com"

// maxPages bounds pagination: 100 pages of 100 items.
const maxPages = 100

// Config configures a Source.
type Config struct {
	// BaseURL is the REST base URL: https://api.github.com (default) or, for
	// GitHub Enterprise Server, https://HOST/api/v3.
	BaseURL string
	// Token is sent as "Authorization: Bearer". Optional for releases,
	// required for tags.
	Token string
	// HTTPClient sends the requests (http.DefaultClient when nil). Give it a
	// timeout and, in the plugin, a sources.AllowHosts transport.
	HTTPClient *http.Client
	// CacheTTL is how long fetched timelines are served without asking GitHub.
	CacheTTL time.Duration
	// AdvisoryCacheTTL is how long a package's advisories are served without
	// asking GitHub (DefaultAdvisoryCacheTTL when 0).
	AdvisoryCacheTTL time.Duration
	// FetchTimeout bounds one shared fetch of all pages (cache.DefaultFetchTimeout when 0).
	FetchTimeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// TokenHint tells the user where a token is set, in the words of their
	// surface: "set one in the datasource settings" (default) or, for the
	// CLI, "set GITHUB_TOKEN".
	TokenHint string
}

// DefaultTokenHint is Config.TokenHint for the plugin.
const DefaultTokenHint = "set one in the datasource settings"

// MaxBackoff bounds how long the source holds back after a rate-limit answer,
// whatever reset time GitHub (or something in front of it) announces.
const MaxBackoff = time.Hour

// secondaryBackoff is the first pause after a secondary rate limit that
// announces no time; it doubles with each one in a row, up to MaxBackoff.
const secondaryBackoff = time.Minute

// Source is a sources.UpstreamSource backed by the GitHub API. It is safe for
// concurrent use.
type Source struct {
	base       string
	graphqlURL string
	webURL     string // where the Atom feeds are (WebURL)
	baseURL    *url.URL
	token      string
	tokenHint  string
	hc         *http.Client
	now        func() time.Time
	cache      *cache.Cache[timeline]

	mu        sync.Mutex
	blocked   map[string]time.Time     // rate-limit resource -> no requests before
	secondary map[string]time.Duration // rate-limit resource -> last secondary back-off

	parses atomic.Int64 // pages parsed (tests check that a 304 parses nothing)

	advTTL   time.Duration // advisories.go
	advOnce  sync.Once
	advCache *cache.Cache[advisoryList]
}

var _ sources.UpstreamSource = (*Source)(nil)

// timeline is one cached upstream result.
type timeline struct {
	releases []sources.Release
	notices  []sources.Notice
}

// New returns a Source. It fails only on an unusable BaseURL.
func New(cfg Config) (*Source, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("GitHub base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	s := &Source{
		base:       base,
		graphqlURL: GraphQLURL(base),
		webURL:     WebURL(base),
		baseURL:    u,
		token:      strings.TrimSpace(cfg.Token),
		tokenHint:  cfg.TokenHint,
		hc:         cfg.HTTPClient,
		now:        cfg.Now,
		blocked:    map[string]time.Time{},
		secondary:  map[string]time.Duration{},
		advTTL:     cfg.AdvisoryCacheTTL,
	}
	if s.tokenHint == "" {
		s.tokenHint = DefaultTokenHint
	}
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.cache = cache.New[timeline](cache.Options{TTL: cfg.CacheTTL, FetchTimeout: cfg.FetchTimeout, Now: s.now})
	return s, nil
}

// GraphQLURL derives the GraphQL endpoint from a REST base URL:
// https://api.github.com -> https://api.github.com/graphql and
// https://HOST/api/v3 -> https://HOST/api/graphql.
func GraphQLURL(base string) string {
	base = strings.TrimRight(base, "/")
	if b, ok := strings.CutSuffix(base, "/api/v3"); ok {
		return b + "/api/graphql"
	}
	return base + "/graphql"
}

// Releases returns the releases (KindReleases) or tags (KindTags) of
// ref.Repo, newest first. Drafts are never returned.
func (s *Source) Releases(ctx context.Context, ref sources.UpstreamRef) ([]sources.Release, []sources.Notice, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return nil, nil, err
	}
	var fetch cache.FetchFunc[timeline]
	switch ref.Kind {
	case sources.KindReleases, "":
		fetch = func(ctx context.Context, prev *cache.Entry[timeline]) (cache.Entry[timeline], error) {
			e, err := s.fetchReleases(ctx, ref.Repo, owner, name, prev)
			return e, s.redact(err)
		}
	case sources.KindTags:
		fetch = func(ctx context.Context, prev *cache.Entry[timeline]) (cache.Entry[timeline], error) {
			if s.token == "" {
				return s.fetchTagFeed(ctx, ref.Repo, owner, name, prev)
			}
			e, err := s.fetchTags(ctx, ref.Repo, owner, name)
			return e, s.redact(err)
		}
	default:
		return nil, nil, fmt.Errorf("upstream %s: unknown source %q (want %q or %q)", ref.Repo, ref.Kind, sources.KindReleases, sources.KindTags)
	}
	kind := ref.Kind
	if kind == "" {
		kind = sources.KindReleases
	}
	res, err := s.cache.Get(ctx, kind+":"+strings.ToLower(ref.Repo), fetch)
	if err != nil {
		return nil, nil, err
	}
	notices := slices.Clone(res.Value.notices)
	if res.Notice != "" {
		notices = append(notices, sources.Notice(fmt.Sprintf("%s of %s: %s", kind, ref.Repo, res.Notice)))
	}
	// Callers may sort or filter: hand out a copy of the cached slice.
	return slices.Clone(res.Value.releases), notices, nil
}

func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
		return "", "", fmt.Errorf("upstream repo %q is not a GitHub owner/name", repo)
	}
	return owner, name, nil
}

// RateLimitedError is returned while the source waits for a rate limit to reset.
type RateLimitedError struct {
	Resource string    // "core" (REST) or "graphql"
	Until    time.Time // when requests resume
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("GitHub %s API rate limit exceeded; no requests until %s", e.Resource, e.Until.UTC().Format(time.RFC3339))
}

// Resources of GitHub's rate limits.
const (
	resourceCore    = "core"
	resourceGraphQL = "graphql"
)

// send sends req unless resource is rate limited, and records rate-limit
// answers. repo is only used in error messages.
func (s *Source) send(req *http.Request, resource, repo string) (*http.Response, error) {
	s.mu.Lock()
	until := s.blocked[resource]
	s.mu.Unlock()
	if s.now().Before(until) {
		return nil, fmt.Errorf("%s: %s %s: %w", repo, req.Method, req.URL.RequestURI(), &RateLimitedError{Resource: resource, Until: until})
	}
	if req.URL.Scheme != s.baseURL.Scheme || req.URL.Host != s.baseURL.Host {
		// Never send the token anywhere else (e.g. a Link header pointing away).
		return nil, fmt.Errorf("%s: refusing to follow %s: not on %s", repo, req.URL.Redacted(), s.baseURL.Host)
	}
	s.setHeaders(req)
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", repo, req.Method, req.URL.RequestURI(), sources.StripURL(err))
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		until, ok := s.resetTime(resp)
		if !ok {
			until, ok = s.secondaryLimit(resp, resource)
		}
		if ok {
			s.block(resource, until)
		}
	} else {
		s.mu.Lock()
		delete(s.secondary, resource)
		s.mu.Unlock()
	}
	return resp, nil
}

// secondaryLimit recognises a secondary rate limit: a 403 or 429 whose
// message says so, with no reset time. GitHub asks to wait at least a minute,
// and longer when it repeats. The body stays readable for statusError.
func (s *Source) secondaryLimit(resp *http.Response, resource string) (time.Time, bool) {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessageBytes))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	msg := strings.ToLower(string(body))
	if !strings.Contains(msg, "secondary rate limit") && !strings.Contains(msg, "abuse detection") {
		return time.Time{}, false
	}
	s.mu.Lock()
	d := min(max(2*s.secondary[resource], secondaryBackoff), MaxBackoff)
	s.secondary[resource] = d
	s.mu.Unlock()
	return s.now().Add(d), true
}

// setHeaders sets the headers of every GitHub API request, the token
// included: call it only for requests to s.baseURL.
func (s *Source) setHeaders(req *http.Request) {
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "lagwatch")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
}

// resetTime tells, for a 403/429 answer, until when GitHub wants no requests.
func (s *Source) resetTime(resp *http.Response) (time.Time, bool) {
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(ra), 10, 64); err == nil {
			return s.after(secs), true
		}
		if t, err := http.ParseTime(ra); err == nil {
			return t, true
		}
		return s.now().Add(time.Minute), true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return s.resetAt(reset), true
		}
		return s.now().Add(time.Minute), true
	}
	return time.Time{}, false
}

// maxBackoffSeconds is MaxBackoff in whole seconds.
const maxBackoffSeconds = int64(MaxBackoff / time.Second)

// after is secs seconds from now (a Retry-After), at most MaxBackoff: capped
// before it becomes a time.Duration, which 10000000000 seconds would overflow
// into the past.
func (s *Source) after(secs int64) time.Time {
	return s.now().Add(time.Duration(min(max(secs, 0), maxBackoffSeconds)) * time.Second)
}

// resetAt is the Unix time reset (an X-RateLimit-Reset), at most MaxBackoff
// from now: capped before it becomes a time.Time.
func (s *Source) resetAt(reset int64) time.Time {
	if now := s.now(); reset >= now.Unix()+maxBackoffSeconds {
		return now.Add(MaxBackoff)
	}
	return time.Unix(reset, 0)
}

func (s *Source) block(resource string, until time.Time) {
	if limit := s.now().Add(MaxBackoff); until.After(limit) {
		until = limit // an absurd reset time must not silence GitHub for years
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.blocked[resource]) {
		s.blocked[resource] = until
	}
}

// maxMessageBytes bounds the error body read from GitHub.
const maxMessageBytes = 64 << 10

// statusError describes a non-success answer; it reads (part of) the body and
// quotes GitHub's message, with the token removed, cut short, on one line.
func (s *Source) statusError(repo string, req *http.Request, resp *http.Response) error {
	var msg struct {
		Message string `json:"message"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessageBytes))
	_ = json.Unmarshal(body, &msg)
	where := fmt.Sprintf("%s %s: HTTP %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	if m := strings.Join(strings.Fields(s.redactText(msg.Message)), " "); m != "" {
		where += " (GitHub says " + quote.Value(m) + ")"
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("repository %s not found (or private without a token): %s", repo, where)
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: GitHub rejected the token: %s", repo, where)
	}
	return fmt.Errorf("%s: %s", repo, where)
}

// Quota is one rate-limit resource as reported by GitHub.
type Quota struct {
	Limit     int
	Remaining int
	Used      int
	Reset     time.Time
}

// RateLimit is GitHub's answer to GET /rate_limit, for the health check.
type RateLimit struct {
	Core          Quota     // REST API (releases)
	GraphQL       Quota     // GraphQL API (tags); zero without a token
	Authenticated bool      // a token was sent
	Unlimited     bool      // GitHub Enterprise with rate limiting disabled
	BlockedUntil  time.Time // non-zero while this source holds back requests
}

// RateLimit asks GitHub for the current rate limits (GET /rate_limit, which
// GitHub does not count). It is never cached and never held back. A 401 means
// the token is wrong.
func (s *Source) RateLimit(ctx context.Context) (RateLimit, error) {
	rl := RateLimit{Authenticated: s.token != ""}
	s.mu.Lock()
	for _, t := range s.blocked {
		if s.now().Before(t) && t.After(rl.BlockedUntil) {
			rl.BlockedUntil = t
		}
	}
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/rate_limit", nil)
	if err != nil {
		return rl, fmt.Errorf("GitHub rate limit: %w", err)
	}
	s.setHeaders(req)
	resp, err := s.hc.Do(req)
	if err != nil {
		return rl, s.redact(fmt.Errorf("GitHub rate limit: GET %s: %w", req.URL.Path, sources.StripURL(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		// GitHub Enterprise answers 404 when rate limiting is disabled.
		rl.Unlimited = true
		return rl, nil
	}
	if resp.StatusCode != http.StatusOK {
		return rl, s.statusError("GitHub rate limit", req, resp)
	}
	type quota struct {
		Limit     int   `json:"limit"`
		Remaining int   `json:"remaining"`
		Used      int   `json:"used"`
		Reset     int64 `json:"reset"`
	}
	var body struct {
		Resources struct {
			Core    quota `json:"core"`
			GraphQL quota `json:"graphql"`
		} `json:"resources"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return rl, fmt.Errorf("GitHub rate limit: GET %s: the answer is not GitHub's rate-limit JSON", req.URL.Path)
	}
	conv := func(q quota) Quota {
		out := Quota{Limit: q.Limit, Remaining: q.Remaining, Used: q.Used}
		if q.Reset > 0 {
			out.Reset = time.Unix(q.Reset, 0).UTC()
		}
		return out
	}
	rl.Core, rl.GraphQL = conv(body.Resources.Core), conv(body.Resources.GraphQL)
	return rl, nil
}

// redact removes the token from an error's text; errors.Is and errors.As
// still see the original.
func (s *Source) redact(err error) error {
	if err == nil || s.token == "" || !strings.Contains(err.Error(), s.token) {
		return err
	}
	return &redactedError{msg: s.redactText(err.Error()), err: err}
}

// redactText removes the token from a text.
func (s *Source) redactText(text string) string {
	if s.token == "" {
		return text
	}
	return strings.ReplaceAll(text, s.token, "[redacted]")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
