// Package helm reads chart timelines from HTTP Helm repositories
// (<repository>/index.yaml).
//
// Large indexes (Bitnami ~15 MB, TrueCharts ~50 MB) make Helm's own loader
// need gigabytes, so the index is streamed line by line and only the blocks of
// the charts Lagwatch watches are decoded (see ParseIndex). One download
// serves every watched chart of a repository: the source knows, from
// Config.Charts and from the calls it has seen, which chart names matter for
// each repository and parses all of them in one pass. Results are cached
// (pkg/cache) per repository and name set, revalidated with
// If-None-Match/If-Modified-Since, and served stale with a notice when the
// repository fails.
package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Defaults of Config.
const (
	DefaultMaxIndexBytes = 100 << 20
	DefaultTimeout       = 60 * time.Second
)

// Config configures a Source.
type Config struct {
	// HTTPClient sends the requests (http.DefaultClient when nil). In the
	// plugin, give it a sources.AllowHosts transport.
	HTTPClient *http.Client
	// CacheTTL is how long a parsed index is used without asking the repository.
	CacheTTL time.Duration
	// MaxIndexBytes is the largest index.yaml read (DefaultMaxIndexBytes when 0).
	MaxIndexBytes int64
	// Timeout bounds downloading and parsing one index (DefaultTimeout when 0).
	Timeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Charts are the charts known up front (the catalog's); each repository's
	// index is parsed once for all of its charts. Charts asked for later are
	// added, which costs one more full download of that index.
	Charts []sources.ChartRef
}

// Source is a sources.ChartSource for HTTP Helm repositories. It is safe for
// concurrent use.
type Source struct {
	hc      *http.Client
	limit   int64
	timeout time.Duration
	cache   *cache.Cache[*index]

	mu      sync.Mutex
	wanted  map[string]map[string]bool // index URL -> chart names
	lastKey map[string]string          // index URL -> cache key last served

	parses atomic.Int64 // index bodies parsed (tests check that a 304 parses nothing)
}

var _ sources.ChartSource = (*Source)(nil)

// index is the parsed subset of one repository index.
type index struct {
	url    string // index URL, redacted, for messages
	charts Charts
}

// New returns a Source.
func New(cfg Config) *Source {
	s := &Source{
		hc:      cfg.HTTPClient,
		limit:   cfg.MaxIndexBytes,
		timeout: cfg.Timeout,
		wanted:  map[string]map[string]bool{},
		lastKey: map[string]string{},
	}
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	if s.limit <= 0 {
		s.limit = DefaultMaxIndexBytes
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	// The cache's fetch timeout is a backstop; fetchIndex applies s.timeout.
	s.cache = cache.New[*index](cache.Options{TTL: cfg.CacheTTL, FetchTimeout: s.timeout + time.Minute, Now: cfg.Now})
	for _, ref := range cfg.Charts {
		if u, err := IndexURL(ref.Repository); err == nil && ref.Name != "" {
			s.want(u.String(), ref.Name)
		}
	}
	return s
}

// IndexURL is the index.yaml URL of a repository URL (a trailing slash is
// ignored; a query string is kept).
func IndexURL(repository string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(repository))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chart repository %q is not an http(s) URL", repository)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/index.yaml"
	u.RawPath = ""
	u.Fragment = ""
	return u, nil
}

// want registers name for the index and returns every wanted name, sorted.
func (s *Source) want(indexURL, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.wanted[indexURL]
	if set == nil {
		set = map[string]bool{}
		s.wanted[indexURL] = set
	}
	set[name] = true
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ChartVersions returns every version of ref.Name in ref.Repository, in index order.
func (s *Source) ChartVersions(ctx context.Context, ref sources.ChartRef) ([]sources.ChartVersion, []sources.Notice, error) {
	u, err := IndexURL(ref.Repository)
	if err != nil {
		return nil, nil, err
	}
	if ref.Name == "" {
		return nil, nil, fmt.Errorf("chart in %s: no chart name", u.Redacted())
	}
	indexURL := u.String()
	names := s.want(indexURL, ref.Name)
	// The name set is part of the key: a new chart name in a repository makes
	// a new entry, parsed for all names at once.
	key := indexURL + "\n" + strings.Join(names, "\n")
	res, err := s.cache.Get(ctx, key, func(ctx context.Context, prev *cache.Entry[*index]) (cache.Entry[*index], error) {
		return s.fetchIndex(ctx, u, names, prev)
	})
	if err != nil {
		// A new name set has no previous entry to fall back on; the entry of
		// the set served before may still hold this chart.
		s.mu.Lock()
		old := s.lastKey[indexURL]
		s.mu.Unlock()
		if old == "" || old == key {
			return nil, nil, err
		}
		fetchErr := err
		res, err = s.cache.Get(ctx, old, func(context.Context, *cache.Entry[*index]) (cache.Entry[*index], error) {
			return cache.Entry[*index]{}, fetchErr
		})
		if err != nil {
			return nil, nil, fetchErr
		}
		if _, ok := res.Value.charts[ref.Name]; !ok {
			return nil, nil, fetchErr
		}
		if res.Notice == "" {
			res.Notice = fmt.Sprintf("serving data fetched at %s; refresh failed: %v", res.FetchedAt.UTC().Format(time.RFC3339), fetchErr)
		}
	} else {
		s.retire(indexURL, key)
	}
	var notices []sources.Notice
	if res.Notice != "" {
		notices = append(notices, sources.Notice(fmt.Sprintf("chart %s from %s: %s", ref.Name, res.Value.url, res.Notice)))
	}
	versions, ok := res.Value.charts[ref.Name]
	if !ok {
		return nil, notices, fmt.Errorf("chart %s not found in %s", ref.Name, res.Value.url)
	}
	return slices.Clone(versions), notices, nil
}

// retire drops the entry of a smaller name set once a larger one is served.
func (s *Source) retire(indexURL, key string) {
	s.mu.Lock()
	old := s.lastKey[indexURL]
	if len(key) < len(old) {
		s.mu.Unlock()
		return
	}
	s.lastKey[indexURL] = key
	s.mu.Unlock()
	if old != "" && old != key {
		s.cache.Delete(old)
	}
}

// fetchIndex downloads (or revalidates) one index and parses the named charts.
func (s *Source) fetchIndex(ctx context.Context, u *url.URL, names []string, prev *cache.Entry[*index]) (cache.Entry[*index], error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	where := u.Redacted()
	resp, err := s.get(ctx, u, prev)
	if err != nil {
		return cache.Entry[*index]{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && prev != nil {
		return *prev, nil
	}
	out := cache.Entry[*index]{
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
	}
	charts, err := s.parse(ctx, resp, where, names, ParseIndex)
	if errors.Is(err, ErrNeedFullDecode) {
		// Rare: a layout that cannot be streamed after all. Read it again whole.
		resp2, err2 := s.get(ctx, u, nil)
		if err2 != nil {
			return out, err2
		}
		defer resp2.Body.Close()
		out.ETag, out.LastModified = resp2.Header.Get("ETag"), resp2.Header.Get("Last-Modified")
		charts, err = s.parse(ctx, resp2, where, names, DecodeIndex)
	}
	if err != nil {
		return out, err
	}
	out.Value = &index{url: where, charts: charts}
	return out, nil
}

// get sends a GET, conditional when prev is given, and checks the status.
func (s *Source) get(ctx context.Context, u *url.URL, prev *cache.Entry[*index]) (*http.Response, error) {
	where := u.Redacted()
	// An index is public content: a redirect to another host (a CDN, a
	// moved GitHub Pages site) follows the public redirect rule.
	req, err := http.NewRequestWithContext(sources.PublicContent(ctx), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", where, err)
	}
	req.Header.Set("User-Agent", "lagwatch")
	req.Header.Set("Accept", "application/x-yaml, text/yaml, */*")
	prev.Condition(req)
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", where, sources.StripURL(err))
	}
	if resp.StatusCode == http.StatusOK || (resp.StatusCode == http.StatusNotModified && prev != nil) {
		return resp, nil
	}
	resp.Body.Close()
	return nil, fmt.Errorf("GET %s: HTTP %d %s", where, resp.StatusCode, http.StatusText(resp.StatusCode))
}

// parse runs parseFn over the body under the size limit; it stops when ctx
// ends.
func (s *Source) parse(ctx context.Context, resp *http.Response, where string, names []string, parseFn func(io.Reader, []string) (Charts, error)) (Charts, error) {
	tooLarge := &TooLargeError{URL: where, Limit: s.limit}
	if resp.ContentLength > s.limit {
		return nil, tooLarge
	}
	body := &limitReader{r: ctxReader{ctx: ctx, r: resp.Body}, remaining: s.limit}
	s.parses.Add(1)
	charts, err := parseFn(body, names)
	switch {
	case body.exceeded:
		return nil, tooLarge // whatever the parser made of the cut-off input
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: reading the index took longer than the request timeout (%s, in the datasource settings)", where, s.timeout)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%s: the connection closed before the whole index arrived", where)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return charts, nil
}

// ctxReader fails reads once ctx has ended, so that parsing a slow or huge
// body stops with the caller's deadline.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// TooLargeError is returned for an index larger than the configured limit.
type TooLargeError struct {
	URL   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	limit := fmt.Sprintf("%d bytes", e.Limit)
	if e.Limit%(1<<20) == 0 {
		limit = fmt.Sprintf("%d MB", e.Limit>>20)
	}
	return fmt.Sprintf("%s is larger than the limit of %s (raise the index size limit in the datasource settings)", e.URL, limit)
}

// limitReader reads at most remaining bytes and fails, remembering it, when
// the underlying reader has more. It does not trust Content-Length.
type limitReader struct {
	r         io.Reader
	remaining int64
	exceeded  bool
}

var errLimit = errors.New("size limit exceeded")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errLimit
	}
	if l.remaining <= 0 {
		var one [1]byte
		for {
			n, err := l.r.Read(one[:])
			if n > 0 {
				l.exceeded = true
				return 0, errLimit
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.r.Read(p)
	l.remaining -= int64(n)
	return n, err
}
