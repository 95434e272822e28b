package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/engine"
)

func TestLoadSettings(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "from-env")
	st, err := LoadSettings(backend.DataSourceInstanceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GitHubURL != DefaultGitHubURL || st.TTL != DefaultCacheTTL || st.IndexLimitBytes() != 100<<20 || st.Timeout() != time.Minute {
		t.Errorf("defaults = %+v", st)
	}
	if st.GitHubToken != "" {
		t.Error("token read from the environment")
	}
	st, err = LoadSettings(backend.DataSourceInstanceSettings{
		JSONData:                []byte(`{"githubUrl":"https://ghe.example/api/v3/","cacheTtl":"1h","indexLimitMb":5}`),
		DecryptedSecureJSONData: map[string]string{"githubToken": " t0ken "},
	})
	if err != nil || st.GitHubURL != "https://ghe.example/api/v3" || st.TTL != time.Hour || st.GitHubToken != "t0ken" || st.IndexLimitBytes() != 5<<20 {
		t.Errorf("settings = %+v, %v", st, err)
	}
	for raw, want := range map[string]string{
		`{"githubUrl":"ftp://x"}`: `githubUrl "ftp://x"`,
		`{"cacheTtl":"soon"}`:     `cacheTtl "soon"`,
		`{"indexLimitMb":-1}`:     "indexLimitMb -1",
		`{"timeoutSeconds":-5}`:   "timeoutSeconds -5",
		`[]`:                      "datasource settings: jsonData is not a JSON object",
		`{"indexLimitMb":"big"}`:  "datasource settings: jsonData.indexLimitMb must be a number, found a JSON string",
		`{"indexLimitMb":5000}`:   "jsonData.indexLimitMb 5000 must be between 1 and 1024",
		`{"timeoutSeconds":9999}`: "jsonData.timeoutSeconds 9999 must be between 1 and 600",
		`{"cacheTtl":"9000h"}`:    `jsonData.cacheTtl "9000h" is longer than the limit of 168h0m0s`,
	} {
		if _, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(raw)}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

func TestCatalogSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte("services: []"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &Settings{CatalogPath: path}
	if b, origin, err := st.CatalogSource(); err != nil || origin != path || string(b) != "services: []" {
		t.Errorf("file catalog = %q from %q, %v", b, origin, err)
	}
	st.Catalog = "services: [inline]"
	if _, origin, _ := st.CatalogSource(); origin != "jsonData.catalog" {
		t.Errorf("inline catalog does not win: %q", origin)
	}
	if _, _, err := (&Settings{CatalogPath: path + ".missing"}).CatalogSource(); err == nil || !strings.Contains(err.Error(), "catalogPath") {
		t.Errorf("missing file error = %v", err)
	}
	if _, _, err := (&Settings{}).CatalogSource(); err == nil || !strings.Contains(err.Error(), "no catalog") {
		t.Errorf("no catalog error = %v", err)
	}
}

func TestLastHopSettings(t *testing.T) {
	st, err := LoadSettings(backend.DataSourceInstanceSettings{})
	if err != nil || st.PrometheusURL != "" || st.Verdict() != engine.DefaultVerdictParams {
		t.Fatalf("defaults: %+v %v", st, err)
	}
	st, err = LoadSettings(backend.DataSourceInstanceSettings{
		JSONData:                []byte(`{"prometheusUrl":"http://prometheus:9090/","prometheusUser":"grafana","verdictWindowDays":180,"verdictToleranceDays":3,"verdictAbandonmentDays":60}`),
		DecryptedSecureJSONData: map[string]string{"prometheusPassword": "pw"},
	})
	day := 24 * time.Hour
	if err != nil || st.PrometheusURL != "http://prometheus:9090" || st.PrometheusUser != "grafana" || st.PrometheusPassword != "pw" ||
		st.Verdict() != (engine.VerdictParams{Window: 180 * day, Tolerance: 3 * day, Abandonment: 60 * day}) {
		t.Errorf("settings = %+v, %v", st, err)
	}
	for secure, want := range map[string]string{
		"prometheusPassword": "secureJsonData.prometheusPassword is set but jsonData.prometheusUser is empty",
		"prometheusToken":    "both a Prometheus user (basic auth) and a Prometheus token are set",
	} {
		jd := `{}`
		if secure == "prometheusToken" {
			jd = `{"prometheusUser":"grafana"}`
		}
		_, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(jd), DecryptedSecureJSONData: map[string]string{secure: "s3cret-value"}})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s alone: %v", secure, err)
		}
	}
	for raw, want := range map[string]string{
		`{"prometheusUrl":"prometheus:9090"}`:                `jsonData.prometheusUrl "prometheus:9090" is not an http(s) URL`,
		`{"prometheusUrl":"http://u:secret@p:9090"}`:         "holds credentials",
		`{"verdictWindowDays":-1}`:                           "jsonData.verdictWindowDays -1 must be between 1 and 3650 days",
		`{"verdictAbandonmentDays":5000}`:                    "jsonData.verdictAbandonmentDays 5000 must be between 1 and 3650 days",
		`{"verdictToleranceDays":30,"verdictWindowDays":30}`: "jsonData.verdictToleranceDays 30 must be shorter than jsonData.verdictWindowDays 30",
		`{"verdictToleranceDays":"a week"}`:                  "jsonData.verdictToleranceDays must be a number, found a JSON string",
	} {
		_, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(raw)})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}
