// Package eol reads release cycles and their end-of-life dates from
// endoflife.date's API v1 (GET /api/v1/products/{product}/, a
// ProductResponse). Answers change slowly: each product is cached for hours
// (pkg/cache), revalidated with its ETag or Last-Modified, shared across
// queries, and served stale with a notice when a refresh fails.
package eol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// DefaultURL is endoflife.date.
const DefaultURL = "https://endoflife.date"

// ErrNoProduct is in the error of Cycles when endoflife.date has no such
// product (HTTP 404); errors.Is finds it.
var ErrNoProduct = errors.New("no such product on endoflife.date")

// DefaultCacheTTL is how long a product is served without asking again.
const DefaultCacheTTL = 12 * time.Hour

// MaxBytes bounds one answer (the largest product of endoflife.date, with
// hundreds of cycles, is ~300 KB).
const MaxBytes = 4 << 20

// Config configures a Source.
type Config struct {
	// BaseURL is where endoflife.date is (DefaultURL when ""); the API is
	// below it at /api/v1.
	BaseURL string
	// HTTPClient sends the requests (http.DefaultClient when nil).
	HTTPClient *http.Client
	CacheTTL   time.Duration    // DefaultCacheTTL when 0
	Now        func() time.Time // time.Now when nil
	// URLHint tells the user where the URL is set, in the words of their
	// surface ("jsonData.eolUrl in the datasource settings", "--eol-url").
	URLHint string
}

// Source is a sources.EOLSource. It is safe for concurrent use.
type Source struct {
	base  *url.URL
	hc    *http.Client
	hint  string
	cache *cache.Cache[product]
}

var _ sources.EOLSource = (*Source)(nil)

type product struct {
	cycles  []sources.EOLCycle
	notices []sources.Notice
}

// New returns a Source; it fails only on an unusable base URL.
func New(cfg Config) (*Source, error) {
	raw := strings.TrimRight(cfg.BaseURL, "/")
	if raw == "" {
		raw = DefaultURL
	}
	hint := cfg.URLHint
	if hint == "" {
		hint = "the endoflife.date URL"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%s: %s is not an http(s) URL without credentials", hint, quote.Value(cfg.BaseURL))
	}
	s := &Source{base: u, hc: cfg.HTTPClient, hint: hint}
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	s.cache = cache.New[product](cache.Options{TTL: ttl, Now: cfg.Now})
	return s, nil
}

// SetClient sets the HTTP client (the sources' shared one, whose transport
// holds the allow-list); for building the source before the client.
func (s *Source) SetClient(c *http.Client) { s.hc = c }

// Host is the host the source reads from (for the allow-list).
func (s *Source) Host() string { return s.base.Host }

var productRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)

// ValidProduct reports whether name can be an endoflife.date product name.
func ValidProduct(name string) bool { return len(name) <= 100 && productRe.MatchString(name) }

// Cycles returns the release cycles of product.
func (s *Source) Cycles(ctx context.Context, name string) ([]sources.EOLCycle, []sources.Notice, error) {
	if !ValidProduct(name) {
		return nil, nil, fmt.Errorf("endoflife.date product %s is not a product name (lower-case letters, digits, '.', '_', '+', '-')", quote.Value(name))
	}
	res, err := s.cache.Get(ctx, name, func(ctx context.Context, prev *cache.Entry[product]) (cache.Entry[product], error) {
		return s.fetch(ctx, name, prev)
	})
	if err != nil {
		return nil, nil, err
	}
	notices := slices.Clone(res.Value.notices)
	if res.Notice != "" {
		notices = append(notices, sources.Notice(fmt.Sprintf("endoflife.date product %s: %s", name, res.Notice)))
	}
	return slices.Clone(res.Value.cycles), notices, nil
}

func (s *Source) fetch(ctx context.Context, name string, prev *cache.Entry[product]) (cache.Entry[product], error) {
	u := s.base.JoinPath("api", "v1", "products", name) // JoinPath escapes
	u.Path += "/"
	what := "endoflife.date product " + quote.Value(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return cache.Entry[product]{}, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lagwatch")
	prev.Condition(req)
	resp, err := s.hc.Do(req)
	if err != nil {
		return cache.Entry[product]{}, fmt.Errorf("%s: GET %s: %w (set by %s)", what, u.Redacted(), sources.StripURL(err), s.hint)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		return *prev, nil
	case resp.StatusCode == http.StatusNotFound:
		return cache.Entry[product]{}, fmt.Errorf("%s: not found at %s (HTTP 404): %w", what, u.Redacted(), ErrNoProduct)
	case resp.StatusCode != http.StatusOK:
		return cache.Entry[product]{}, fmt.Errorf("%s: GET %s: HTTP %d", what, u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
	if err != nil {
		return cache.Entry[product]{}, fmt.Errorf("%s: GET %s: %w", what, u.Redacted(), err)
	}
	if len(body) > MaxBytes {
		return cache.Entry[product]{}, fmt.Errorf("%s: the answer of %s is larger than %d MB, more than any endoflife.date product", what, u.Redacted(), MaxBytes>>20)
	}
	cycles, notes, err := DecodeProduct(body)
	if err != nil {
		return cache.Entry[product]{}, fmt.Errorf("%s: GET %s: %w", what, u.Redacted(), err)
	}
	out := cache.Entry[product]{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	out.Value.cycles = cycles
	out.Value.notices = sources.OneNotice(what, notes)
	return out, nil
}

type productJSON struct {
	Result *struct {
		Name     string `json:"name"`
		Releases []struct {
			Name    *string `json:"name"`
			IsEol   bool    `json:"isEol"`
			EolFrom *string `json:"eolFrom"`
		} `json:"releases"`
	} `json:"result"`
}

// DecodeProduct reads a ProductResponse. A cycle whose eolFrom is not a
// date (YYYY-MM-DD) is kept without a date, with a notice naming the cycle
// and the value; the answer fails only when it is not a ProductResponse.
func DecodeProduct(body []byte) ([]sources.EOLCycle, []string, error) {
	var p productJSON
	if err := json.Unmarshal(body, &p); err != nil || p.Result == nil {
		return nil, nil, errors.New("the answer is not an endoflife.date API v1 product (ProductResponse JSON)")
	}
	out := make([]sources.EOLCycle, 0, len(p.Result.Releases))
	var notices []string
	for _, r := range p.Result.Releases {
		if r.Name == nil || strings.TrimSpace(*r.Name) == "" {
			notices = append(notices, "a release cycle without a name; left out")
			continue
		}
		c := sources.EOLCycle{Name: *r.Name, IsEOL: r.IsEol}
		if r.EolFrom != nil {
			d, err := time.Parse(time.DateOnly, *r.EolFrom)
			if err != nil || d.Year() < 1970 || d.Year() > 9999 {
				notices = append(notices, fmt.Sprintf("cycle %s: eolFrom %s is not a date (YYYY-MM-DD); its end of life is unknown", quote.Value(*r.Name), quote.Value(*r.EolFrom)))
			} else {
				c.EOL = d
			}
		}
		out = append(out, c)
	}
	return out, notices, nil
}
