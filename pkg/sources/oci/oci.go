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
// content-addressed: they are verified against their digest and kept for the
// life of the source (and, with Config.CacheDir, on disk), so a warm refresh
// of an unchanged chart costs the tag list and a few HEADs, and no manifest
// GET. At most Config.Budget manifest GETs are spent per chart and refresh,
// newest versions first; older ones are read on later refreshes and a notice
// says how many are missing.
package oci

import (
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
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Defaults and limits.
const (
	DefaultBudget    = 20               // manifest GETs per chart and refresh
	DefaultTimeout   = 60 * time.Second // one refresh of one chart
	maxManifestBytes = 4 << 20
	maxConfigBytes   = 1 << 20
	maxTagsBytes     = 4 << 20
	maxTokenBytes    = 64 << 10
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
type Credential struct{ Username, Password string }

// Config configures a Source.
type Config struct {
	HTTPClient  *http.Client          // the shared allow-listed client; http.DefaultClient when nil
	Credentials map[string]Credential // registry host (lower case, with :port if any) -> login; anonymous otherwise
	CacheTTL    time.Duration         // how long a chart's versions are used without asking the registry
	Timeout     time.Duration         // one refresh of one chart; DefaultTimeout when 0
	Budget      int                   // manifest GETs per chart and refresh; DefaultBudget when 0
	CacheDir    string                // optional on-disk cache of manifests and config blobs, by digest
	AllowHost   func(host string)     // told about a token realm host before the first request to it
	Now         func() time.Time
	// CredentialsHint tells the user where registry credentials are set, in
	// the words of their surface ("OCI registry credentials in the
	// datasource settings" by default).
	CredentialsHint string
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
	dir     string
	allow   func(string)
	now     func() time.Time
	hint    string
	cache   *cache.Cache[*chart]

	mu      sync.Mutex
	tokens  map[string]token          // host + " " + repository -> bearer token
	blocked map[string]time.Time      // host -> no requests before
	budgets map[string]RegistryBudget // host -> last announced budget
	blobs   map[string][]byte         // digest -> verified content
	counts  Counts
}

// Counts are the requests a Source sent, for tests and the CLI.
type Counts struct{ Tags, Heads, Manifests, Blobs, Tokens int }

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
	skipped  int                             // tags that are not versions
	undated  []string                        // versions whose manifest has no created annotation
}

// New returns a Source; it fails only when CacheDir cannot be created.
func New(cfg Config) (*Source, error) {
	s := &Source{
		hc: cfg.HTTPClient, creds: map[string]Credential{}, budget: cfg.Budget, timeout: cfg.Timeout,
		dir: cfg.CacheDir, allow: cfg.AllowHost, now: cfg.Now, hint: cfg.CredentialsHint,
		tokens: map[string]token{}, blocked: map[string]time.Time{}, budgets: map[string]RegistryBudget{}, blobs: map[string][]byte{},
	}
	for h, c := range cfg.Credentials {
		s.creds[strings.ToLower(h)] = c
	}
	if s.hc == nil {
		s.hc = http.DefaultClient
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
	if s.dir != "" {
		if err := os.MkdirAll(filepath.Join(s.dir, "sha256"), 0o700); err != nil {
			return nil, fmt.Errorf("OCI cache directory %q: %w", s.dir, unwrapPath(err))
		}
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
		return "", "", fmt.Errorf("%s is not an oci://HOST/PATH reference", sources.Quote(repository))
	case u.User != nil:
		return "", "", fmt.Errorf("%s holds credentials; give them in the settings, not in the catalog", sources.Quote(u.Redacted()))
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Path, "@:"):
		return "", "", fmt.Errorf("%s must name a registry path without a tag, digest or query (the chart versions are the tags)", sources.Quote(repository))
	case name == "" || strings.Contains(name, "/"):
		return "", "", fmt.Errorf("chart name %s must be one path segment", sources.Quote(name))
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
		return "", "", fmt.Errorf("OCI repository %s must be lower case", sources.Quote(repo))
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
		notices = append(notices, sources.Notice(fmt.Sprintf("%s: %d tags are not chart versions (latest, digests, signatures, attestations) and were skipped", where, c.skipped)))
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
	tags, err := s.listTags(ctx, host, repo)
	if err != nil {
		return nil, err
	}
	type tagVersion struct {
		tag string
		v   *semver.Version
	}
	var list []tagVersion
	next := &chart{digests: map[string]string{}, versions: map[string]sources.ChartVersion{}}
	for _, t := range tags {
		if v, ok := versionOf(t); ok {
			list = append(list, tagVersion{t, v})
		} else {
			next.skipped++
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[j].v.LessThan(list[i].v) })
	gets, rechecked := 0, 0
	for _, tv := range list {
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
		if _, cached := s.blob(digest); !cached {
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

// listTags reads every page of the tag list.
func (s *Source) listTags(ctx context.Context, host, repo string) ([]string, error) {
	next := fmt.Sprintf("%s/v2/%s/tags/list?n=1000", s.base(host), repo)
	seen := map[string]bool{}
	var tags []string
	for page := 0; next != ""; page++ {
		if page == maxTagPages || seen[next] {
			break // a registry that pages forever or in a circle: use what came
		}
		seen[next] = true
		resp, err := s.do(ctx, host, repo, http.MethodGet, next, "application/json")
		if err != nil {
			return nil, err
		}
		s.count(func(c *Counts) { c.Tags++ })
		var body struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, maxTagsBytes)).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("the tag list is not the JSON the OCI distribution API defines")
		}
		tags = append(tags, body.Tags...)
		next, err = nextLink(resp)
		if err != nil {
			return nil, err
		}
	}
	return tags, nil
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
			return "", fmt.Errorf("malformed Link header %s", sources.Quote(resp.Header.Get("Link")))
		}
		u, err := resp.Request.URL.Parse(target[1 : len(target)-1])
		if err != nil || u.Host != resp.Request.URL.Host {
			return "", fmt.Errorf("the tag list's next page %s is not on the registry", sources.Quote(target))
		}
		return u.String(), nil
	}
	return "", nil
}

// resolve gets a tag's manifest digest with HEAD (not counted as a pull).
func (s *Source) resolve(ctx context.Context, host, repo, tag string) (string, error) {
	resp, err := s.do(ctx, host, repo, http.MethodHead, fmt.Sprintf("%s/v2/%s/manifests/%s", s.base(host), repo, url.PathEscape(tag)), mediaManifest)
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", sources.Quote(tag), err)
	}
	resp.Body.Close()
	s.count(func(c *Counts) { c.Heads++ })
	digest := resp.Header.Get("Docker-Content-Digest")
	if !validDigest(digest) {
		return "", fmt.Errorf("tag %s: the registry sent no valid Docker-Content-Digest", sources.Quote(tag))
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
		return m, fmt.Errorf("the manifest is not a Helm chart (config media type %s)", sources.Quote(m.Config.MediaType))
	}
	if !validDigest(m.Config.Digest) {
		return m, fmt.Errorf("the manifest's config digest %s is not a sha256 digest", sources.Quote(m.Config.Digest))
	}
	return m, nil
}

// HelmConfig is the part of a chart's config blob (its Chart.yaml as JSON)
// Lagwatch reads.
type HelmConfig struct {
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
	Deprecated bool   `json:"deprecated"`
}

// DecodeHelmConfig reads a Helm chart config blob.
func DecodeHelmConfig(b []byte) (HelmConfig, error) {
	var c HelmConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, errors.New("the chart config is not the JSON Helm writes (Chart.yaml as JSON)")
	}
	return c, nil
}

// read turns a manifest digest into a chart version: the manifest (one
// counted GET unless cached) and its config blob.
func (s *Source) read(ctx context.Context, host, repo, tag, digest string) (sources.ChartVersion, bool, error) {
	mb, err := s.fetchBlob(ctx, host, repo, digest, "manifests", mediaManifest, maxManifestBytes)
	if err != nil {
		return sources.ChartVersion{}, false, fmt.Errorf("version %s: %w", sources.Quote(tag), err)
	}
	m, err := DecodeManifest(mb)
	if err != nil {
		return sources.ChartVersion{}, false, fmt.Errorf("version %s: %w", sources.Quote(tag), err)
	}
	cb, err := s.fetchBlob(ctx, host, repo, m.Config.Digest, "blobs", mediaConfig, maxConfigBytes)
	if err != nil {
		return sources.ChartVersion{}, false, fmt.Errorf("version %s: %w", sources.Quote(tag), err)
	}
	hc, err := DecodeHelmConfig(cb)
	if err != nil {
		return sources.ChartVersion{}, false, fmt.Errorf("version %s: %w", sources.Quote(tag), err)
	}
	cv := sources.ChartVersion{Version: hc.Version, AppVersion: hc.AppVersion, Deprecated: hc.Deprecated}
	if cv.Version == "" {
		cv.Version = strings.ReplaceAll(tag, "_", "+")
	}
	raw, dated := m.Annotations[annoCreated]
	cv.CreatedRaw = raw
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(raw)); err == nil && t.Year() >= 1970 {
		cv.Created = t.UTC()
	}
	return cv, dated, nil
}

// fetchBlob returns content-addressed data (a manifest or a blob) from
// memory, the disk cache or the registry, verified against its digest.
func (s *Source) fetchBlob(ctx context.Context, host, repo, digest, kind, accept string, limit int64) ([]byte, error) {
	if b, ok := s.blob(digest); ok {
		return b, nil
	}
	resp, err := s.do(ctx, host, repo, http.MethodGet, fmt.Sprintf("%s/v2/%s/%s/%s", s.base(host), repo, kind, digest), accept)
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
	s.keep(digest, b)
	return b, nil
}

// blob returns verified content by digest from memory or the disk cache.
func (s *Source) blob(digest string) ([]byte, bool) {
	s.mu.Lock()
	b, ok := s.blobs[digest]
	s.mu.Unlock()
	if ok || s.dir == "" || !validDigest(digest) {
		return b, ok
	}
	path := filepath.Join(s.dir, "sha256", strings.TrimPrefix(digest, "sha256:"))
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err = io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil || len(b) > maxManifestBytes {
		return nil, false
	}
	if sum := sha256.Sum256(b); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		return nil, false // corrupt or foreign: ignored, and overwritten when fetched
	}
	s.mu.Lock()
	s.blobs[digest] = b
	s.mu.Unlock()
	return b, true
}

// keep stores verified content in memory and, atomically, on disk.
func (s *Source) keep(digest string, b []byte) {
	s.mu.Lock()
	s.blobs[digest] = b
	s.mu.Unlock()
	if s.dir == "" {
		return
	}
	dir := filepath.Join(s.dir, "sha256")
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return // the disk cache is an optimisation: failing to write it is not an error
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(dir, strings.TrimPrefix(digest, "sha256:"))) != nil {
		_ = os.Remove(tmp.Name())
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
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", "lagwatch")
		s.authorize(req, host, repo)
		resp, err := s.hc.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
		}
		s.recordBudget(host, resp.Header)
		switch {
		case resp.StatusCode == http.StatusOK:
			return resp, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			challenge := resp.Header.Get("WWW-Authenticate")
			resp.Body.Close()
			if err := s.login(ctx, host, repo, challenge); err != nil {
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
			if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
				wait = min(time.Duration(secs)*time.Second, maxRetryAfter)
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
// (anonymous, or with the registry's credentials), or basic auth.
func (s *Source) login(ctx context.Context, host, repo, challenge string) error {
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
	realm, err := url.Parse(params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") || realm.Host == "" {
		return fmt.Errorf("registry %s names a token service %s that is not an http(s) URL", host, sources.Quote(params["realm"]))
	}
	q := realm.Query()
	if params["service"] != "" {
		q.Set("service", params["service"])
	}
	q.Set("scope", "repository:"+repo+":pull")
	realm.RawQuery = q.Encode()
	s.allow(realm.Host)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return err
	}
	if c, ok := s.creds[host]; ok {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("token service of %s: %w", host, err)
	}
	defer resp.Body.Close()
	s.count(func(c *Counts) { c.Tokens++ })
	if resp.StatusCode != http.StatusOK {
		if _, ok := s.creds[host]; !ok && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return fmt.Errorf("registry %s needs credentials for %s: %s", host, repo, s.hint)
		}
		return fmt.Errorf("token service of %s: HTTP %d", host, resp.StatusCode)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTokenBytes)).Decode(&body); err != nil {
		return fmt.Errorf("token service of %s: the answer is not the JSON of the token protocol", host)
	}
	t := token{value: body.Token}
	if t.value == "" {
		t.value = body.AccessToken
	}
	if t.value == "" {
		return fmt.Errorf("token service of %s sent no token", host)
	}
	life := time.Duration(body.ExpiresIn) * time.Second
	if life < time.Minute {
		life = time.Minute // the protocol's default is 60 s
	}
	t.expires = s.now().Add(life - 10*time.Second)
	s.mu.Lock()
	s.tokens[key] = t
	s.mu.Unlock()
	return nil
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
