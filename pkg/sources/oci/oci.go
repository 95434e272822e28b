// Package oci reads chart timelines from OCI registries (Docker Hub, GHCR,
// Quay, ECR Public, Harbor …), where `helm push` publishes charts:
// oci://HOST/PATH with chart NAME is the repository HOST/PATH/NAME, and each
// chart version is a tag.
//
// Per refresh: the tag list (GET /v2/NAME/tags/list, paginated); for each
// version tag not seen before, the tag's digest with HEAD (free on Docker
// Hub, where every manifest GET counts as a pull), the manifest by digest
// (its annotation org.opencontainers.image.created is the push time, written
// by `helm push` since Helm 3.13) and the config blob (Chart.yaml as JSON:
// version, appVersion, deprecated). Manifests and config blobs are
// content-addressed: they are verified against their digest, and what a
// version needs of them is kept as a small record by manifest digest (at
// most maxRecords in memory and, with Config.CacheDir, maxDiskRecords on
// disk), so a warm refresh of an unchanged chart costs the tag list and a
// few HEADs, and no manifest GET. At most Config.Budget manifest GETs are
// spent per chart and refresh, newest versions first; older ones are read on
// later refreshes and a notice says how many are missing. Of the tag list,
// which is streamed, only the newest keepVersions versions are kept.
package oci

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/registrylogin"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"golang.org/x/net/publicsuffix"
)

// Defaults and limits.
const (
	DefaultBudget    = 20               // manifest GETs per chart and refresh
	DefaultTimeout   = 60 * time.Second // one refresh of one chart
	maxManifestBytes = 4 << 20
	maxConfigBytes   = 1 << 20
	maxTagsBytes     = 4 << 20
	maxTokenBytes    = 64 << 10
	maxVersionLen    = 256            // version and appVersion of a chart config
	maxTokenLife     = 24 * time.Hour // a longer expires_in is read as this
	maxTagPages      = 50
	maxRetryAfter    = 6 * time.Hour
	// reserve is how many pulls of a registry's announced budget are left
	// alone, for the other users of the same address.
	reserve = 10
	// recheck is how many known tags, newest first, are resolved again
	// (HEAD) on every refresh, so that a republished version is seen.
	recheck = 5

	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.cncf.helm.config.v1+json"
	annoCreated   = "org.opencontainers.image.created"
)

// Credential is a registry login: basic auth to the registry's token realm,
// or to the registry itself when it asks for basic auth.
type Credential = registrylogin.Login

// Config configures a Source.
type Config struct {
	HTTPClient  *http.Client          // the shared allow-listed client; one with sources.CheckRedirect when nil
	Credentials map[string]Credential // registry host (lower case, with :port if any) -> login; anonymous otherwise
	CacheTTL    time.Duration         // how long a chart's versions are used without asking the registry
	Timeout     time.Duration         // one refresh of one chart; DefaultTimeout when 0
	Budget      int                   // manifest GETs per chart and refresh; DefaultBudget when 0
	CacheDir    string                // optional on-disk cache of what manifests and config blobs say, by digest
	AllowHost   func(host string)     // told about a token realm host before the first request to it
	Now         func() time.Time
	// CredentialsHint tells the user where registry credentials are set, in
	// the words of their surface ("OCI registry credentials in the
	// datasource settings" by default).
	CredentialsHint string
	// TokenHosts are the hosts (with :port if any) besides the registry's
	// own host and registrable domain that a registry may name as its token
	// realm.
	TokenHosts []string
	// TokenHostsHint tells the user where TokenHosts are set ("OCI token
	// hosts in the datasource settings" by default).
	TokenHostsHint string
}

// RegistryBudget is the pull budget a registry last announced
// (ratelimit-limit and ratelimit-remaining, as Docker Hub sends them).
type RegistryBudget struct {
	Host      string
	Limit     int           // 0 when unknown
	Remaining int           // valid when Limit > 0
	Window    time.Duration // from ";w=", 0 when unknown
	Seen      time.Time
}

// Source is a sources.ChartSource for OCI registries. Safe for concurrent use.
type Source struct {
	hc      *http.Client
	creds   map[string]Credential
	budget  int
	timeout time.Duration
	disk    *disk // nil without a cache directory
	allow   func(string)
	now     func() time.Time
	hint    string
	realms  map[string]bool // TokenHosts, lower case
	rhint   string
	cache   *cache.Cache[*chart]

	mu      sync.Mutex
	tokens  map[string]token          // host + " " + repository -> bearer token
	blocked map[string]time.Time      // host -> no requests before
	budgets map[string]RegistryBudget // host -> last announced budget
	records *records                  // manifest digest -> what it and its config say
	counts  Counts
}

// Counts are the requests a Source sent, for tests and the CLI. Redirected
// counts the manifests and blobs that came from another host than the
// registry's (a CDN).
type Counts struct{ Tags, Heads, Manifests, Blobs, Tokens, Redirected int }

var _ sources.ChartSource = (*Source)(nil)

type token struct {
	value   string
	expires time.Time
}

// chart is what one refresh knows of one chart.
type chart struct {
	digests  map[string]string               // tag -> manifest digest
	versions map[string]sources.ChartVersion // tag -> version read from its manifest and config
	missing  int                             // version tags not read yet (budget)
	undated  []string                        // versions whose manifest has no created annotation
	skipped  int                             // tags that are not versions
	examples []string                        // up to 3 of them
	dropped  int                             // versions older than the newest keepVersions
	oldest   string                          // the oldest version kept, when some were dropped
	capped   bool                            // the tag list was read up to maxTags only
}

// New returns a Source; it fails only when CacheDir cannot be created.
func New(cfg Config) (*Source, error) {
	s := &Source{
		hc: cfg.HTTPClient, creds: map[string]Credential{}, budget: cfg.Budget, timeout: cfg.Timeout,
		allow: cfg.AllowHost, now: cfg.Now, hint: cfg.CredentialsHint,
		realms: map[string]bool{}, rhint: cmp.Or(cfg.TokenHostsHint, "OCI token hosts in the datasource settings"),
		tokens: map[string]token{}, blocked: map[string]time.Time{}, budgets: map[string]RegistryBudget{}, records: newRecords(maxRecords),
	}
	for h, c := range cfg.Credentials {
		s.creds[strings.ToLower(h)] = c
	}
	for _, h := range cfg.TokenHosts {
		s.realms[strings.ToLower(h)] = true
	}
	if s.hc == nil {
		// not http.DefaultClient: its redirects keep Authorization for the
		// same host name on another port (a CDN beside the registry)
		s.hc = &http.Client{CheckRedirect: sources.CheckRedirect}
	}
	if s.budget <= 0 {
		s.budget = DefaultBudget
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.allow == nil {
		s.allow = func(string) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hint == "" {
		s.hint = "add them under OCI registry credentials in the datasource settings"
	}
	if cfg.CacheDir != "" {
		s.disk = &disk{dir: filepath.Join(cfg.CacheDir, recordsDir), max: maxDiskRecords}
		if err := os.MkdirAll(s.disk.dir, 0o700); err != nil {
			return nil, fmt.Errorf("OCI cache directory %q: %w", cfg.CacheDir, unwrapPath(err))
		}
		s.disk.mu.Lock()
		s.disk.prune()
		s.disk.mu.Unlock()
	}
	s.cache = cache.New[*chart](cache.Options{TTL: cfg.CacheTTL, FetchTimeout: s.timeout + time.Minute, Now: s.now})
	return s, nil
}

// IsOCI reports whether a chart repository is an OCI registry reference.
func IsOCI(repository string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(repository)), "oci://")
}

// ParseRef splits oci://HOST/PATH and a chart name into the registry host
// and the repository HOST/PATH/NAME names inside it (PATH/NAME), as
// `helm install oci://HOST/PATH/NAME` does.
func ParseRef(repository, name string) (host, repo string, err error) {
	u, err := url.Parse(strings.TrimSpace(repository))
	switch {
	case err != nil || !strings.EqualFold(u.Scheme, "oci") || u.Host == "":
		return "", "", fmt.Errorf("%s is not an oci://HOST/PATH reference", quote.Value(repository))
	case u.User != nil:
		return "", "", fmt.Errorf("%s holds credentials; give them in the settings, not in the catalog", quote.Value(u.Redacted()))
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Path, "@:"):
		return "", "", fmt.Errorf("%s must name a registry path without a tag, digest or query (the chart versions are the tags)", quote.Value(repository))
	case name == "" || strings.Contains(name, "/"):
		return "", "", fmt.Errorf("chart name %s must be one path segment", quote.Value(name))
	}
	host = strings.ToLower(u.Host)
	if host == "docker.io" || host == "index.docker.io" {
		host = "registry-1.docker.io"
	}
	path := strings.Trim(u.Path, "/")
	repo = name
	if path != "" {
		repo = path + "/" + name
	}
	if repo != strings.ToLower(repo) {
		return "", "", fmt.Errorf("OCI repository %s must be lower case", quote.Value(repo))
	}
	return host, repo, nil
}

// Ref is the reference of a chart for messages: oci://HOST/REPO.
func Ref(host, repo string) string { return "oci://" + host + "/" + repo }

// ChartVersions returns every version of the chart that has been read so
// far, newest first.
func (s *Source) ChartVersions(ctx context.Context, ref sources.ChartRef) ([]sources.ChartVersion, []sources.Notice, error) {
	host, repo, err := ParseRef(ref.Repository, ref.Name)
	if err != nil {
		return nil, nil, err
	}
	where := Ref(host, repo)
	res, err := s.cache.Get(ctx, host+"/"+repo, func(ctx context.Context, prev *cache.Entry[*chart]) (cache.Entry[*chart], error) {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		var old *chart
		if prev != nil {
			old = prev.Value
		}
		c, err := s.refresh(ctx, host, repo, old)
		if err != nil {
			return cache.Entry[*chart]{}, fmt.Errorf("%s: %w", where, err)
		}
		return cache.Entry[*chart]{Value: c}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	c := res.Value
	var notices []sources.Notice
	if res.Notice != "" {
		notices = append(notices, sources.Notice(where+": "+res.Notice))
	}
	if c.skipped > 0 {
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: %d tags are not chart versions (latest, digests, signatures, attestations) and were skipped: %s", where, c.skipped, quoted(c.examples, c.skipped))))
	}
	if c.capped {
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: the tag list was read up to %d tags and the rest was not read; newer versions may be missing", where, maxTags)))
	}
	if c.dropped > 0 {
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: %d older versions were left out: only the newest %d are kept, the oldest kept is %s", where, c.dropped, keepVersions, quote.Value(c.oldest))))
	}
	if c.missing > 0 {
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: history incomplete: %d of %d versions not read yet; up to %d are read per refresh, newest first, while the registry's pull budget lasts (the OCI manifest budget in the settings)", where, c.missing, c.missing+len(c.versions), s.budget)))
	}
	if len(c.undated) > 0 {
		sort.Strings(c.undated)
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: %d versions have no %s annotation (pushed before Helm 3.13 or by another tool): %s", where, len(c.undated), annoCreated, strings.Join(firstN(c.undated, 5), ", "))))
	}
	out := make([]sources.ChartVersion, 0, len(c.versions))
	for _, v := range c.versions {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[j].Version, out[i].Version) })
	return out, notices, nil
}

// quoted lists examples of count things, quoted, with "…" when there are more.
func quoted(examples []string, count int) string {
	q := make([]string, 0, len(examples)+1)
	for _, e := range examples {
		q = append(q, quote.Value(e))
	}
	if count > len(examples) {
		q = append(q, "…")
	}
	return strings.Join(q, ", ")
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return append(list[:n:n], "…")
	}
	return list
}

// versionOf reads a tag as a chart version: Helm writes "+" as "_" in tags.
func versionOf(tag string) (*semver.Version, bool) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(strings.ReplaceAll(tag, "_", "+"), "v"))
	return v, err == nil
}

func versionLess(a, b string) bool {
	va, okA := versionOf(a)
	vb, okB := versionOf(b)
	if okA && okB {
		return va.LessThan(vb)
	}
	return a < b
}

// refresh reads the tag list and the versions not known yet.
func (s *Source) refresh(ctx context.Context, host, repo string, prev *chart) (*chart, error) {
	l, err := s.listTags(ctx, host, repo)
	if err != nil {
		return nil, err
	}
	next := &chart{digests: map[string]string{}, versions: map[string]sources.ChartVersion{},
		skipped: l.skipped, examples: l.examples, dropped: l.dropped, capped: l.capped}
	if l.dropped > 0 {
		next.oldest = l.kept[0].tag
	}
	gets, rechecked := 0, 0
	for _, tv := range l.newestFirst() {
		known := prev != nil && prev.digests[tv.tag] != ""
		if known && rechecked >= recheck {
			next.digests[tv.tag], next.versions[tv.tag] = prev.digests[tv.tag], prev.versions[tv.tag]
			continue
		}
		if !known && (gets >= s.budget || s.nearlySpent(host)) {
			next.missing++
			continue
		}
		digest, err := s.resolve(ctx, host, repo, tv.tag)
		if err != nil {
			return nil, err
		}
		if known {
			rechecked++
			if digest == prev.digests[tv.tag] {
				next.digests[tv.tag], next.versions[tv.tag] = digest, prev.versions[tv.tag]
				continue
			}
		}
		if _, cached := s.record(digest); !cached {
			if gets >= s.budget || s.nearlySpent(host) {
				next.missing++
				continue
			}
			gets++
		}
		cv, dated, err := s.read(ctx, host, repo, tv.tag, digest)
		if err != nil {
			return nil, err
		}
		next.digests[tv.tag], next.versions[tv.tag] = digest, cv
		if !dated {
			next.undated = append(next.undated, tv.tag)
		}
	}
	if prev != nil {
		for _, t := range prev.undated {
			if _, ok := next.versions[t]; ok && !contains(next.undated, t) && next.versions[t].Created.IsZero() {
				next.undated = append(next.undated, t)
			}
		}
	}
	return next, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// nextLink is the rel="next" target of the Link header, resolved against
// the request ("" when none).
func nextLink(resp *http.Response) (string, error) {
	for _, part := range strings.Split(resp.Header.Get("Link"), ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			return "", fmt.Errorf("malformed Link header %s", quote.Value(resp.Header.Get("Link")))
		}
		u, err := resp.Request.URL.Parse(target[1 : len(target)-1])
		if err != nil || u.Host != resp.Request.URL.Host {
			return "", fmt.Errorf("the tag list's next page %s is not on the registry", quote.Value(target))
		}
		return u.String(), nil
	}
	return "", nil
}

// resolve gets a tag's manifest digest with HEAD (not counted as a pull).
func (s *Source) resolve(ctx context.Context, host, repo, tag string) (string, error) {
	resp, err := s.do(ctx, host, repo, http.MethodHead, fmt.Sprintf("%s/v2/%s/manifests/%s", s.base(host), repo, url.PathEscape(tag)), mediaManifest)
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", quote.Value(tag), err)
	}
	resp.Body.Close()
	s.count(func(c *Counts) { c.Heads++ })
	digest := resp.Header.Get("Docker-Content-Digest")
	if !validDigest(digest) {
		return "", fmt.Errorf("tag %s: the registry sent no valid Docker-Content-Digest", quote.Value(tag))
	}
	return digest, nil
}

func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

// Manifest is the part of an OCI image manifest a chart needs.
type Manifest struct {
	Config struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"config"`
	Annotations map[string]string `json:"annotations"`
}

// DecodeManifest reads an OCI manifest of a Helm chart.
func DecodeManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errors.New("the manifest is not OCI manifest JSON")
	}
	if m.Config.MediaType != mediaConfig {
		return m, fmt.Errorf("the manifest is not a Helm chart (config media type %s)", quote.Value(m.Config.MediaType))
	}
	if !validDigest(m.Config.Digest) {
		return m, fmt.Errorf("the manifest's config digest %s is not a sha256 digest", quote.Value(m.Config.Digest))
	}
	return m, nil
}

// HelmConfig is the part of a chart's config blob (its Chart.yaml as JSON)
// Lagwatch reads.
type HelmConfig struct {
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
	Deprecated bool   `json:"deprecated"`
	// Discovery metadata (lagwatch discover).
	Home        string            `json:"home"`
	Sources     []string          `json:"sources"`
	Annotations map[string]string `json:"annotations"`
}

// DecodeHelmConfig reads a Helm chart config blob.
func DecodeHelmConfig(b []byte) (HelmConfig, error) {
	var c HelmConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, errors.New("the chart config is not the JSON Helm writes (Chart.yaml as JSON)")
	}
	if len(c.Version) > maxVersionLen || len(c.AppVersion) > maxVersionLen {
		return c, fmt.Errorf("the chart config's version or appVersion is longer than %d characters", maxVersionLen)
	}
	return c, nil
}

// read turns a manifest digest into a chart version: its record, or the
// manifest (one counted GET) and its config blob.
func (s *Source) read(ctx context.Context, host, repo, tag, digest string) (sources.ChartVersion, bool, error) {
	r, ok := s.record(digest)
	if !ok {
		var err error
		if r, err = s.fetchRecord(ctx, host, repo, digest); err != nil {
			return sources.ChartVersion{}, false, fmt.Errorf("version %s: %w", quote.Value(tag), err)
		}
		s.keep(r)
	}
	return r.chartVersion(tag), r.Dated, nil
}

// fetchRecord reads a manifest and its config blob from the registry.
func (s *Source) fetchRecord(ctx context.Context, host, repo, digest string) (record, error) {
	mb, err := s.fetchBlob(ctx, host, repo, digest, "manifests", mediaManifest, maxManifestBytes)
	if err != nil {
		return record{}, err
	}
	m, err := DecodeManifest(mb)
	if err != nil {
		return record{}, err
	}
	cb, err := s.fetchBlob(ctx, host, repo, m.Config.Digest, "blobs", mediaConfig, maxConfigBytes)
	if err != nil {
		return record{}, err
	}
	hc, err := DecodeHelmConfig(cb)
	if err != nil {
		return record{}, err
	}
	return newRecord(digest, m, hc), nil
}

// fetchBlob returns content-addressed data (a manifest or a blob) from
// the registry, verified against its digest.
func (s *Source) fetchBlob(ctx context.Context, host, repo, digest, kind, accept string, limit int64) ([]byte, error) {
	// Content-addressed and read without the registry's credentials once
	// redirected: a redirect to a CDN host follows the public redirect rule.
	resp, err := s.do(sources.PublicContent(ctx), host, repo, http.MethodGet, fmt.Sprintf("%s/v2/%s/%s/%s", s.base(host), repo, kind, digest), accept)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	s.count(func(c *Counts) {
		if kind == "manifests" {
			c.Manifests++
		} else {
			c.Blobs++
		}
		if !strings.EqualFold(resp.Request.URL.Host, host) {
			c.Redirected++
		}
	})
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", kind, digest, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s is larger than %d KiB", kind, digest, limit>>10)
	}
	if sum := sha256.Sum256(b); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("the registry sent content that does not match its digest %s", digest)
	}
	return b, nil
}

// record returns what is known of a manifest digest, from memory or the
// disk cache.
func (s *Source) record(digest string) (record, bool) {
	s.mu.Lock()
	r, ok := s.records.get(digest)
	s.mu.Unlock()
	if ok || s.disk == nil || !validDigest(digest) {
		return r, ok
	}
	if r, ok = s.disk.get(digest); ok {
		s.mu.Lock()
		s.records.put(r)
		s.mu.Unlock()
	}
	return r, ok
}

// keep stores a record in memory and on disk.
func (s *Source) keep(r record) {
	s.mu.Lock()
	s.records.put(r)
	s.mu.Unlock()
	if s.disk != nil {
		s.disk.put(r)
	}
}

// base is the registry's URL: https, or http for a registry on the loopback
// interface (as Docker treats localhost registries).
func (s *Source) base(host string) string {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if ip := net.ParseIP(name); name == "localhost" || (ip != nil && ip.IsLoopback()) {
		return "http://" + host
	}
	return "https://" + host
}

// do sends one request to the registry, with a token (fetched on a 401
// challenge) or basic auth, and records the announced pull budget.
func (s *Source) do(ctx context.Context, host, repo, method, target, accept string) (*http.Response, error) {
	s.mu.Lock()
	until := s.blocked[host]
	s.mu.Unlock()
	if s.now().Before(until) {
		return nil, fmt.Errorf("registry %s asked for no requests until %s (HTTP 429)", host, until.UTC().Format(time.RFC3339))
	}
	tctx, origin := sources.Track(ctx)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(tctx, method, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", "lagwatch")
		s.authorize(req, host, repo)
		resp, err := s.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, sources.StripURL(err))
		}
		s.recordBudget(host, resp.Header)
		switch {
		case resp.StatusCode == http.StatusOK:
			return resp, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			challenge := resp.Header.Get("WWW-Authenticate")
			resp.Body.Close()
			if err := s.login(ctx, host, repo, challenge, origin); err != nil {
				return nil, err
			}
			continue
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			if _, ok := s.creds[host]; !ok {
				return nil, fmt.Errorf("registry %s needs credentials for %s: %s", host, repo, s.hint)
			}
			return nil, fmt.Errorf("registry %s refused the credentials for %s (HTTP %d)", host, repo, resp.StatusCode)
		case http.StatusNotFound:
			return nil, fmt.Errorf("%s %s: HTTP 404: no such chart or version in the registry", method, req.URL.Path)
		case http.StatusTooManyRequests:
			wait := time.Minute
			// ParseInt gives MaxInt64 for a number beyond it: blocked for the cap too
			if secs, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Retry-After")), 10, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && secs > 0 {
				// capped before multiplying: 1e10 seconds would overflow a Duration
				wait = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
			}
			s.mu.Lock()
			s.blocked[host] = s.now().Add(wait)
			s.mu.Unlock()
			return nil, fmt.Errorf("registry %s: too many requests (HTTP 429, pull limit); no requests until %s", host, s.now().Add(wait).UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%s %s: HTTP %d %s", method, req.URL.Path, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
}

// authorize sets a valid cached token, or basic auth for a registry that
// asked for it.
func (s *Source) authorize(req *http.Request, host, repo string) {
	s.mu.Lock()
	t, ok := s.tokens[host+" "+repo]
	s.mu.Unlock()
	switch {
	case ok && t.value == "basic":
		c := s.creds[host]
		req.SetBasicAuth(c.Username, c.Password)
	case ok && s.now().Before(t.expires):
		req.Header.Set("Authorization", "Bearer "+t.value)
	}
}

// login answers a 401 challenge: a bearer token from the realm it names
// (anonymous, or with the registry's credentials), or basic auth. The
// realm is confined (see realmAllowed) and dialled only to addresses the
// registry's own address may reach (origin); every way the token service
// fails gives the same message, so that a hostile registry cannot use the
// plugin to probe which internal ports are open.
func (s *Source) login(ctx context.Context, host, repo, challenge string, origin sources.Origin) error {
	scheme, params := parseChallenge(challenge)
	key := host + " " + repo
	switch scheme {
	case "basic":
		if _, ok := s.creds[host]; !ok {
			return fmt.Errorf("registry %s needs credentials for %s: %s", host, repo, s.hint)
		}
		s.mu.Lock()
		s.tokens[key] = token{value: "basic"}
		s.mu.Unlock()
		return nil
	case "bearer":
	default:
		return fmt.Errorf("registry %s answered 401 without a usable challenge", host)
	}
	realm, err := s.realmAllowed(host, params["realm"])
	if err != nil {
		return err
	}
	q := realm.Query()
	if params["service"] != "" {
		q.Set("service", params["service"])
	}
	q.Set("scope", "repository:"+repo+":pull")
	realm.RawQuery = q.Encode()
	s.allow(realm.Host)
	req, err := http.NewRequestWithContext(sources.Confine(ctx, origin), http.MethodGet, realm.String(), nil)
	if err != nil {
		return err
	}
	if c, ok := s.creds[host]; ok {
		req.SetBasicAuth(c.Username, c.Password)
	}
	// One message for every failure (refused, closed port, any status, any
	// answer): nothing tells an open port from a closed one.
	failed := fmt.Errorf("registry %s: its token service at %s did not issue a token for %s; if the chart is private, the registry needs credentials: %s", host, realm.Host, repo, s.hint)
	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failed
	}
	defer resp.Body.Close()
	s.count(func(c *Counts) { c.Tokens++ })
	if resp.StatusCode != http.StatusOK {
		return failed
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBytes+1))
	if err != nil || len(b) > maxTokenBytes {
		return failed
	}
	value, life, err := DecodeToken(b)
	if err != nil {
		return failed
	}
	t := token{value: value, expires: s.now().Add(life - 10*time.Second)}
	s.mu.Lock()
	s.tokens[key] = t
	s.mu.Unlock()
	return nil
}

// realmAllowed parses a challenge's realm and confines it: https (http
// only for a registry on loopback reached over http), on the registry's
// host, on its registrable domain (auth.docker.io for registry-1.docker.io),
// or a host named in the settings (Config.TokenHosts).
func (s *Source) realmAllowed(host, raw string) (*url.URL, error) {
	realm, err := url.Parse(raw)
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") || realm.Host == "" || realm.User != nil {
		return nil, fmt.Errorf("registry %s names a token service %s that is not an http(s) URL", host, quote.Value(raw))
	}
	if realm.Scheme == "http" && !strings.HasPrefix(s.base(host), "http://") {
		return nil, fmt.Errorf("registry %s names a token service over plain http (%s); only https is used", host, quote.Value(realm.Redacted()))
	}
	regName := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		regName = h
	}
	name := strings.ToLower(realm.Hostname())
	if name == regName || s.realms[strings.ToLower(realm.Host)] || s.realms[name] || sameDomain(name, regName) {
		return realm, nil
	}
	return nil, fmt.Errorf("registry %s names a token service on %s, which is neither its host nor on its domain; if you trust it, add %s to %s",
		host, quote.Value(realm.Host), quote.Value(realm.Host), s.rhint)
}

// sameDomain reports whether two host names share their registrable domain
// (eTLD+1 by the public suffix list). Addresses have none.
func sameDomain(a, b string) bool {
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return false
	}
	da, errA := publicsuffix.EffectiveTLDPlusOne(a)
	db, errB := publicsuffix.EffectiveTLDPlusOne(b)
	return errA == nil && errB == nil && da == db
}

// DecodeToken reads a token service's answer by the exact field names of
// the token protocol ("token", or OAuth2's "access_token", and
// "expires_in"): Go's case-insensitive decoding would take a cloud metadata
// service's "Token" for one. The token must be printable ASCII without
// spaces; its life is at least 60 s (the protocol's default) and at most
// maxTokenLife.
func DecodeToken(b []byte) (string, time.Duration, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return "", 0, errors.New("the answer is not a JSON object")
	}
	var value string
	for _, k := range []string{"token", "access_token"} {
		if raw, ok := fields[k]; ok && value == "" {
			if err := json.Unmarshal(raw, &value); err != nil {
				return "", 0, fmt.Errorf("%s is not a string", k)
			}
		}
	}
	if value == "" {
		return "", 0, errors.New("no token")
	}
	for i := 0; i < len(value); i++ {
		if value[i] <= ' ' || value[i] >= 0x7f {
			return "", 0, errors.New("the token is not printable ASCII")
		}
	}
	life := time.Minute
	if raw, ok := fields["expires_in"]; ok {
		var secs float64
		if err := json.Unmarshal(raw, &secs); err != nil {
			return "", 0, errors.New("expires_in is not a number")
		}
		secs = min(max(secs, time.Minute.Seconds()), maxTokenLife.Seconds()) // clamped before converting
		life = time.Duration(secs * float64(time.Second))
	}
	return value, life, nil
}

// parseChallenge reads `Bearer realm="…",service="…"` (scheme in lower case).
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				break
			}
			v, rest = after[1:end+1], after[end+2:]
		} else {
			v, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
		rest = strings.TrimLeft(strings.TrimSpace(rest), ",")
		rest = strings.TrimSpace(rest)
	}
	return strings.ToLower(scheme), params
}

// recordBudget keeps ratelimit-limit / ratelimit-remaining ("100;w=21600").
func (s *Source) recordBudget(host string, h http.Header) {
	limit, window := parseLimit(h.Get("RateLimit-Limit"))
	if limit == 0 {
		return
	}
	remaining, _ := parseLimit(h.Get("RateLimit-Remaining"))
	s.mu.Lock()
	s.budgets[host] = RegistryBudget{Host: host, Limit: limit, Remaining: remaining, Window: window, Seen: s.now()}
	s.mu.Unlock()
}

func parseLimit(v string) (int, time.Duration) {
	n, params, _ := strings.Cut(v, ";")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 0 {
		return 0, 0
	}
	var window time.Duration
	if w, ok := strings.CutPrefix(strings.TrimSpace(params), "w="); ok {
		if secs, err := strconv.Atoi(w); err == nil {
			window = time.Duration(secs) * time.Second
		}
	}
	return count, window
}

// nearlySpent reports whether the registry announced that at most reserve
// pulls are left: manifests are then read on a later refresh.
func (s *Source) nearlySpent(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.budgets[host]
	return ok && b.Limit > 0 && b.Remaining <= reserve
}

// Budgets returns the pull budget each registry last announced, by host.
func (s *Source) Budgets() []RegistryBudget {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RegistryBudget, 0, len(s.budgets))
	for _, b := range s.budgets {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// Counts returns the requests sent so far.
func (s *Source) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

func (s *Source) count(f func(*Counts)) {
	s.mu.Lock()
	f(&s.counts)
	s.mu.Unlock()
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseTokenHosts reads the hosts that registries may name as their token
// realm besides their own host and registrable domain: host names or
// host:port, separated by commas or spaces. where names the setting in the
// user's words for the errors.
func ParseTokenHosts(text, where string) ([]string, error) {
	var out []string
	for _, h := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		u, err := url.Parse("https://" + h)
		if err != nil || u.Host != h || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
			(u.Port() != "" && strings.Trim(u.Port(), "0123456789") != "") {
			return nil, fmt.Errorf("%s: %s is not a host name or HOST:PORT", where, quote.Value(h))
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil && (ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast()) {
			return nil, fmt.Errorf("%s: %s is a link-local or non-unicast address, never a token service", where, quote.Value(h))
		}
		out = append(out, strings.ToLower(h))
	}
	return out, nil
}
