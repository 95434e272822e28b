package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/registrylogin"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// repoFlags records --repo and --chart in order: a --chart belongs to the
// --repo before it.
type repoFlags struct {
	repos []discover.RepoInput
	err   error
}

type repoFlag struct{ f *repoFlags }

func (r repoFlag) String() string { return "" }
func (r repoFlag) Set(v string) error {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) Helm repository URL (for OCI charts give oci://HOST/PATH/NAME as an argument)", v)
	}
	r.f.repos = append(r.f.repos, discover.RepoInput{URL: strings.TrimSpace(v)})
	return nil
}

type chartFlag struct{ f *repoFlags }

func (c chartFlag) String() string { return "" }
func (c chartFlag) Set(v string) error {
	if len(c.f.repos) == 0 {
		return errors.New("--chart must follow the --repo it is read from")
	}
	last := &c.f.repos[len(c.f.repos)-1]
	last.Charts = append(last.Charts, strings.TrimSpace(v))
	return nil
}

type discoverOptions struct {
	repos          repoFlags
	oci            []string
	catalogPath    string
	fromPrometheus bool
	githubURL      string
	timeout        time.Duration
	ociBudget      int
	ociCacheDir    string
	promURL        string
	eolURL         string
	budget         int
	format         string
	at             time.Time
}

func parseDiscoverFlags(args []string, stderr io.Writer) (discoverOptions, error) {
	fs := flag.NewFlagSet("lagwatch discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o           discoverOptions
		timeout, at string
	)
	fs.Var(repoFlag{&o.repos}, "repo", "an HTTP Helm repository (repeatable); every chart of it unless --chart follows")
	fs.Var(chartFlag{&o.repos}, "chart", "a chart of the --repo before it (repeatable)")
	fs.BoolVar(&o.fromPrometheus, "from-prometheus", false, "the charts a cluster runs, from --prometheus-url (helm_chart_info, gotk_resource_info), joined by name to --repo and the --catalog's repositories")
	fs.StringVar(&o.catalogPath, "catalog", "", "a catalog whose chart repositories the charts from Prometheus are joined to (optional)")
	fs.StringVar(&o.githubURL, "github-url", github.DefaultBaseURL, "GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3)")
	fs.StringVar(&timeout, "timeout", defaultTimeout.String(), "time limit of one HTTP request")
	fs.IntVar(&o.ociBudget, "oci-budget", oci.DefaultBudget, "manifest requests per OCI chart (Docker Hub counts each as a pull)")
	fs.StringVar(&o.ociCacheDir, "oci-cache-dir", "", "directory that keeps OCI manifests and config blobs between runs (none by default)")
	fs.StringVar(&o.promURL, "prometheus-url", "", "Prometheus base URL, for --from-prometheus")
	fs.StringVar(&o.eolURL, "eol-url", eol.DefaultURL, "endoflife.date base URL, where eol.product candidates are looked up")
	fs.IntVar(&o.budget, "budget", discover.DefaultBudget, "GitHub requests the discovery makes at most")
	fs.StringVar(&o.format, "format", "yaml", "output format: yaml (a catalog, ready to save) or json")
	fs.StringVar(&at, "at", "", "use the data published up to this time: RFC3339 or a date; default now")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, a := range fs.Args() {
		if !oci.IsOCI(a) {
			return o, fmt.Errorf("argument %q is not an oci://HOST/PATH/NAME chart (HTTP repositories go in --repo)", a)
		}
		repo, name := splitLast(a)
		if _, _, err := oci.ParseRef(repo, name); err != nil {
			return o, fmt.Errorf("argument %q: %v", a, err)
		}
		o.oci = append(o.oci, a)
	}
	var err error
	if o.timeout, err = parseDuration(timeout); err != nil || o.timeout <= 0 {
		return o, fmt.Errorf("--timeout %q is not a positive duration such as 60s", timeout)
	}
	if u, err := url.Parse(o.githubURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("--github-url %q is not an http(s) URL", o.githubURL)
	}
	if u, err := url.Parse(o.eolURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return o, fmt.Errorf("--eol-url %q is not an http(s) URL without credentials", o.eolURL)
	}
	if o.ociBudget < 1 || o.budget < 1 {
		return o, fmt.Errorf("--oci-budget %d and --budget %d must be 1 or more", o.ociBudget, o.budget)
	}
	if o.format != "yaml" && o.format != "json" {
		return o, fmt.Errorf("--format %q must be yaml or json", o.format)
	}
	switch {
	case o.fromPrometheus && o.promURL == "":
		return o, errors.New("--from-prometheus needs --prometheus-url URL")
	case o.promURL != "":
		if u, err := url.Parse(o.promURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("--prometheus-url %q is not an http(s) URL such as http://localhost:9090", o.promURL)
		}
	}
	if len(o.repos.repos) == 0 && len(o.oci) == 0 && !o.fromPrometheus {
		return o, errors.New("nothing to discover: give --repo URL [--chart NAME]…, oci://HOST/PATH/NAME arguments, or --from-prometheus")
	}
	if o.at, err = atFlag(at); err != nil {
		return o, err
	}
	return o, nil
}

func splitLast(ref string) (string, string) {
	ref = strings.TrimRight(ref, "/")
	i := strings.LastIndex(ref, "/")
	return ref[:max(i, 0)], ref[i+1:]
}

// discoverCommand writes catalog entries from charts: exit 0 when every
// chart got a verified entry, 1 when some did not (they are named, with
// every candidate tried), 2 on usage errors.
func discoverCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseDiscoverFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch discover: %v\n", err)
		return exitUsage
	}
	var cat *catalog.Catalog
	if o.catalogPath != "" {
		if cat, err = loadCatalog(o.catalogPath); err != nil {
			printCatalogError(stderr, o.catalogPath, err)
			return exitUsage
		}
	}
	ociCreds, err := registrylogin.Parse(getenv("LAGWATCH_OCI_CREDENTIALS"))
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch discover: LAGWATCH_OCI_CREDENTIALS: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	token := strings.TrimSpace(getenv("GITHUB_TOKEN"))
	if token == "" {
		fmt.Fprintln(stderr, "lagwatch: GITHUB_TOKEN is not set: candidates' tags come from GitHub's tag feed (10 newest), which rarely verifies; set a token")
	}
	sc := collector.SourcesConfig{GitHubURL: o.githubURL, GitHubToken: token, Timeout: o.timeout, Transport: http.DefaultTransport,
		TokenHint: "set the GITHUB_TOKEN environment variable", OCICredentials: ociCreds, OCIBudget: o.ociBudget, OCICacheDir: o.ociCacheDir,
		OCICredentialsHint: "set LAGWATCH_OCI_CREDENTIALS (HOST USERNAME:PASSWORD)",
		PrometheusURL:      o.promURL, PrometheusToken: strings.TrimSpace(getenv("LAGWATCH_PROMETHEUS_TOKEN")),
		PrometheusUser: getenv("LAGWATCH_PROMETHEUS_USER"), PrometheusPassword: getenv("LAGWATCH_PROMETHEUS_PASSWORD"),
		EOLURL: o.eolURL, EOLHint: "--eol-url",
		PrometheusHint: "pass --prometheus-url URL", PrometheusAuthHint: "LAGWATCH_PROMETHEUS_TOKEN, or LAGWATCH_PROMETHEUS_USER and LAGWATCH_PROMETHEUS_PASSWORD"}
	in := discover.Input{Repos: o.repos.repos, OCI: o.oci}
	repos := append([]string(nil), o.oci...)
	for _, r := range o.repos.repos {
		repos = append(repos, r.URL)
	}
	d, src, notes, err := discover.Open(ctx, discover.Config{Sources: sc, Catalog: cat, Repos: repos, Budget: o.budget, At: o.at}, &in, o.fromPrometheus)
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch discover: %v\n", err)
		return exitUsage
	}
	defer src.Close()
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: Prometheus: %s\n", n)
	}
	if o.fromPrometheus {
		fmt.Fprintf(stderr, "lagwatch: the cluster runs %d charts (helm_chart_info, gotk_resource_info)\n", len(in.Deployed))
	}
	res := d.Run(ctx, in)
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		_, err = io.WriteString(stdout, res.YAML)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch discover: writing output: %v\n", err)
		return exitPartial
	}
	missing := len(res.Unmatched)
	for _, p := range res.Proposals {
		if !p.Verified {
			missing++
			fmt.Fprintf(stderr, "lagwatch: %s from %s: %s\n", p.Chart.Name, p.Chart.Repository, p.Reason)
		}
	}
	for _, u := range res.Unmatched {
		fmt.Fprintf(stderr, "lagwatch: %s %s (%s) unmatched: %s\n", u.Chart, u.Version, u.From, u.Reason)
	}
	r := res.Requests
	fmt.Fprintf(stderr, "lagwatch: requests: GitHub %d (budget %d), chart repositories %d, Prometheus %d, endoflife.date %d\n", r.GitHub, o.budget, r.Charts, r.Prometheus, r.EOL)
	if missing > 0 {
		fmt.Fprintf(stderr, "lagwatch: %d of %d charts have no verified entry\n", missing, len(res.Proposals)+len(res.Unmatched))
		return exitPartial
	}
	return exitOK
}
