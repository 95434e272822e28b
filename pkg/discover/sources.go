package discover

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// Config builds a Discoverer on the sources of the plugin or the CLI.
// eol.product candidates are looked up only when Sources.EOLURL is set.
type Config struct {
	// Sources says how GitHub, the registries and Prometheus are reached.
	// Its Catalog and Transport are replaced: only the GitHub API, the
	// chart repositories of Repos, the catalog's, and Prometheus are allowed.
	Sources collector.SourcesConfig
	Catalog *catalog.Catalog // its chart repositories are joined to the charts a cluster runs; may be nil
	Repos   []string         // HTTP repositories and oci:// chart references to allow
	Budget  int
	At      time.Time
}

// New builds the discoverer, its sources (Close them when done) and the
// request counter.
func New(cfg Config) (*Discoverer, *collector.Sources, error) {
	// The allow-list is built from a catalog: one made of the repositories.
	allow := &catalog.Catalog{}
	add := func(repo, name string) {
		allow.Services = append(allow.Services, catalog.Service{Chart: catalog.Chart{Repository: repo, Name: name}})
	}
	for _, r := range cfg.Repos {
		if oci.IsOCI(r) {
			add(splitOCI(r))
		} else {
			add(r, "discover")
		}
	}
	if cfg.Catalog != nil {
		for _, s := range cfg.Catalog.Services {
			add(s.Chart.Repository, s.Chart.Name)
		}
	}
	counter := &Counter{Next: cfg.Sources.Transport}
	if u, err := url.Parse(cfg.Sources.GitHubURL); err == nil {
		counter.GitHubHosts = append(counter.GitHubHosts, u.Host)
	}
	if u, err := url.Parse(github.WebURL(cfg.Sources.GitHubURL)); err == nil {
		counter.GitHubHosts = append(counter.GitHubHosts, u.Host)
	}
	if u, err := url.Parse(cfg.Sources.PrometheusURL); err == nil {
		counter.PrometheusHost = u.Host
	}
	sc := cfg.Sources
	// endoflife.date is asked only where its URL is given (the CLI's
	// --eol-url and the plugin's settings always give one).
	sc.Catalog, sc.Transport, sc.EOLAlways = allow, counter, sc.EOLURL != ""
	if u, err := url.Parse(sc.EOLURL); err == nil && sc.EOLURL != "" {
		counter.EOLHost = u.Host
	}
	src, err := collector.NewSources(sc)
	if err != nil {
		return nil, nil, err
	}
	d := &Discoverer{Upstreams: src.GitHub, Charts: src.Charts(), Index: src.Helm.AllCharts, Budget: cfg.Budget, Counter: counter, At: cfg.At,
		Advisories: src.GitHub, GoModules: src.GitHub}
	if src.EOL != nil {
		d.EOL = src.EOL
	}
	return d, src, nil
}

// The queries that list the charts a cluster runs. label_join puts the
// labels needed in one label, which the deployed-version reader returns.
const (
	joinLabel       = "lagwatch_discover"
	HelmChartsQuery = `label_join(max by (chart, version, appVersion) (helm_chart_info == 1), "lagwatch_discover", "|", "chart", "version", "appVersion")`
	FluxChartsQuery = `label_join(max by (chart_name, revision, chart_app_version, chart_source_name) (gotk_resource_info{customresource_kind="HelmRelease"}), "lagwatch_discover", "|", "chart_name", "revision", "chart_app_version", "chart_source_name")`
	FluxReposQuery  = `label_join(max by (name, url) (gotk_resource_info{customresource_kind="HelmRepository"}), "lagwatch_discover", "|", "name", "url")`
)

// FromPrometheus lists the charts a cluster runs, from helm-exporter's
// helm_chart_info and Flux's gotk_resource_info (HelmRelease, joined to its
// HelmRepository's url), at time at. Notices say what could not be read.
func FromPrometheus(ctx context.Context, prom sources.DeployedSource, at time.Time) ([]Deployed, []string) {
	var notes []string
	read := func(q string) [][]string {
		samples, ns, err := prom.Deployed(ctx, sources.DeployedRef{Query: q, Label: joinLabel}, at, at)
		for _, n := range ns {
			if !strings.Contains(string(n), "returned no series") {
				notes = append(notes, string(n))
			}
		}
		if err != nil {
			notes = append(notes, err.Error())
			return nil
		}
		var out [][]string
		if len(samples) > 0 {
			for _, v := range samples[len(samples)-1].Versions {
				out = append(out, strings.Split(v, "|"))
			}
		}
		return out
	}
	var out []Deployed
	seen := map[string]bool{}
	for _, f := range read(HelmChartsQuery) {
		if len(f) == 3 && f[0] != "" && !seen["helm "+f[0]] {
			seen["helm "+f[0]] = true
			out = append(out, Deployed{Chart: f[0], Version: f[1], AppVersion: f[2], From: "helm_chart_info"})
		}
	}
	repos := map[string]string{}
	for _, f := range read(FluxReposQuery) {
		if len(f) == 2 {
			repos[f[0]] = f[1]
		}
	}
	for _, f := range read(FluxChartsQuery) {
		if len(f) == 4 && f[0] != "" && !seen["flux "+f[0]] {
			seen["flux "+f[0]] = true
			out = append(out, Deployed{Chart: f[0], Version: f[1], AppVersion: f[2], Repository: repos[f[3]], From: "gotk_resource_info"})
		}
	}
	return out, notes
}

// deployedQuery is the deployed-version query prefilled for a chart that
// came from Prometheus: the series it was found in, by chart name, and the
// label holding the packaged version (app or chart version).
func deployedQuery(d Deployed, versionFrom string) (query, label string) {
	name := strings.ReplaceAll(strings.ReplaceAll(d.Chart, `\`, `\\`), `"`, `\"`)
	switch {
	case d.From == "gotk_resource_info" && versionFrom == catalog.FromVersion:
		return fmt.Sprintf(`max by (revision) (gotk_resource_info{customresource_kind="HelmRelease", chart_name="%s"})`, name), "revision"
	case d.From == "gotk_resource_info":
		return fmt.Sprintf(`max by (chart_app_version) (gotk_resource_info{customresource_kind="HelmRelease", chart_name="%s"})`, name), "chart_app_version"
	case versionFrom == catalog.FromVersion:
		return fmt.Sprintf(`max by (version) (helm_chart_info{chart="%s"} == 1)`, name), "version"
	}
	return fmt.Sprintf(`max by (appVersion) (helm_chart_info{chart="%s"} == 1)`, name), "appVersion"
}

// Open builds the discoverer for in, the same way for the CLI and the
// resource. With fromPrometheus, the charts the cluster runs are read first
// and added to in.Deployed; the repositories they are joined to are those
// of in.Repos, the catalog's HTTP repositories, and the HelmRepository URLs
// Flux reports (allowed for this discovery only). The notices say what
// Prometheus could not answer.
func Open(ctx context.Context, cfg Config, in *Input, fromPrometheus bool) (*Discoverer, *collector.Sources, []string, error) {
	var notes []string
	var pre Requests // the requests of the first phase, counted in the summary
	if fromPrometheus {
		d0, src, err := New(Config{Sources: cfg.Sources})
		if err != nil {
			return nil, nil, nil, err
		}
		if src.Prometheus == nil {
			src.Close()
			return nil, nil, nil, fmt.Errorf("the charts a cluster runs are read from Prometheus, and no Prometheus URL is set")
		}
		in.Deployed, notes = FromPrometheus(ctx, src.Prometheus, cfg.atOrNow())
		pre = d0.Counter.Requests()
		src.Close()
		seen := map[string]bool{}
		for _, r := range in.Repos {
			seen[r.URL] = true
		}
		addRepo := func(u string) {
			if u != "" && !oci.IsOCI(u) && !seen[u] {
				seen[u] = true
				in.Repos = append(in.Repos, RepoInput{URL: u})
				cfg.Repos = append(cfg.Repos, u)
			}
		}
		for _, d := range in.Deployed {
			addRepo(d.Repository)
		}
		if cfg.Catalog != nil {
			for _, s := range cfg.Catalog.Services {
				addRepo(s.Chart.Repository)
			}
		}
	}
	d, src, err := New(cfg)
	if err == nil {
		d.Counter.n = pre
	}
	return d, src, notes, err
}

func (c Config) atOrNow() time.Time {
	if c.At.IsZero() {
		return time.Now().UTC()
	}
	return c.At
}
