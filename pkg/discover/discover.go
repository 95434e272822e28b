// Package discover writes catalog entries from the chart itself: candidates
// for the upstream repository come from the chart's published metadata
// (sources, home, images, the chart repository's GitHub Pages host and
// owner); each candidate's history is read and a source and tag pattern
// inferred as lagwatch check does (check.Infer); a candidate is proposed
// only when most of the chart's recent app versions are among its versions.
// The CLI (lagwatch discover) and the resource (GET /discover) share it.
package discover

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
	"go.yaml.in/yaml/v3"
)

// Bounds of the chart metadata read for candidates.
const maxMetadata, maxMetadataBytes = 10, 4096

// DefaultBudget is how many GitHub requests one discovery makes at most.
const DefaultBudget = 60

// ChartRef names a chart.
type ChartRef struct {
	Repository string `json:"repository"`
	Name       string `json:"name"`
}

// Candidate is one upstream repository tried, and what it gives.
type Candidate struct {
	Repo        string         `json:"repo"`
	From        []string       `json:"from"`
	Source      string         `json:"source"`
	TagPattern  string         `json:"tagPattern"`
	VersionFrom string         `json:"versionFrom"`
	Coverage    check.Coverage `json:"coverage"`
	Error       string         `json:"error"`

	inferred check.Inferred
}

// Proposal is the answer for one chart.
type Proposal struct {
	Chart      ChartRef         `json:"chart"`
	Verified   bool             `json:"verified"`
	Reason     string           `json:"reason"`
	Service    *catalog.Service `json:"service"`
	Evidence   []string         `json:"evidence"`
	Coverage   check.Coverage   `json:"coverage"`
	Candidates []Candidate      `json:"candidates"`
	// The security inputs proposed (null when none), also in Service when
	// verified, and the evidence for each, proposed or not (security.go).
	Advisories       *catalog.Advisories `json:"advisories"`
	EOL              *catalog.EOL        `json:"eol"`
	SecurityEvidence []string            `json:"securityEvidence"`

	best int // the proposed candidate, when Verified
}

// Unmatched is a chart a cluster runs that no repository serves.
type Unmatched struct {
	Chart      string `json:"chart"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
	From       string `json:"from"`
	Reason     string `json:"reason"`
}

// Requests counts the HTTP requests of a discovery by destination.
type Requests struct {
	GitHub     int `json:"github"`
	Charts     int `json:"charts"`
	Prometheus int `json:"prometheus"`
	EOL        int `json:"eol"` // endoflife.date
}

// Result is a whole discovery (docs/catalog.md has its JSON).
type Result struct {
	Proposals []Proposal  `json:"proposals"`
	Unmatched []Unmatched `json:"unmatched"`
	YAML      string      `json:"yaml"`
	Requests  Requests    `json:"requests"`
}

// Deployed is a chart a cluster runs, as a Prometheus series names it.
type Deployed struct {
	Chart      string // chart name
	Version    string // chart version
	AppVersion string
	Repository string // the chart repository URL when the series says it (Flux), "" otherwise
	From       string // the metric: helm_chart_info or gotk_resource_info
}

// Discoverer reads charts and candidate upstreams.
type Discoverer struct {
	Upstreams sources.UpstreamSource // GitHub
	Charts    sources.ChartSource    // OCI charts (and HTTP ones by name)
	Index     func(ctx context.Context, repository string) (helm.Charts, error)
	Budget    int       // GitHub requests at most; DefaultBudget when 0
	Counter   *Counter  // counts requests (the budget reads it); may be nil
	At        time.Time // chart and upstream data up to this time; now when zero
	// The security inputs' sources; nil skips that proposal. Advisories
	// and go.mod reads count in the GitHub budget.
	Advisories sources.AdvisorySource
	GoModules  check.GoModuleSource
	EOL        sources.EOLSource
}

// Input is what to discover.
type Input struct {
	Repos    []RepoInput // HTTP repositories, with the charts wanted (all when none)
	OCI      []string    // oci://HOST/PATH/NAME
	Deployed []Deployed  // charts a cluster runs (joined to Repos by name)
}

// RepoInput is an HTTP chart repository and the charts wanted of it.
type RepoInput struct {
	URL    string
	Charts []string
}

type chartData struct {
	ref      ChartRef
	versions []sources.ChartVersion
	deployed *Deployed
}

// Run discovers every chart of in.
func (d *Discoverer) Run(ctx context.Context, in Input) Result {
	res := Result{Proposals: []Proposal{}, Unmatched: []Unmatched{}}
	var charts []chartData
	var failed []Proposal
	index := map[string]helm.Charts{}
	for _, r := range in.Repos {
		all, err := d.Index(ctx, r.URL)
		if err != nil {
			failed = append(failed, Proposal{Chart: ChartRef{Repository: r.URL, Name: strings.Join(r.Charts, ",")}, Reason: "the chart repository could not be read: " + err.Error()})
			continue
		}
		index[r.URL] = all
		names := r.Charts
		if len(names) == 0 && !hasDeployed(in) {
			names = all.Names()
		}
		for _, n := range names {
			vs, ok := all[n]
			if !ok {
				failed = append(failed, Proposal{Chart: ChartRef{Repository: r.URL, Name: n}, Reason: fmt.Sprintf("chart %s is not in %s (it has %s)", quote.Value(n), r.URL, strings.Join(first(all.Names(), 10), ", "))})
				continue
			}
			charts = append(charts, chartData{ref: ChartRef{Repository: r.URL, Name: n}, versions: vs})
		}
	}
	for _, ref := range in.OCI {
		repo, name := splitOCI(ref)
		vs, _, err := d.Charts.ChartVersions(ctx, sources.ChartRef{Repository: repo, Name: name})
		if err != nil {
			failed = append(failed, Proposal{Chart: ChartRef{Repository: repo, Name: name}, Reason: "the chart could not be read: " + err.Error()})
			continue
		}
		charts = append(charts, chartData{ref: ChartRef{Repository: repo, Name: name}, versions: vs})
	}
	// Charts a cluster runs: joined by name to the repositories named.
	for i := range in.Deployed {
		dep := &in.Deployed[i]
		var hit []string
		for _, r := range in.Repos {
			if dep.Repository != "" && !sameURL(dep.Repository, r.URL) {
				continue
			}
			if vs, ok := index[r.URL][dep.Chart]; ok {
				hit = append(hit, r.URL)
				charts = append(charts, chartData{ref: ChartRef{Repository: r.URL, Name: dep.Chart}, versions: vs, deployed: dep})
				break
			}
		}
		if len(hit) == 0 {
			reason := fmt.Sprintf("no repository given or in the catalog serves a chart named %s", dep.Chart)
			if dep.Repository != "" {
				reason = fmt.Sprintf("its repository %s (from the cluster) is not among those given or in the catalog, or does not serve it", dep.Repository)
			}
			res.Unmatched = append(res.Unmatched, Unmatched{Chart: dep.Chart, Version: dep.Version, AppVersion: dep.AppVersion, From: dep.From, Reason: reason})
		}
	}
	charts = dedupe(charts)
	d.prefetch(ctx, charts)
	for _, c := range charts {
		res.Proposals = append(res.Proposals, d.one(ctx, c))
	}
	for _, p := range failed {
		p.Evidence, p.Candidates, p.SecurityEvidence = []string{}, []Candidate{}, []string{}
		res.Proposals = append(res.Proposals, p)
	}
	res.YAML = YAML(res)
	if d.Counter != nil {
		res.Requests = d.Counter.Requests()
	}
	return res
}

func hasDeployed(in Input) bool { return len(in.Deployed) > 0 }

func dedupe(cs []chartData) []chartData {
	seen := map[ChartRef]bool{}
	out := cs[:0]
	for _, c := range cs {
		if !seen[c.ref] {
			seen[c.ref] = true
			out = append(out, c)
		}
	}
	return out
}

func sameURL(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/")) }
	return norm(a) == norm(b)
}

// splitOCI splits oci://HOST/PATH/NAME into oci://HOST/PATH and NAME.
func splitOCI(ref string) (string, string) {
	ref = strings.TrimRight(strings.TrimSpace(ref), "/")
	i := strings.LastIndex(ref, "/")
	if i < len("oci://") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

func (d *Discoverer) at() time.Time {
	if d.At.IsZero() {
		return time.Now().UTC()
	}
	return d.At
}

func (d *Discoverer) budget() int {
	if d.Budget <= 0 {
		return DefaultBudget
	}
	return d.Budget
}

// spent reports whether the GitHub request budget is used up.
func (d *Discoverer) spent() bool {
	return d.Counter != nil && d.Counter.Requests().GitHub >= d.budget()
}

// prefetch reads the releases of every candidate of every chart at once
// (batched GraphQL with a token, 20 repositories a request).
func (d *Discoverer) prefetch(ctx context.Context, charts []chartData) {
	p, ok := d.Upstreams.(sources.Prefetcher)
	if !ok {
		return
	}
	var refs []sources.UpstreamRef
	for _, c := range charts {
		for _, cand := range Candidates(c.ref, newest(c.versions)) {
			refs = append(refs, sources.UpstreamRef{Repo: cand.Repo, Kind: sources.KindReleases})
		}
	}
	// One batched read of N repositories costs fewer requests than N
	// single reads, never more; with a smaller budget each read is counted.
	if len(refs) > 1 && len(refs) <= d.budget() && !d.spent() {
		p.Prefetch(ctx, refs)
	}
}

// newest is the chart's newest version by created time (its metadata is
// the chart's current word), or the zero value.
func newest(vs []sources.ChartVersion) sources.ChartVersion {
	var n sources.ChartVersion
	for _, v := range vs {
		if n.Version == "" || v.Created.After(n.Created) {
			n = v
		}
	}
	return n
}

// Repair proposes another upstream for a catalog service whose entry does
// not fit its data (check.Runner.Repair): the verified proposal for its
// chart, keeping the entry's name, maintainer, chart and deployed fields.
func (d *Discoverer) Repair(ctx context.Context, svc catalog.Service, charts []sources.ChartVersion, at time.Time) *check.Repair {
	dd := *d
	dd.At = at
	p := dd.upstream(ctx, chartData{ref: ChartRef{Repository: svc.Chart.Repository, Name: svc.Chart.Name}, versions: charts})
	if !p.Verified {
		return nil
	}
	fixed := svc
	fixed.Upstream = p.Service.Upstream
	fixed.Chart.VersionFrom = p.Service.Chart.VersionFrom
	u := fixed.Upstream
	return &check.Repair{Service: fixed, Coverage: p.Coverage,
		Evidence: fmt.Sprintf("named by the chart's %s; %s with tagPattern %s keeps %d of %d; %d of the last %d chart versions match",
			strings.Join(p.Candidates[p.best].From, ", "), u.Source, quote.YAML(u.TagPattern), p.Candidates[p.best].inferred.Kept, p.Candidates[p.best].inferred.Fetched, p.Coverage.Matched, p.Coverage.Of)}
}

// one proposes an entry for one chart: its upstream, then its security inputs.
func (d *Discoverer) one(ctx context.Context, c chartData) Proposal {
	p := d.upstream(ctx, c)
	d.security(ctx, c, &p)
	return p
}

// upstream tries every candidate of one chart and proposes the best verified.
func (d *Discoverer) upstream(ctx context.Context, c chartData) Proposal {
	p := Proposal{Chart: c.ref, Evidence: []string{}, Candidates: []Candidate{}, SecurityEvidence: []string{}}
	meta := newest(c.versions)
	cands := Candidates(c.ref, meta)
	versionFrom := catalog.FromAppVersion
	if !hasAppVersions(c.versions) {
		versionFrom = catalog.FromVersion
	}
	best := -1
	for _, cand := range cands {
		cand := d.try(ctx, cand, c, versionFrom)
		p.Candidates = append(p.Candidates, cand)
		i := len(p.Candidates) - 1
		if cand.Error == "" && verified(cand.Coverage) && (best < 0 || cand.Coverage.Share > p.Candidates[best].Coverage.Share) {
			best = i
		}
	}
	if best < 0 {
		var tried []string
		for _, cand := range p.Candidates {
			s := fmt.Sprintf("%s (%s: %d of %d)", cand.Repo, strings.Join(cand.From, ", "), cand.Coverage.Matched, cand.Coverage.Of)
			if cand.Error != "" {
				s = fmt.Sprintf("%s (%s: %s)", cand.Repo, strings.Join(cand.From, ", "), cand.Error)
			}
			tried = append(tried, s)
		}
		switch {
		case len(c.versions) == 0:
			p.Reason = "no verified upstream: the chart has no version"
		case len(tried) == 0:
			p.Reason = "no verified upstream: the chart's metadata names no GitHub repository (no sources, home, images or GitHub Pages host)"
		default:
			p.Reason = "no verified upstream: no candidate has most of the chart's last app versions among its versions; tried " + strings.Join(tried, "; ")
		}
		return p
	}
	win := p.Candidates[best]
	p.best = best
	svc := win.inferred.Service
	svc.Name = serviceName(c.ref.Name)
	maint, why := Maintainer(c.ref, svc.Upstream.Repo, meta)
	svc.Maintainer = maint
	if c.deployed != nil {
		q, l := deployedQuery(*c.deployed, svc.Chart.VersionFrom)
		svc.Deployed = &catalog.Deployed{Prometheus: &catalog.DeployedPrometheus{Query: q, Label: l}}
	}
	p.Verified, p.Service, p.Coverage = true, &svc, win.Coverage
	p.Evidence = append(p.Evidence,
		fmt.Sprintf("upstream %s: named by the chart's %s", svc.Upstream.Repo, strings.Join(win.From, ", ")),
		fmt.Sprintf("%s: keeps %d of %d %s; %d of the last %d chart versions match", svc.Upstream.Source, win.inferred.Kept, win.inferred.Fetched, svc.Upstream.Source, win.Coverage.Matched, win.Coverage.Of),
		fmt.Sprintf("maintainer %s: %s", maint, why))
	if c.deployed != nil {
		p.Evidence = append(p.Evidence, fmt.Sprintf("deployed: the cluster runs chart %s %s (%s)", c.deployed.Version, orNone(c.deployed.AppVersion), c.deployed.From))
	}
	return p
}

var nameBad = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// serviceName is a catalog service name for a chart name (letters, digits,
// '.', '_', '-'; a chart index key may hold anything).
func serviceName(chart string) string {
	n := strings.Trim(nameBad.ReplaceAllString(chart, "-"), "-._")
	if n == "" {
		return "chart"
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "no appVersion"
	}
	return "app " + s
}

// verified: more than half of the chart's last versions match.
func verified(c check.Coverage) bool { return c.Of > 0 && 2*c.Matched > c.Of }

func hasAppVersions(vs []sources.ChartVersion) bool {
	for _, v := range vs {
		if v.AppVersion != "" {
			return true
		}
	}
	return false
}

// try reads one candidate's history (releases, then tags when the releases
// do not verify) within the budget and infers its entry.
func (d *Discoverer) try(ctx context.Context, cand Candidate, c chartData, versionFrom string) Candidate {
	base := catalog.Service{Name: c.ref.Name, Upstream: catalog.Upstream{Repo: cand.Repo, Source: sources.KindReleases},
		Chart: catalog.Chart{Repository: c.ref.Repository, Name: c.ref.Name, VersionFrom: versionFrom}}
	var best *check.Inferred
	var errs []string
	for _, kind := range []string{sources.KindReleases, sources.KindTags} {
		if best != nil && verified(best.Coverage) {
			break
		}
		if d.spent() {
			errs = append(errs, fmt.Sprintf("%s not read: the budget of %d GitHub requests is spent", kind, d.budget()))
			break
		}
		ups, _, err := d.Upstreams.Releases(ctx, sources.UpstreamRef{Repo: cand.Repo, Kind: kind})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", kind, err))
			continue
		}
		svc := base
		svc.Upstream.Source = kind
		inf, err := check.Infer(svc, check.Data{Releases: ups, Charts: c.versions}, d.at())
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if best == nil || inf.Coverage.Matched > best.Coverage.Matched {
			best = &inf
		}
	}
	if best == nil {
		cand.Error = strings.Join(errs, "; ")
		return cand
	}
	cand.inferred = *best
	cand.Source, cand.TagPattern, cand.VersionFrom, cand.Coverage = best.Service.Upstream.Source, best.Service.Upstream.TagPattern, best.Service.Chart.VersionFrom, best.Coverage
	cand.Coverage.Missing = nil
	return cand
}

var ghRepoRe = regexp.MustCompile(`(?i)^(?:https?://|git@|git://)?(?:www\.)?github\.com[/:]([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+?)(?:\.git)?(?:[/#?].*)?$`)

// githubRepo reads OWNER/NAME from a GitHub URL.
func githubRepo(u string) (string, bool) {
	m := ghRepoRe.FindStringSubmatch(strings.TrimSpace(u))
	if m == nil {
		return "", false
	}
	return m[1] + "/" + m[2], true
}

// imageRepo reads OWNER/NAME from an image on GHCR or Docker Hub.
func imageRepo(image string) (string, bool) {
	image = strings.TrimSpace(image)
	if i := strings.IndexAny(image, "@"); i >= 0 {
		image = image[:i]
	}
	parts := strings.Split(image, "/")
	if last := parts[len(parts)-1]; strings.Contains(last, ":") {
		parts[len(parts)-1] = last[:strings.Index(last, ":")]
	}
	switch {
	case len(parts) == 3 && (parts[0] == "ghcr.io" || parts[0] == "docker.io" || parts[0] == "registry-1.docker.io" || parts[0] == "index.docker.io"):
		parts = parts[1:]
	case len(parts) == 2 && !strings.ContainsAny(parts[0], ".:"):
		// Docker Hub without its host.
	default:
		return "", false
	}
	if parts[0] == "library" || parts[0] == "" || parts[1] == "" {
		return "", false
	}
	return parts[0] + "/" + parts[1], true
}

// publisher is the owner of the chart repository where its URL says it: a
// GitHub Pages host OWNER.github.io, or the first path segment of a GHCR or
// Docker Hub OCI path.
func publisher(repository string) (owner, pagesRepo string) {
	if oci.IsOCI(repository) {
		u, err := url.Parse(strings.TrimSpace(repository))
		if err != nil {
			return "", ""
		}
		host := strings.ToLower(u.Host)
		seg := strings.Split(strings.Trim(u.Path, "/"), "/")
		if (host == "ghcr.io" || strings.HasSuffix(host, "docker.io")) && seg[0] != "" {
			return seg[0], ""
		}
		return "", ""
	}
	u, err := url.Parse(strings.TrimSpace(repository))
	if err != nil {
		return "", ""
	}
	host := strings.ToLower(u.Hostname())
	if o, ok := strings.CutSuffix(host, ".github.io"); ok && o != "" && !strings.Contains(o, ".") {
		seg := strings.Split(strings.Trim(u.Path, "/"), "/")
		if seg[0] != "" {
			return o, o + "/" + seg[0]
		}
		return o, o + "/" + o + ".github.io"
	}
	return "", ""
}

// Candidates lists the upstream repositories the chart's metadata suggests,
// in this order: sources, images of the artifacthub.io/images annotation,
// home, the GitHub Pages repository of the chart repository, and the chart
// repository's owner with the chart's name.
func Candidates(ref ChartRef, meta sources.ChartVersion) []Candidate {
	var out []Candidate
	idx := map[string]int{}
	add := func(repo, from string) {
		key := strings.ToLower(repo)
		if i, ok := idx[key]; ok {
			if !contains(out[i].From, from) {
				out[i].From = append(out[i].From, from)
			}
			return
		}
		idx[key] = len(out)
		out = append(out, Candidate{Repo: repo, From: []string{from}})
	}
	for _, s := range first(strings.Split(meta.Sources, "\n"), maxMetadata) {
		if r, ok := githubRepo(s); ok {
			add(r, "sources")
		}
	}
	var images []struct {
		Image string `yaml:"image"`
	}
	// Bounded before it is parsed: the metadata is a registry's or a chart
	// host's word (the Helm reader keeps at most 4 KB; an OCI config more).
	if meta.Images != "" && len(meta.Images) <= maxMetadataBytes && yaml.Unmarshal([]byte(meta.Images), &images) == nil {
		for _, im := range images {
			if r, ok := imageRepo(im.Image); ok {
				add(r, "image "+cut(im.Image))
			}
		}
	}
	if r, ok := githubRepo(meta.Home); ok {
		add(r, "home")
	}
	owner, pages := publisher(ref.Repository)
	if pages != "" {
		add(pages, "GitHub Pages host of the chart repository")
	}
	if owner != "" && ref.Name != "" {
		add(owner+"/"+ref.Name, "chart repository owner")
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Maintainer classes the chart: vendor when the chart is published by the
// upstream's own organisation (its GitHub Pages or registry owner, or a
// chart repository on the organisation's domain), community otherwise.
func Maintainer(ref ChartRef, upstream string, meta sources.ChartVersion) (class, evidence string) {
	org, _, _ := strings.Cut(upstream, "/")
	owner, _ := publisher(ref.Repository)
	if owner != "" {
		if strings.EqualFold(owner, org) {
			return catalog.MaintainerVendor, fmt.Sprintf("the chart is published by %s, the upstream's own organisation", owner)
		}
		return catalog.MaintainerCommunity, fmt.Sprintf("the chart is published by %s, not by %s", owner, org)
	}
	if host := repositoryHost(ref.Repository); host != "" {
		for _, label := range strings.Split(host, ".") {
			if strings.EqualFold(label, org) {
				return catalog.MaintainerVendor, fmt.Sprintf("the chart repository %s is on the domain of %s", host, org)
			}
		}
		return catalog.MaintainerCommunity, fmt.Sprintf("the chart repository %s is not %s's (its publisher is not the upstream's organisation)", host, org)
	}
	return catalog.MaintainerCommunity, fmt.Sprintf("the chart's publisher is not known to be %s", org)
}

func repositoryHost(repository string) string {
	u, err := url.Parse(strings.TrimSpace(repository))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func first(ss []string, n int) []string { return ss[:min(n, len(ss))] }

// YAML writes the verified proposals as a catalog, each entry with a
// comment stating its evidence, and the charts left out with their reason.
func YAML(r Result) string {
	var b strings.Builder
	b.WriteString("# Written by lagwatch discover from the charts' own metadata; every entry was verified\n")
	b.WriteString("# against the upstream history. Run lagwatch check on it before saving.\n")
	b.WriteString("services:\n")
	names := map[string]int{}
	n := 0
	for _, p := range r.Proposals {
		if !p.Verified {
			continue
		}
		n++
		s := *p.Service
		names[s.Name]++
		if names[s.Name] > 1 {
			s.Name = fmt.Sprintf("%s-%d", s.Name, names[s.Name])
		}
		for _, e := range append(slices.Clone(p.Evidence), p.SecurityEvidence...) {
			fmt.Fprintf(&b, "  # %s\n", comment(e))
		}
		fmt.Fprintf(&b, "  - name: %s\n    maintainer: %s\n    upstream:\n      repo: %s\n      source: %s\n", s.Name, s.Maintainer, s.Upstream.Repo, s.Upstream.Source)
		if s.Upstream.TagPattern != "" {
			fmt.Fprintf(&b, "      tagPattern: %s\n", quote.YAML(s.Upstream.TagPattern))
		}
		if s.Upstream.Prereleases {
			b.WriteString("      prereleases: true\n")
		}
		fmt.Fprintf(&b, "    chart:\n      repository: %s\n      name: %s\n      versionFrom: %s\n", quote.YAML(s.Chart.Repository), quote.YAML(s.Chart.Name), s.Chart.VersionFrom)
		if d := s.Deployed; d != nil && d.Prometheus != nil {
			fmt.Fprintf(&b, "    deployed:\n      prometheus:\n        query: %s\n        label: %s\n", quote.YAML(d.Prometheus.Query), d.Prometheus.Label)
		}
		if a := s.Advisories; a != nil {
			fmt.Fprintf(&b, "    advisories:\n      ecosystem: %s\n      package: %s\n", a.Ecosystem, quote.YAML(a.Package.Names[0])) // discovery proposes one
		}
		if e := s.EOL; e != nil {
			fmt.Fprintf(&b, "    eol:\n      product: %s\n", quote.YAML(e.Product))
		}
	}
	if n == 0 {
		b.WriteString("  # (no verified entry)\n")
	}
	var left []string
	for _, p := range r.Proposals {
		if !p.Verified {
			line := fmt.Sprintf("%s from %s: %s", p.Chart.Name, p.Chart.Repository, p.Reason)
			if p.EOL != nil {
				line += fmt.Sprintf("; once its upstream is set, eol.product %s fits (%s)", p.EOL.Product, strings.Join(p.SecurityEvidence, "; "))
			}
			left = append(left, "# "+comment(line))
		}
	}
	for _, u := range r.Unmatched {
		left = append(left, "# "+comment(fmt.Sprintf("%s %s (%s): %s", u.Chart, u.Version, u.From, u.Reason)))
	}
	if len(left) > 0 {
		sort.Strings(left)
		b.WriteString("# Not proposed:\n" + strings.Join(left, "\n") + "\n")
	}
	return b.String()
}

// comment keeps outside text on one comment line.
func comment(s string) string { return strings.Join(strings.Fields(s), " ") }
