package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
	"github.com/lagwatch/lagwatch/pkg/sources/prometheus"
)

// SourcesConfig says how the plugin or the CLI reaches GitHub and the chart
// repositories.
type SourcesConfig struct {
	GitHubURL     string
	GitHubToken   string
	Catalog       *catalog.Catalog  // its chart hosts are allowed and its charts parsed together; nil allows GitHub only
	CacheTTL      time.Duration     // 0: every call revalidates
	Timeout       time.Duration     // per HTTP request; 0: none besides the sources' own limits
	MaxIndexBytes int64             // 0: helm.DefaultMaxIndexBytes
	Transport     http.RoundTripper // nil: http.DefaultTransport
	TokenHint     string            // where the user sets a GitHub token, in their surface's words (github.DefaultTokenHint when "")

	OCICredentials     map[string]oci.Credential // registry host -> login; anonymous otherwise
	OCIBudget          int                       // manifest GETs per OCI chart and refresh; oci.DefaultBudget when 0
	OCICacheDir        string                    // on-disk cache of OCI manifests and config blobs; none when ""
	OCICredentialsHint string                    // where the user gives registry credentials, in their surface's words
	OCITokenHosts      []string                  // token realm hosts allowed besides a registry's own host and domain
	OCITokenHostsHint  string                    // where the user sets them, in their surface's words

	PrometheusURL      string // where deployed versions are read; none when ""
	PrometheusUser     string // basic auth, with PrometheusPassword
	PrometheusPassword string
	PrometheusToken    string // bearer token, when no user is set
	PrometheusHint     string // how the user sets the Prometheus URL, in their surface's words
	PrometheusAuthHint string // where the user sets the Prometheus login, in their surface's words

	EOLURL  string // endoflife.date base URL (eol.DefaultURL when ""); its host is allowed only when a service names a product
	EOLHint string // where the user sets it, in their surface's words
	// EOLAlways builds the endoflife.date source (and allows its host) even
	// when no service names a product: lagwatch discover looks products up.
	EOLAlways bool
}

// Sources are the GitHub, Helm and OCI sources of one plugin instance or CLI
// run. They share one HTTP client that reaches only the GitHub API host, the
// catalog's chart hosts and the token services their OCI registries name,
// and follows redirects of public content (Helm indexes, OCI blobs) under
// the public redirect rule of sources.AllowHosts.
type Sources struct {
	GitHub     *github.Source
	Helm       *helm.Source
	OCI        *oci.Source
	Prometheus *prometheus.Source // nil when no Prometheus URL is set
	EOL        *eol.Source        // nil when no service names an endoflife.date product
	client     *http.Client
	allow      *sources.AllowHosts
	promHint   string
}

// NewSources builds the sources.
func NewSources(cfg SourcesConfig) (*Sources, error) {
	ghURL, err := url.Parse(cfg.GitHubURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub URL %q: %w", cfg.GitHubURL, err)
	}
	// The API, and the web host of its tag feeds (read without a token).
	hosts := []string{ghURL.Host}
	if web, err := url.Parse(github.WebURL(cfg.GitHubURL)); err == nil {
		hosts = append(hosts, web.Host)
	}
	var prom *prometheus.Source
	if cfg.PrometheusURL != "" {
		prom, err = prometheus.New(prometheus.Config{URL: cfg.PrometheusURL, User: cfg.PrometheusUser,
			Password: cfg.PrometheusPassword, Token: cfg.PrometheusToken, CacheTTL: cfg.CacheTTL, Timeout: cfg.Timeout,
			AuthHint: cfg.PrometheusAuthHint})
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, prom.Host())
	}
	var eolSrc *eol.Source
	if cfg.EOLAlways || (cfg.Catalog != nil && cfg.Catalog.NeedsEOL()) {
		eolSrc, err = eol.New(eol.Config{BaseURL: cfg.EOLURL, URLHint: cfg.EOLHint})
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, eolSrc.Host())
	}
	var charts []sources.ChartRef
	if cfg.Catalog != nil {
		hosts = append(hosts, cfg.Catalog.Hosts()...)
		for _, s := range cfg.Catalog.Services {
			charts = append(charts, s.ChartRef())
		}
	}
	allow := sources.NewAllowHosts(cfg.Transport, hosts...)
	client := &http.Client{Transport: allow, Timeout: cfg.Timeout, CheckRedirect: sources.CheckRedirect}
	if prom != nil {
		prom.SetClient(client)
	}
	if eolSrc != nil {
		eolSrc.SetClient(client)
	}
	gh, err := github.New(github.Config{BaseURL: cfg.GitHubURL, Token: cfg.GitHubToken, HTTPClient: client, CacheTTL: cfg.CacheTTL, TokenHint: cfg.TokenHint})
	if err != nil {
		return nil, err
	}
	hs := helm.New(helm.Config{HTTPClient: client, CacheTTL: cfg.CacheTTL, MaxIndexBytes: cfg.MaxIndexBytes, Timeout: cfg.Timeout, Charts: charts})
	ociSrc, err := oci.New(oci.Config{HTTPClient: client, Credentials: cfg.OCICredentials, CacheTTL: cfg.CacheTTL, Timeout: cfg.Timeout,
		Budget: cfg.OCIBudget, CacheDir: cfg.OCICacheDir, AllowHost: allow.AllowRealm, CredentialsHint: cfg.OCICredentialsHint,
		TokenHosts: cfg.OCITokenHosts, TokenHostsHint: cfg.OCITokenHostsHint})
	if err != nil {
		return nil, err
	}
	return &Sources{GitHub: gh, Helm: hs, OCI: ociSrc, Prometheus: prom, EOL: eolSrc, client: client, allow: allow, promHint: cfg.PrometheusHint}, nil
}

// Collector reads services from these sources.
func (s *Sources) Collector() *Collector {
	c := &Collector{Upstreams: s.GitHub, Charts: s.Charts(), PrometheusHint: s.promHint, Advisories: s.GitHub}
	if s.Prometheus != nil {
		c.Deployed = s.Prometheus
	}
	if s.EOL != nil {
		c.EOL = s.EOL
	}
	return c
}

// Charts is the chart source of these sources (HTTP and OCI).
func (s *Sources) Charts() sources.ChartSource { return ChartRouter{HTTP: s.Helm, OCI: s.OCI} }

// ChartRouter sends oci:// charts to the OCI source and the others to the
// Helm repository source.
type ChartRouter struct{ HTTP, OCI sources.ChartSource }

// ChartVersions implements sources.ChartSource.
func (r ChartRouter) ChartVersions(ctx context.Context, ref sources.ChartRef) ([]sources.ChartVersion, []sources.Notice, error) {
	if oci.IsOCI(ref.Repository) {
		return r.OCI.ChartVersions(ctx, ref)
	}
	return r.HTTP.ChartVersions(ctx, ref)
}

// Followed returns the redirects of public content (Helm indexes, OCI
// blobs) followed to hosts outside the allow-list, by host.
func (s *Sources) Followed() map[string]int { return s.allow.Followed() }

// Close drops idle connections.
func (s *Sources) Close() { s.client.CloseIdleConnections() }
