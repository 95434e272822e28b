package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yaml the way `docker compose` does, with
// only the given environment (not the test process's).
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	dir := root(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "docker-compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("docker-compose.yaml does not load: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yaml has no service %q (has %v)", name, p.ServiceNames())
	}
	return s
}

func envValue(s types.ServiceConfig, k string) (string, bool) {
	v, ok := s.Environment[k]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// mount returns the volume of s mounted at target.
func mount(t *testing.T, s types.ServiceConfig, target string) types.ServiceVolumeConfig {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Target == target {
			return v
		}
	}
	t.Fatalf("service %s mounts nothing at %s", s.Name, target)
	return types.ServiceVolumeConfig{}
}

func TestComposeProject(t *testing.T) {
	p := loadCompose(t)
	if got := p.ServiceNames(); len(got) != 3 {
		t.Errorf("services = %v, want exporter, grafana and prometheus", got)
	}
	dir := root(t)

	// Every bind mount's host path exists (compose would create a missing one as an empty directory).
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeBind:
				if !strings.HasPrefix(v.Source, dir) {
					t.Errorf("%s: bind mount %s is outside the repository", s.Name, v.Source)
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s: bind mount source %s: %v", s.Name, v.Source, err)
				}
				if !v.ReadOnly {
					t.Errorf("%s: bind mount %s -> %s should be read-only", s.Name, v.Source, v.Target)
				}
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: named volume %s is not declared", s.Name, v.Source)
				}
			}
		}
	}

	t.Run("grafana", func(t *testing.T) {
		g := service(t, p, "grafana")
		pl := pluginManifest(t)
		if g.Build == nil {
			t.Fatal("grafana is not built from the repository")
		}
		if g.Build.Context != dir {
			t.Errorf("build context %s, want the repository root %s", g.Build.Context, dir)
		}
		if _, err := os.Stat(filepath.Join(g.Build.Context, g.Build.Dockerfile)); err != nil {
			t.Errorf("dockerfile: %v", err)
		}
		found := false
		for _, port := range g.Ports {
			if port.Target == 3000 && port.Published == "3000" {
				found = true
			}
		}
		if !found {
			t.Errorf("grafana does not publish port 3000: %+v", g.Ports)
		}
		if v, _ := envValue(g, "GF_SECURITY_ADMIN_PASSWORD"); v != "admin" {
			t.Errorf("admin password without GRAFANA_ADMIN_PASSWORD = %q, want the documented default admin", v)
		}
		if v, _ := envValue(g, "GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"); v != pl.ID {
			t.Errorf("unsigned plugins allowed = %q, want exactly %q", v, pl.ID)
		}
		if v, ok := envValue(g, "GITHUB_TOKEN"); !ok || v != "" {
			t.Errorf("GITHUB_TOKEN without a host token = %q (set: %v), want an empty value", v, ok)
		}
		prov := mount(t, g, provisioningPath)
		if prov.Source != filepath.Join(dir, "provisioning") {
			t.Errorf("%s is mounted from %s", provisioningPath, prov.Source)
		}
		cat := mount(t, g, catalogMount)
		if cat.Source != filepath.Join(dir, "provisioning", "catalog") {
			t.Errorf("%s is mounted from %s", catalogMount, cat.Source)
		}
		// The plugin folder comes from the image: a mount over it would hide it.
		for _, v := range g.Volumes {
			if strings.HasPrefix(pluginDir, strings.TrimSuffix(v.Target, "/")+"/") || strings.HasPrefix(v.Target, pluginDir) {
				t.Errorf("grafana mounts %s over the plugin folder %s", v.Target, pluginDir)
			}
		}
		if len(g.DependsOn) == 0 {
			t.Errorf("grafana should start after prometheus")
		}
		// Prometheus scrapes Grafana's /metrics, where grafana_build_info (the
		// catalog's running Grafana version) comes from.
		if v, _ := envValue(g, "GF_METRICS_ENABLED"); v != "true" {
			t.Errorf("GF_METRICS_ENABLED = %q, want true (Grafana's /metrics carries grafana_build_info)", v)
		}
	})

	t.Run("prometheus", func(t *testing.T) {
		pr := service(t, p, "prometheus")
		if !regexp.MustCompile(`^prom/prometheus:v\d+\.\d+\.\d+$`).MatchString(pr.Image) {
			t.Errorf("prometheus image %q is not pinned to a release", pr.Image)
		}
		jobs := scrapeJobs(t) // checks the metrics paths too
		targets := map[string]string{}
		for job, tgs := range jobs {
			for _, tg := range tgs {
				targets[tg] = job
			}
		}
		if targets["grafana:3000"] == "" || targets["localhost:9090"] == "" || targets["exporter:9465"] == "" {
			t.Errorf("prometheus.yml must scrape itself (localhost:9090), grafana:3000 and exporter:9465, scrapes %v", targets)
		}
	})

	t.Run("exporter", func(t *testing.T) {
		ex := service(t, p, "exporter")
		if ex.Build == nil || ex.Build.Target != "exporter" || ex.Build.Context != dir {
			t.Fatalf("exporter build = %+v, want the Dockerfile's exporter stage", ex.Build)
		}
		cmd := strings.Join(ex.Command, " ")
		cat := mount(t, ex, "/etc/lagwatch")
		if !strings.Contains(cmd, "--catalog /etc/lagwatch/homelab-stack.yaml") || !strings.Contains(cmd, "--listen :9465") {
			t.Errorf("exporter command %q", cmd)
		}
		if _, err := os.Stat(filepath.Join(cat.Source, "homelab-stack.yaml")); err != nil {
			t.Errorf("exporter catalog: %v", err)
		}
		if _, ok := ex.Environment["GITHUB_TOKEN"]; !ok {
			t.Errorf("exporter environment %v: GITHUB_TOKEN is not passed through", ex.Environment)
		}
		// The exporter reads the running versions from the same Prometheus as
		// the datasource.
		promURL, _ := datasources(t)[lagwatchUID].JSONData["prometheusUrl"].(string)
		if promURL == "" || !strings.Contains(cmd, "--prometheus-url "+promURL) {
			t.Errorf("exporter command %q: want --prometheus-url %s, as the datasource's jsonData.prometheusUrl", cmd, promURL)
		}
	})
}

// TestComposeEnvironment: the admin password and the GitHub token come from
// the host environment.
func TestComposeEnvironment(t *testing.T) {
	p := loadCompose(t, "GRAFANA_ADMIN_PASSWORD=s3cret", "GITHUB_TOKEN=ghp_test")
	g := service(t, p, "grafana")
	if v, _ := envValue(g, "GF_SECURITY_ADMIN_PASSWORD"); v != "s3cret" {
		t.Errorf("admin password = %q, want s3cret from GRAFANA_ADMIN_PASSWORD", v)
	}
	if v, _ := envValue(g, "GITHUB_TOKEN"); v != "ghp_test" {
		t.Errorf("GITHUB_TOKEN = %q, want it passed through", v)
	}
}
