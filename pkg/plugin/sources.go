package plugin

import (
	"net/http"
	"net/url"

	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
)

// Sources are one instance's GitHub and Helm sources. They share one HTTP
// client that reaches only the GitHub API host and the catalog's chart hosts.
type Sources struct {
	GitHub *github.Source
	Helm   *helm.Source
	client *http.Client
}

// NewSources builds the sources of a datasource instance. chartHosts are the
// catalog's chart repository hosts; charts lists the catalog's charts so each
// index is parsed once for all of them.
func NewSources(st *models.Settings, chartHosts []string, charts []sources.ChartRef, transport http.RoundTripper) (*Sources, error) {
	ghURL, err := url.Parse(st.GitHubURL)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport: sources.NewAllowHosts(transport, append([]string{ghURL.Host}, chartHosts...)...),
		Timeout:   st.Timeout(),
	}
	gh, err := github.New(github.Config{BaseURL: st.GitHubURL, Token: st.GitHubToken, HTTPClient: client, CacheTTL: st.TTL})
	if err != nil {
		return nil, err
	}
	hs := helm.New(helm.Config{HTTPClient: client, CacheTTL: st.TTL, MaxIndexBytes: st.IndexLimitBytes(), Timeout: st.Timeout(), Charts: charts})
	return &Sources{GitHub: gh, Helm: hs, client: client}, nil
}

// Close drops idle connections.
func (s *Sources) Close() { s.client.CloseIdleConnections() }
