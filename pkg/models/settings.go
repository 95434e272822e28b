// Package models holds the JSON models shared with the frontend: datasource
// settings and the query model.
package models

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Defaults of the datasource settings.
const (
	DefaultGitHubURL      = "https://api.github.com"
	DefaultCacheTTL       = 15 * time.Minute
	DefaultIndexLimitMB   = 100
	DefaultTimeoutSeconds = 60
	SecureKeyGitHubToken  = "githubToken"
)

// Settings is the datasource's jsonData plus its decrypted secrets.
type Settings struct {
	GitHubURL      string `json:"githubUrl"`      // REST base URL; GitHub Enterprise: https://HOST/api/v3
	CacheTTL       string `json:"cacheTtl"`       // Go duration, e.g. "15m"
	Catalog        string `json:"catalog"`        // catalog YAML given inline
	CatalogPath    string `json:"catalogPath"`    // or a catalog file on the Grafana server
	IndexLimitMB   int    `json:"indexLimitMb"`   // largest index.yaml read, in MB
	TimeoutSeconds int    `json:"timeoutSeconds"` // time limit of one HTTP request

	GitHubToken string `json:"-"` // from secureJsonData.githubToken only

	TTL time.Duration `json:"-"` // CacheTTL parsed
}

// LoadSettings reads and checks the instance settings. The GitHub token comes
// only from secureJsonData, never from the plugin process's environment.
func LoadSettings(s backend.DataSourceInstanceSettings) (*Settings, error) {
	var st Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &st); err != nil {
			return nil, fmt.Errorf("datasource jsonData: %w", err)
		}
	}
	st.GitHubToken = strings.TrimSpace(s.DecryptedSecureJSONData[SecureKeyGitHubToken])
	if err := st.applyDefaults(); err != nil {
		return nil, err
	}
	return &st, nil
}

func (st *Settings) applyDefaults() error {
	if st.GitHubURL == "" {
		st.GitHubURL = DefaultGitHubURL
	}
	st.GitHubURL = strings.TrimRight(st.GitHubURL, "/")
	if u, err := url.Parse(st.GitHubURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("jsonData.githubUrl %q is not an http(s) URL", st.GitHubURL)
	}
	st.TTL = DefaultCacheTTL
	if st.CacheTTL != "" {
		d, err := time.ParseDuration(st.CacheTTL)
		if err != nil || d < 0 {
			return fmt.Errorf("jsonData.cacheTtl %q is not a duration such as 15m or 1h", st.CacheTTL)
		}
		st.TTL = d
	}
	if st.IndexLimitMB < 0 {
		return fmt.Errorf("jsonData.indexLimitMb %d must be positive", st.IndexLimitMB)
	}
	if st.IndexLimitMB == 0 {
		st.IndexLimitMB = DefaultIndexLimitMB
	}
	if st.TimeoutSeconds < 0 {
		return fmt.Errorf("jsonData.timeoutSeconds %d must be positive", st.TimeoutSeconds)
	}
	if st.TimeoutSeconds == 0 {
		st.TimeoutSeconds = DefaultTimeoutSeconds
	}
	return nil
}

// CatalogSource returns the catalog YAML and where it came from (for errors):
// the inline text wins over the file path.
func (st *Settings) CatalogSource() ([]byte, string, error) {
	if strings.TrimSpace(st.Catalog) != "" {
		return []byte(st.Catalog), "jsonData.catalog", nil
	}
	if st.CatalogPath == "" {
		return nil, "", fmt.Errorf("no catalog: set jsonData.catalog (inline YAML) or jsonData.catalogPath (a file on the Grafana server)")
	}
	b, err := os.ReadFile(st.CatalogPath)
	if err != nil {
		return nil, "", fmt.Errorf("jsonData.catalogPath %q: %w", st.CatalogPath, err)
	}
	return b, st.CatalogPath, nil
}

// IndexLimitBytes is the index size limit in bytes.
func (st *Settings) IndexLimitBytes() int64 { return int64(st.IndexLimitMB) << 20 }

// Timeout is the per-request time limit.
func (st *Settings) Timeout() time.Duration { return time.Duration(st.TimeoutSeconds) * time.Second }
