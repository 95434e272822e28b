package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Advisories come from GitHub's global advisory database on the same API
// (GET /advisories?ecosystem=E&affects=PACKAGE, cursor pagination through
// Link headers), with the same token, rate limits and allow-list as releases.
// They change slowly: each package's list is cached for AdvisoryCacheTTL and
// revalidated with its ETag.

// DefaultAdvisoryCacheTTL is how long a package's advisories are served
// without asking GitHub, when Config.AdvisoryCacheTTL is 0.
const DefaultAdvisoryCacheTTL = 6 * time.Hour

// MaxAdvisoryPageBytes bounds one page of /advisories (100 advisories of
// GitHub's real shape are ~0.5 MB; descriptions are the bulk).
const MaxAdvisoryPageBytes = 8 << 20

// maxAdvisoryPages bounds the pages read for one package.
const maxAdvisoryPages = 20

var _ sources.AdvisorySource = (*Source)(nil)

type advisoryList struct {
	advisories []sources.Advisory
	notices    []sources.Notice
}

// Ecosystems GitHub's advisory database knows (the ecosystem parameter).
var Ecosystems = []string{"actions", "composer", "erlang", "go", "maven", "npm", "nuget", "other", "pip", "pub", "rubygems", "rust", "swift"}

// Advisories returns the advisories that affect any of ref's packages,
// withdrawn ones left out, each once (an advisory naming two of the packages
// is returned once, with both).
func (s *Source) Advisories(ctx context.Context, ref sources.AdvisoryRef) ([]sources.Advisory, []sources.Notice, error) {
	eco := strings.ToLower(strings.TrimSpace(ref.Ecosystem))
	if !slices.Contains(Ecosystems, eco) {
		return nil, nil, fmt.Errorf("advisories: ecosystem %s is not one of GitHub's (%s)", quote.Value(ref.Ecosystem), strings.Join(Ecosystems, ", "))
	}
	byID := map[string]int{}
	var out []sources.Advisory
	var notices []sources.Notice
	for _, pkg := range ref.Packages {
		key := "advisories:" + eco + ":" + pkg
		res, err := s.advisoryCache().Get(ctx, key, func(ctx context.Context, prev *cache.Entry[advisoryList]) (cache.Entry[advisoryList], error) {
			e, err := s.fetchAdvisories(ctx, eco, pkg, prev)
			return e, s.redact(err)
		})
		if err != nil {
			return nil, nil, err
		}
		notices = append(notices, res.Value.notices...)
		if res.Notice != "" {
			notices = append(notices, sources.Notice(fmt.Sprintf("advisories of %s: %s", pkg, res.Notice)))
		}
		for _, a := range res.Value.advisories {
			// Only the ranges of the named packages in this ecosystem: an
			// advisory may also name other packages, or a package of the
			// same name in another ecosystem (npm and pip both have "foo").
			a.Vulnerabilities = slices.DeleteFunc(slices.Clone(a.Vulnerabilities), func(v sources.AdvisoryVulnerability) bool {
				return !slices.Contains(ref.Packages, v.Package) || !strings.EqualFold(v.Ecosystem, eco)
			})
			if i, ok := byID[a.ID]; ok {
				for _, v := range a.Vulnerabilities {
					if !slices.Contains(out[i].Vulnerabilities, v) {
						out[i].Vulnerabilities = append(out[i].Vulnerabilities, v)
					}
				}
				continue
			}
			byID[a.ID] = len(out)
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.After(out[j].Published) })
	return out, notices, nil
}

func (s *Source) advisoryCache() *cache.Cache[advisoryList] {
	s.advOnce.Do(func() {
		ttl := s.advTTL
		if ttl == 0 {
			ttl = DefaultAdvisoryCacheTTL
		}
		s.advCache = cache.New[advisoryList](cache.Options{TTL: ttl, Now: s.now})
	})
	return s.advCache
}

// fetchAdvisories reads every page of one package's advisories. Page 1 is
// asked with prev's ETag: a 304 keeps prev.
func (s *Source) fetchAdvisories(ctx context.Context, eco, pkg string, prev *cache.Entry[advisoryList]) (cache.Entry[advisoryList], error) {
	return s.fetchAdvisoryPages(ctx, eco, pkg, 100, prev)
}

func (s *Source) fetchAdvisoryPages(ctx context.Context, eco, pkg string, perPage int, prev *cache.Entry[advisoryList]) (cache.Entry[advisoryList], error) {
	q := url.Values{"ecosystem": {eco}, "affects": {pkg}, "per_page": {strconv.Itoa(perPage)}}
	what := "advisories of " + pkg
	var out cache.Entry[advisoryList]
	var problems []string
	w, err := walkList(ctx, s, s.base+"/advisories?"+q.Encode(), what, what, "first", maxAdvisoryPages, prev, func(_ int, resp *http.Response) (bool, error) {
		c := &capped{r: resp.Body, n: MaxAdvisoryPageBytes}
		items, notes, err := DecodeAdvisoriesPage(c)
		if err != nil && c.hit {
			err = fmt.Errorf("the answer is larger than %d MB, more than any page of advisories", MaxAdvisoryPageBytes>>20)
		}
		if err != nil {
			return true, err
		}
		problems = append(problems, notes...)
		for _, a := range items {
			if a.withdrawn {
				continue // withdrawn advisories are ignored (lag-metrics.md)
			}
			out.Value.advisories = append(out.Value.advisories, a.Advisory)
		}
		return false, nil
	})
	switch {
	case err != nil:
		return out, err
	case w.notModified:
		return *prev, nil
	}
	out.ETag, out.LastModified = w.etag, w.lastModified
	out.Value.notices = append(append(out.Value.notices, w.notices...), sources.OneNotice(what, problems)...)
	return out, nil
}

// PageAdvisory is one advisory of a page as decoded.
type PageAdvisory struct {
	sources.Advisory
	withdrawn bool
}

// Withdrawn reports whether GitHub withdrew the advisory.
func (a PageAdvisory) Withdrawn() bool { return a.withdrawn }

type advisoryJSON struct {
	GHSAID          string  `json:"ghsa_id"`
	CVEID           *string `json:"cve_id"`
	Severity        string  `json:"severity"`
	PublishedAt     *string `json:"published_at"`
	WithdrawnAt     *string `json:"withdrawn_at"`
	Vulnerabilities []struct {
		Package *struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		VulnerableVersionRange *string `json:"vulnerable_version_range"`
		FirstPatchedVersion    *string `json:"first_patched_version"`
	} `json:"vulnerabilities"`
}

// DecodeAdvisoriesPage reads one page of GET /advisories. An advisory with
// no id or whose published_at is not an RFC 3339 time is left out with a
// notice naming it; the page fails only when it is not the JSON list GitHub
// sends.
func DecodeAdvisoriesPage(r io.Reader) ([]PageAdvisory, []string, error) {
	var items []advisoryJSON
	if err := json.NewDecoder(r).Decode(&items); err != nil {
		return nil, nil, errors.New("the answer is not the JSON list of advisories GitHub sends")
	}
	out := make([]PageAdvisory, 0, len(items))
	var notices []string
	for _, it := range items {
		if it.GHSAID == "" {
			notices = append(notices, "an advisory without ghsa_id; left out")
			continue
		}
		id := quote.Value(it.GHSAID)
		if it.PublishedAt == nil {
			notices = append(notices, fmt.Sprintf("advisory %s has no published_at; left out", id))
			continue
		}
		pub, err := time.Parse(time.RFC3339, *it.PublishedAt)
		if err != nil || pub.Year() < 1990 {
			notices = append(notices, fmt.Sprintf("advisory %s: published_at %s is not a plausible RFC 3339 time; left out", id, quote.Value(*it.PublishedAt)))
			continue
		}
		a := PageAdvisory{Advisory: sources.Advisory{ID: it.GHSAID, Severity: it.Severity, Published: pub.UTC()}}
		if it.CVEID != nil {
			a.CVE = *it.CVEID
		}
		a.withdrawn = it.WithdrawnAt != nil && *it.WithdrawnAt != ""
		for _, v := range it.Vulnerabilities {
			if v.Package == nil || v.VulnerableVersionRange == nil {
				continue
			}
			av := sources.AdvisoryVulnerability{Ecosystem: v.Package.Ecosystem, Package: v.Package.Name, Range: *v.VulnerableVersionRange}
			if v.FirstPatchedVersion != nil {
				av.Patched = *v.FirstPatchedVersion
			}
			a.Vulnerabilities = append(a.Vulnerabilities, av)
		}
		out = append(out, a)
	}
	return out, notices, nil
}
