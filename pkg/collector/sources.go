package collector

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
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
}

// Sources are the GitHub and Helm sources of one plugin instance or CLI run.
// They share one HTTP client that reaches only the GitHub API host and the
// catalog's chart hosts.
type Sources struct {
	GitHub *github.Source
	Helm   *helm.Source
	client *http.Client
}

// NewSources builds the sources.
func NewSources(cfg SourcesConfig) (*Sources, error) {
	ghURL, err := url.Parse(cfg.GitHubURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub URL %q: %w", cfg.GitHubURL, err)
	}
	hosts := []string{ghURL.Host}
	var charts []sources.ChartRef
	if cfg.Catalog != nil {
		hosts = append(hosts, cfg.Catalog.Hosts()...)
		for _, s := range cfg.Catalog.Services {
			charts = append(charts, s.ChartRef())
		}
	}
	client := &http.Client{Transport: sources.NewAllowHosts(cfg.Transport, hosts...), Timeout: cfg.Timeout, CheckRedirect: sources.CheckRedirect}
	gh, err := github.New(github.Config{BaseURL: cfg.GitHubURL, Token: cfg.GitHubToken, HTTPClient: client, CacheTTL: cfg.CacheTTL, TokenHint: cfg.TokenHint})
	if err != nil {
		return nil, err
	}
	hs := helm.New(helm.Config{HTTPClient: client, CacheTTL: cfg.CacheTTL, MaxIndexBytes: cfg.MaxIndexBytes, Timeout: cfg.Timeout, Charts: charts})
	return &Sources{GitHub: gh, Helm: hs, client: client}, nil
}

// Collector reads services from these sources.
func (s *Sources) Collector() *Collector { return &Collector{Upstreams: s.GitHub, Charts: s.Helm} }

// Close drops idle connections.
func (s *Sources) Close() { s.client.CloseIdleConnections() }
