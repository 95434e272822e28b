package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
	"github.com/lagwatch/lagwatch/pkg/registrylogin"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// Exit codes.
const (
	exitOK      = 0
	exitPartial = 1 // report printed, some services failed
	exitUsage   = 2 // bad arguments or catalog
)

// Defaults of the report command.
const (
	defaultTimeout = 60 * time.Second
)

const usage = `usage: lagwatch <command> [flags]

commands:
  report    fetch every service of a catalog and print the status table
  serve     refresh every service of a catalog on a schedule and serve Prometheus metrics
  validate  check a catalog file and exit
  check     check every service of a catalog against its data: coverage, problems, fixes
  discover  write catalog entries from charts (a Helm repository, OCI charts, a cluster's Prometheus)

lagwatch report --catalog FILE [--at TIME] [--since DURATION] [--format table|json] [--min-severity high]
                [--github-url URL] [--services a,b] [--maintainer M] [--timeout DURATION]
                [--oci-budget N] [--oci-cache-dir DIR] [--oci-token-host HOST]... [--prometheus-url URL]
                [--verdict-window 365d] [--verdict-tolerance 7d] [--verdict-abandonment 120d]
lagwatch serve --catalog FILE [--listen ADDR] [--refresh DURATION] and the source flags of report
                (--github-url, --services, --maintainer, --timeout, --oci-budget, --oci-cache-dir,
                --oci-token-host, --prometheus-url, --verdict-*)

Durations are days (90d) or a Go duration (720h), at most 106751d (about 292
years); --verdict-* at most 3650d.

The GitHub token is read from the environment variable GITHUB_TOKEN. Without
it, services with upstream source "tags" get only their 10 newest tags (from
GitHub's tag feed; GraphQL needs a token) and the REST API allows 60 requests
per hour. Logins of private OCI registries are
read from LAGWATCH_OCI_CREDENTIALS, one per line: HOST USERNAME:PASSWORD.
Services whose catalog entry reads the deployed version from Prometheus need
--prometheus-url; its login, if any, is read from LAGWATCH_PROMETHEUS_TOKEN
(bearer) or LAGWATCH_PROMETHEUS_USER and LAGWATCH_PROMETHEUS_PASSWORD.

lagwatch check --catalog FILE [--at TIME] [--format text|json] and the source flags of report
lagwatch discover [--repo URL [--chart NAME]...]... [oci://HOST/PATH/NAME...]
                [--from-prometheus --prometheus-url URL [--catalog FILE]] [--format yaml|json]
                [--budget N] [--at TIME] [--github-url URL] [--timeout D] [--oci-budget N] [--oci-cache-dir DIR] [--eol-url URL]

Exit codes: 0 ok; 1 some services failed (the others are still reported),
check: some service has a problem, discover: some chart has no verified upstream;
2 usage or catalog error.
`

// run is the whole program; main only wires it to the process.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "report":
		return report(args[1:], stdout, stderr, getenv)
	case "serve":
		return serve(context.Background(), args[1:], stderr, getenv, nil)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "check":
		return checkCommand(args[1:], stdout, stderr, getenv)
	case "discover":
		return discoverCommand(args[1:], stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "lagwatch: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// tokenHosts is the repeatable --oci-token-host flag.
type tokenHosts []string

func (t *tokenHosts) String() string { return strings.Join(*t, ",") }

func (t *tokenHosts) Set(v string) error {
	hosts, err := oci.ParseTokenHosts(v, "token host")
	if err != nil {
		return err
	}
	*t = append(*t, hosts...)
	return nil
}

// sourceOptions are the flags every command that fetches shares: what to
// read and how to reach it.
type sourceOptions struct {
	catalogPath string
	githubURL   string
	services    []string
	maintainer  string
	timeout     time.Duration
	ociBudget   int
	ociCacheDir string
	ociTokens   tokenHosts
	promURL     string
	eolURL      string
	verdict     engine.VerdictParams

	services0, timeout0 string    // raw flag values, checked by check
	verdict0            [3]string // --verdict-window, --verdict-tolerance, --verdict-abandonment
}

func (o *sourceOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.catalogPath, "catalog", "", "catalog YAML file (required)")
	fs.StringVar(&o.githubURL, "github-url", github.DefaultBaseURL, "GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3)")
	fs.StringVar(&o.services0, "services", "", "only these services (comma-separated names)")
	fs.StringVar(&o.maintainer, "maintainer", "", "only services with this maintainer")
	fs.StringVar(&o.timeout0, "timeout", defaultTimeout.String(), "time limit of one HTTP request")
	fs.IntVar(&o.ociBudget, "oci-budget", oci.DefaultBudget, "manifest requests per OCI chart and refresh (Docker Hub counts each as a pull)")
	fs.StringVar(&o.ociCacheDir, "oci-cache-dir", "", "directory that keeps OCI manifests and config blobs between runs (none by default)")
	fs.Var(&o.ociTokens, "oci-token-host", "a host an OCI registry may name as its token service besides its own host and domain (repeatable)")
	fs.StringVar(&o.promURL, "prometheus-url", "", "Prometheus base URL for deployed versions read from Prometheus (none by default)")
	fs.StringVar(&o.eolURL, "eol-url", eol.DefaultURL, "endoflife.date base URL, asked only for services that name an eol.product")
	fs.StringVar(&o.verdict0[0], "verdict-window", "365d", "verdict: the upstream releases looked at (W)")
	fs.StringVar(&o.verdict0[1], "verdict-tolerance", "7d", "verdict: the packaging delay you accept (T)")
	fs.StringVar(&o.verdict0[2], "verdict-abandonment", "120d", "verdict: chart age after which a chart behind upstream may be abandoned (A)")
}

func (o *sourceOptions) check() error {
	if o.catalogPath == "" {
		return errors.New("--catalog FILE is required")
	}
	var err error
	if o.timeout, err = durationFlag("--timeout", o.timeout0, time.Nanosecond, maxDuration, "60s"); err != nil {
		return err
	}
	if u, err := url.Parse(o.githubURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--github-url %q is not an http(s) URL", o.githubURL)
	}
	if o.ociBudget < 1 {
		return fmt.Errorf("--oci-budget %d must be 1 or more", o.ociBudget)
	}
	if o.promURL != "" {
		if u, err := url.Parse(o.promURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--prometheus-url %q is not an http(s) URL such as http://localhost:9090", o.promURL)
		}
	}
	flags := [3]string{"--verdict-window", "--verdict-tolerance", "--verdict-abandonment"}
	var vd [3]time.Duration
	for i, raw := range o.verdict0 {
		if vd[i], err = durationFlag(flags[i], raw, time.Nanosecond, models.MaxVerdictDays*day, "7d or 168h"); err != nil {
			return err
		}
	}
	if vd[1] >= vd[0] {
		return fmt.Errorf("--verdict-tolerance %s must be shorter than --verdict-window %s", o.verdict0[1], o.verdict0[0])
	}
	o.verdict = engine.VerdictParams{Window: vd[0], Tolerance: vd[1], Abandonment: vd[2]}
	for _, s := range strings.Split(o.services0, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.services = append(o.services, s)
		}
	}
	return nil
}

// open loads the catalog, picks the services and builds the plugin's sources
// (only the GitHub API and the catalog's chart hosts) on transport. Errors
// are printed; the int is the exit code when ok is false.
func (o *sourceOptions) open(command string, stderr io.Writer, getenv func(string) string, transport http.RoundTripper, ttl time.Duration) (services []catalog.Service, src *collector.Sources, code int, ok bool) {
	cat, err := loadCatalog(o.catalogPath)
	if err != nil {
		printCatalogError(stderr, o.catalogPath, err)
		return nil, nil, exitUsage, false
	}
	services = cat.Filter(o.services, o.maintainer)
	if len(services) == 0 {
		fmt.Fprintf(stderr, "lagwatch %s: no service of %s matches --services %q --maintainer %q\n",
			command, o.catalogPath, strings.Join(o.services, ","), o.maintainer)
		return nil, nil, exitUsage, false
	}
	token := strings.TrimSpace(getenv("GITHUB_TOKEN"))
	promUser, promPassword, promToken := getenv("LAGWATCH_PROMETHEUS_USER"), getenv("LAGWATCH_PROMETHEUS_PASSWORD"), strings.TrimSpace(getenv("LAGWATCH_PROMETHEUS_TOKEN"))
	switch {
	case promPassword != "" && promUser == "":
		fmt.Fprintf(stderr, "lagwatch %s: LAGWATCH_PROMETHEUS_PASSWORD is set but LAGWATCH_PROMETHEUS_USER is not: set the user, or unset the password\n", command)
		return nil, nil, exitUsage, false
	case promToken != "" && promUser != "":
		fmt.Fprintf(stderr, "lagwatch %s: both LAGWATCH_PROMETHEUS_USER (basic auth) and LAGWATCH_PROMETHEUS_TOKEN are set: keep one of them\n", command)
		return nil, nil, exitUsage, false
	}
	ociCreds, err := registrylogin.Parse(getenv("LAGWATCH_OCI_CREDENTIALS"))
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch %s: LAGWATCH_OCI_CREDENTIALS: %v\n", command, err)
		return nil, nil, exitUsage, false
	}
	src, err = collector.NewSources(collector.SourcesConfig{
		GitHubURL: o.githubURL, GitHubToken: token, Catalog: cat, Timeout: o.timeout, Transport: transport, CacheTTL: ttl,
		TokenHint:      "set the GITHUB_TOKEN environment variable",
		OCICredentials: ociCreds, OCIBudget: o.ociBudget, OCICacheDir: o.ociCacheDir,
		OCICredentialsHint: "set LAGWATCH_OCI_CREDENTIALS (HOST USERNAME:PASSWORD)",
		PrometheusURL:      o.promURL, PrometheusToken: promToken, PrometheusUser: promUser, PrometheusPassword: promPassword,
		PrometheusHint:     "pass --prometheus-url URL",
		PrometheusAuthHint: "LAGWATCH_PROMETHEUS_TOKEN, or LAGWATCH_PROMETHEUS_USER and LAGWATCH_PROMETHEUS_PASSWORD",
		OCITokenHosts:      o.ociTokens, OCITokenHostsHint: "--oci-token-host",
		EOLURL: o.eolURL, EOLHint: "--eol-url",
	})
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch %s: %v\n", command, err)
		return nil, nil, exitUsage, false
	}
	if token == "" {
		fmt.Fprintln(stderr, "lagwatch: GITHUB_TOKEN is not set: anonymous GitHub access (60 REST requests/hour; upstreams with source: tags get only their 10 newest tags, from GitHub's tag feed)")
	}
	return services, src, exitOK, true
}

type reportOptions struct {
	sourceOptions
	at          time.Time
	since       time.Duration
	format      string
	minSeverity engine.Severity
}

func parseReportFlags(args []string, stderr io.Writer) (reportOptions, error) {
	fs := flag.NewFlagSet("lagwatch report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o                      reportOptions
		at, since, minSeverity string
	)
	o.register(fs)
	fs.StringVar(&at, "at", "", "evaluate at this time: RFC3339 (2025-09-30T00:00:00Z) or a date (2025-09-30); default now")
	fs.StringVar(&since, "since", "90d", "window of the packaging-delay statistics, ending at --at: a Go duration (72h) or days (90d)")
	fs.StringVar(&o.format, "format", "table", "output format: table or json")
	fs.StringVar(&minSeverity, "min-severity", "", "count only advisories rated at least this in the security columns: "+strings.Join(models.MinSeverities, ", ")+" (default: every advisory)")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if minSeverity != "" {
		if !slices.Contains(models.MinSeverities, minSeverity) {
			return o, fmt.Errorf("--min-severity %q must be one of %s", minSeverity, strings.Join(models.MinSeverities, ", "))
		}
		o.minSeverity, _ = engine.ParseSeverity(minSeverity)
	}
	if err := o.check(); err != nil {
		return o, err
	}
	var err error
	if o.at, err = atFlag(at); err != nil {
		return o, err
	}
	if o.since, err = durationFlag("--since", since, time.Nanosecond, maxDuration, "90d or 720h"); err != nil {
		return o, err
	}
	if o.format != "table" && o.format != "json" {
		return o, fmt.Errorf("--format %q must be table or json", o.format)
	}
	return o, nil
}

// atFlag reads --at: RFC3339 (with or without fractional seconds) or a
// calendar date, which means midnight UTC; empty means now.
func atFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q is neither RFC3339 (2025-09-30T00:00:00Z) nor a date (2025-09-30)", s)
}

const day = 24 * time.Hour

// maxDuration is the longest duration flag (106751d, about 292 years).
const maxDuration = models.MaxDuration

// errTooLong: a duration that does not fit in a time.Duration.
var errTooLong = errors.New("too long")

// parseDuration reads a Go duration or a whole number of days ("90d"). A
// value too long for a time.Duration is errTooLong, never wrapped around.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if days > int64(maxDuration/day) || errors.Is(err, strconv.ErrRange) && days > 0 {
			return 0, errTooLong
		}
		if err != nil || days < -int64(maxDuration/day) {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * day, nil
	}
	d, err := time.ParseDuration(s)
	// time.ParseDuration says "invalid" for syntax and overflow alike: the
	// same value with every number made 1 parses only if it overflowed.
	if err != nil && !strings.HasPrefix(s, "-") {
		if _, err1 := time.ParseDuration(digits.ReplaceAllString(s, "1")); err1 == nil {
			return 0, errTooLong
		}
	}
	return d, err
}

var digits = regexp.MustCompile(`[0-9]+`)

// durationFlag reads the value of a duration flag: at least least (a
// positive duration when least is 1ns) and at most most, else an error that
// names the flag, the value and the limit; example shows a valid value.
func durationFlag(flag, raw string, least, most time.Duration, example string) (time.Duration, error) {
	d, err := parseDuration(raw)
	switch {
	case errors.Is(err, errTooLong) || err == nil && d > most:
		return 0, fmt.Errorf("%s %s is too long: at most %s", flag, strings.TrimSpace(raw), formatMax(most))
	case (err != nil || d < least) && least <= time.Nanosecond:
		return 0, fmt.Errorf("%s %q is not a positive duration such as %s", flag, raw, example)
	case err != nil || d < least:
		return 0, fmt.Errorf("%s %q is not a duration of at least %s, such as %s", flag, raw, strings.TrimSuffix(least.String(), "0s"), example)
	}
	return d, nil
}

// formatMax writes a limit in days, with years when it is maxDuration.
func formatMax(d time.Duration) string {
	s := strconv.FormatInt(int64(d/day), 10) + "d"
	if d == maxDuration {
		s += " (about 292 years)"
	}
	return s
}

func loadCatalog(path string) (*catalog.Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return catalog.Parse(b)
}

// printCatalogError names the file and, for validation errors, one problem per line.
func printCatalogError(stderr io.Writer, path string, err error) {
	var errs catalog.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(stderr, "lagwatch: catalog %s is invalid:\n", path)
		for _, e := range errs {
			fmt.Fprintf(stderr, "  %s: %s\n", path, e.Error())
		}
		return
	}
	fmt.Fprintf(stderr, "lagwatch: catalog %s: %v\n", path, err)
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lagwatch validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("catalog", "", "catalog YAML file (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *path == "" {
		fmt.Fprintln(stderr, "lagwatch validate: --catalog FILE is required")
		return exitUsage
	}
	cat, err := loadCatalog(*path)
	if err != nil {
		printCatalogError(stderr, *path, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: %d services, chart hosts %s\n", *path, len(cat.Services), strings.Join(cat.Hosts(), ", "))
	return exitOK
}

func report(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseReportFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch report: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	counter := o.requestCounter()
	services, src, code, ok := o.open("report", stderr, getenv, counter, 0)
	if !ok {
		return code
	}
	defer src.Close()

	fmt.Fprintf(stderr, "lagwatch: fetching %d services of %s\n", len(services), o.catalogPath)
	results := src.Collector().Collect(ctx, services, func(done, total int, r collector.Result) {
		if r.Err != nil {
			fmt.Fprintf(stderr, "[%d/%d] %s failed: %v\n", done, total, r.Service.Name, r.Err)
			return
		}
		fmt.Fprintf(stderr, "[%d/%d] %s ok\n", done, total, r.Service.Name)
	})

	from := o.at.Add(-o.since)
	src.Collector().AddDeployed(ctx, results, collector.DeployedRange{From: from, To: o.at})
	collector.AtLeast(results, o.minSeverity)
	rows := statusRows(frames.Status(results, from, o.at, o.verdict))
	switch o.format {
	case "json":
		err = writeJSON(stdout, o.at, from, o.minSeverity, rows)
	default:
		err = writeTable(stdout, rows)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch report: writing output: %v\n", err)
		return exitPartial
	}

	if o.minSeverity > engine.SeverityNone {
		fmt.Fprintf(stderr, "note: the security columns count only advisories rated %s or higher (--min-severity)\n", o.minSeverity)
	}
	failed := 0
	for _, r := range results {
		if r.Timeline != nil { // why a row has "-" where a number was expected
			for _, n := range append(r.Timeline.Explain(r.Timeline.At(o.at)), frames.EOLNotices(r, o.at)...) {
				fmt.Fprintf(stderr, "warning: %s: %s\n", r.Service.Name, n)
			}
		}
		for _, n := range r.Notices {
			fmt.Fprintf(stderr, "note: %s: %s\n", r.Service.Name, n)
		}
		if r.Err != nil {
			failed++
			fmt.Fprintf(stderr, "warning: %s: %v\n", r.Service.Name, r.Err)
		}
	}
	fmt.Fprintf(stderr, "lagwatch: %s%s\n", counter.summary(), followedSummary(src.Followed()))
	if failed > 0 {
		fmt.Fprintf(stderr, "lagwatch: %d of %d services failed; their rows are incomplete\n", failed, len(results))
		return exitPartial
	}
	return exitOK
}
