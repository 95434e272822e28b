// Package models holds the JSON models shared with the frontend: datasource
// settings and the query model.
package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/registrylogin"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// Defaults of the datasource settings.
const (
	DefaultGitHubURL        = "https://api.github.com"
	DefaultEOLURL           = "https://endoflife.date"
	DefaultCacheTTL         = 15 * time.Minute
	DefaultIndexLimitMB     = 100
	DefaultTimeoutSeconds   = 60
	SecureKeyGitHubToken    = "githubToken"
	SecureKeyOCICredentials = "ociCredentials"
	SecureKeyPromPassword   = "prometheusPassword"
	SecureKeyPromToken      = "prometheusToken"
	MaxOCIBudget            = 1000
	// The verdict's W, T and A (lag-metrics.md), in days.
	DefaultVerdictWindowDays      = 365
	DefaultVerdictToleranceDays   = 7
	DefaultVerdictAbandonmentDays = 120
	MaxVerdictDays                = 3650
)

// Ceilings of the datasource settings: beyond them a value is a mistake, and
// the limits of docs/security.md would no longer hold.
const (
	MaxCacheTTL       = 7 * 24 * time.Hour
	MaxIndexLimitMB   = 1024
	MaxTimeoutSeconds = 600
)

// jsonKind names a Go kind in JSON words.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a text"
	case k == "bool":
		return "true or false"
	}
	return "an object"
}

// Settings is the datasource's jsonData plus its decrypted secrets.
type Settings struct {
	GitHubURL      string `json:"githubUrl"`      // REST base URL; GitHub Enterprise: https://HOST/api/v3
	CacheTTL       string `json:"cacheTtl"`       // Go duration, e.g. "15m"
	Catalog        string `json:"catalog"`        // catalog YAML given inline
	CatalogPath    string `json:"catalogPath"`    // or a catalog file on the Grafana server
	IndexLimitMB   int    `json:"indexLimitMb"`   // largest index.yaml read, in MB
	TimeoutSeconds int    `json:"timeoutSeconds"` // time limit of one HTTP request
	OCIBudget      int    `json:"ociBudget"`      // manifest GETs per OCI chart and refresh
	OCICacheDir    string `json:"ociCacheDir"`    // on-disk cache of OCI manifests and config blobs
	OCITokenHosts  string `json:"ociTokenHosts"`  // token realm hosts allowed besides a registry's own host and domain

	TokenHosts []string `json:"-"` // OCITokenHosts parsed

	PrometheusURL          string `json:"prometheusUrl"`          // where deployed versions are read
	EOLURL                 string `json:"eolUrl"`                 // endoflife.date base URL (DefaultEOLURL when "")
	PrometheusUser         string `json:"prometheusUser"`         // basic auth user (password in secureJsonData)
	VerdictWindowDays      int    `json:"verdictWindowDays"`      // W
	VerdictToleranceDays   int    `json:"verdictToleranceDays"`   // T
	VerdictAbandonmentDays int    `json:"verdictAbandonmentDays"` // A

	GitHubToken        string                         `json:"-"` // from secureJsonData.githubToken only
	OCICredentials     map[string]registrylogin.Login `json:"-"` // from secureJsonData.ociCredentials only
	PrometheusPassword string                         `json:"-"` // from secureJsonData.prometheusPassword only
	PrometheusToken    string                         `json:"-"` // from secureJsonData.prometheusToken only

	TTL time.Duration `json:"-"` // CacheTTL parsed
}

// LoadSettings reads and checks the instance settings. The GitHub token comes
// only from secureJsonData, never from the plugin process's environment.
func LoadSettings(s backend.DataSourceInstanceSettings) (*Settings, error) {
	var st Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &st); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return nil, fmt.Errorf("datasource settings: jsonData.%s must be %s, found a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
			}
			return nil, errors.New("datasource settings: jsonData is not a JSON object")
		}
	}
	st.GitHubToken = strings.TrimSpace(s.DecryptedSecureJSONData[SecureKeyGitHubToken])
	creds, err := registrylogin.Parse(s.DecryptedSecureJSONData[SecureKeyOCICredentials])
	if err != nil {
		return nil, fmt.Errorf("OCI registry credentials in the datasource settings: %w", err)
	}
	st.OCICredentials = creds
	st.PrometheusPassword = s.DecryptedSecureJSONData[SecureKeyPromPassword]
	st.PrometheusToken = strings.TrimSpace(s.DecryptedSecureJSONData[SecureKeyPromToken])
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
	if st.TTL > MaxCacheTTL {
		return fmt.Errorf("jsonData.cacheTtl %q is longer than the limit of %s", st.CacheTTL, MaxCacheTTL)
	}
	if st.IndexLimitMB < 0 || st.IndexLimitMB > MaxIndexLimitMB {
		return fmt.Errorf("jsonData.indexLimitMb %d must be between 1 and %d", st.IndexLimitMB, MaxIndexLimitMB)
	}
	if st.IndexLimitMB == 0 {
		st.IndexLimitMB = DefaultIndexLimitMB
	}
	if st.TimeoutSeconds < 0 || st.TimeoutSeconds > MaxTimeoutSeconds {
		return fmt.Errorf("jsonData.timeoutSeconds %d must be between 1 and %d", st.TimeoutSeconds, MaxTimeoutSeconds)
	}
	if st.OCIBudget < 0 || st.OCIBudget > MaxOCIBudget {
		return fmt.Errorf("jsonData.ociBudget %d must be between 1 and %d manifest requests per chart and refresh", st.OCIBudget, MaxOCIBudget)
	}
	if st.TimeoutSeconds == 0 {
		st.TimeoutSeconds = DefaultTimeoutSeconds
	}
	hosts, err := oci.ParseTokenHosts(st.OCITokenHosts, "jsonData.ociTokenHosts")
	if err != nil {
		return err
	}
	st.TokenHosts = hosts
	st.PrometheusURL = strings.TrimRight(strings.TrimSpace(st.PrometheusURL), "/")
	if st.PrometheusURL != "" {
		u, err := url.Parse(st.PrometheusURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("jsonData.prometheusUrl %q is not an http(s) URL such as http://prometheus:9090", st.PrometheusURL)
		case u.User != nil:
			return fmt.Errorf("jsonData.prometheusUrl %q holds credentials: set the Prometheus user and password fields instead", u.Redacted())
		}
	}
	st.EOLURL = strings.TrimRight(strings.TrimSpace(st.EOLURL), "/")
	if st.EOLURL == "" {
		st.EOLURL = DefaultEOLURL
	}
	if u, err := url.Parse(st.EOLURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		shown := st.EOLURL
		if err == nil {
			shown = u.Redacted()
		}
		return fmt.Errorf("jsonData.eolUrl %q is not an http(s) URL without credentials, such as %s", shown, DefaultEOLURL)
	}
	switch {
	case st.PrometheusPassword != "" && st.PrometheusUser == "":
		return errors.New("secureJsonData.prometheusPassword is set but jsonData.prometheusUser is empty: set the Prometheus user, or clear the password")
	case st.PrometheusToken != "" && st.PrometheusUser != "":
		return errors.New("both a Prometheus user (basic auth) and a Prometheus token are set: keep one of them")
	}
	for _, d := range []struct {
		field string
		v     *int
		def   int
	}{{"verdictWindowDays", &st.VerdictWindowDays, DefaultVerdictWindowDays},
		{"verdictToleranceDays", &st.VerdictToleranceDays, DefaultVerdictToleranceDays},
		{"verdictAbandonmentDays", &st.VerdictAbandonmentDays, DefaultVerdictAbandonmentDays}} {
		if *d.v < 0 || *d.v > MaxVerdictDays {
			return fmt.Errorf("jsonData.%s %d must be between 1 and %d days", d.field, *d.v, MaxVerdictDays)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if st.VerdictToleranceDays >= st.VerdictWindowDays {
		return fmt.Errorf("jsonData.verdictToleranceDays %d must be shorter than jsonData.verdictWindowDays %d", st.VerdictToleranceDays, st.VerdictWindowDays)
	}
	return nil
}

// Verdict is the verdict's W, T and A.
func (st *Settings) Verdict() engine.VerdictParams {
	day := 24 * time.Hour
	return engine.VerdictParams{Window: time.Duration(st.VerdictWindowDays) * day,
		Tolerance: time.Duration(st.VerdictToleranceDays) * day, Abandonment: time.Duration(st.VerdictAbandonmentDays) * day}
}

// CatalogSource returns the catalog YAML and where it came from (for errors):
// the inline text wins over the file path. The file must be a regular file
// of at most catalog.MaxBytes: a device, a FIFO or a directory is refused
// before it is opened, and nothing of a file's content is quoted here.
func (st *Settings) CatalogSource() ([]byte, string, error) {
	if strings.TrimSpace(st.Catalog) != "" {
		if len(st.Catalog) > catalog.MaxBytes {
			return nil, "", fmt.Errorf("the catalog in the datasource settings (jsonData.catalog) is %d KiB, more than the limit of %d KiB", len(st.Catalog)>>10, catalog.MaxBytes>>10)
		}
		return []byte(st.Catalog), "jsonData.catalog", nil
	}
	if st.CatalogPath == "" {
		return nil, "", fmt.Errorf("no catalog: set jsonData.catalog (inline YAML) or jsonData.catalogPath (a file on the Grafana server)")
	}
	where := fmt.Sprintf("the catalog file in the datasource settings (jsonData.catalogPath) %q", st.CatalogPath)
	info, err := os.Stat(st.CatalogPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, pathError(err))
	}
	if !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file", where)
	}
	if info.Size() > catalog.MaxBytes {
		return nil, "", fmt.Errorf("%s is %d KiB, more than the limit of %d KiB", where, info.Size()>>10, catalog.MaxBytes>>10)
	}
	f, err := os.Open(st.CatalogPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, pathError(err))
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file", where) // replaced since the check above
	}
	b, err := io.ReadAll(io.LimitReader(f, catalog.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s could not be read", where)
	}
	if len(b) > catalog.MaxBytes {
		return nil, "", fmt.Errorf("%s is more than the limit of %d KiB", where, catalog.MaxBytes>>10)
	}
	return b, st.CatalogPath, nil
}

// pathError keeps what went wrong with a path, without Go's operation prefix.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// IndexLimitBytes is the index size limit in bytes.
func (st *Settings) IndexLimitBytes() int64 { return int64(st.IndexLimitMB) << 20 }

// Timeout is the per-request time limit.
func (st *Settings) Timeout() time.Duration { return time.Duration(st.TimeoutSeconds) * time.Second }
