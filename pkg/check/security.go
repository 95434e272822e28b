package check

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"go.yaml.in/yaml/v3"
)

// Problem kinds of the security inputs.
const (
	AdvisoriesUnknownPackage = "advisories-unknown-package"
	EOLUnknownProduct        = "eol-unknown-product"
	EOLNoCycle               = "eol-no-cycle"
)

// GoModuleSource tells whether a GitHub repository is a Go module and which
// (github.Source.GoModule: its go.mod at the root; ok false when none).
type GoModuleSource interface {
	GoModule(ctx context.Context, repo string) (module string, ok bool, err error)
}

// PackageInfo is one configured package and how many advisories name it.
type PackageInfo struct {
	Name       string `json:"name"`
	Advisories int    `json:"advisories"`
}

// AdvisoriesInfo is what check read for a service's advisories input.
type AdvisoriesInfo struct {
	Ecosystem string        `json:"ecosystem"`
	Packages  []PackageInfo `json:"packages"`
	Module    string        `json:"module,omitempty"` // the upstream's go.mod module, when it was read
	Error     string        `json:"error,omitempty"`
}

// EOLInfo is what check read for a service's eol input: the product's
// cycles, and how many of the chart's last packaged versions fall in one.
type EOLInfo struct {
	Product string `json:"product"`
	Cycles  int    `json:"cycles"`
	Matched int    `json:"matched"`
	Of      int    `json:"of"`
	Example string `json:"example,omitempty"` // "cycle 7.2 matches appVersion 7.2.5"
	Error   string `json:"error,omitempty"`
}

// Bounds of the security look-ups: the chart versions compared with a
// product's cycles, and the candidate products tried (one request each).
const (
	LastVersions     = 20
	MaxEOLCandidates = 4
	maxImages        = 10
	maxImagesBytes   = 4096
)

// Security checks a service's advisories and eol inputs, appending to res
// its problems and the fixes computed from the data. A source that is nil
// skips its part; a failed read is said in the info, never as a problem.
func (r Runner) security(ctx context.Context, svc catalog.Service, charts []sources.ChartVersion, at time.Time, res *Result) {
	if ref, ok := svc.AdvisoryRef(); ok && r.Advisories != nil {
		r.checkAdvisories(ctx, svc, ref, res)
	}
	if p := svc.EOLProduct(); p != "" && r.EOL != nil {
		r.checkEOL(ctx, svc, p, charts, at, res)
	}
	res.OK = res.Error == "" && len(res.Problems) == 0
}

// AdvisoryCount is how many advisories of GitHub's database name pkg.
func AdvisoryCount(ctx context.Context, src sources.AdvisorySource, ecosystem, pkg string) (int, error) {
	as, _, err := src.Advisories(ctx, sources.AdvisoryRef{Ecosystem: ecosystem, Packages: []string{pkg}})
	return len(as), err
}

func (r Runner) checkAdvisories(ctx context.Context, svc catalog.Service, ref sources.AdvisoryRef, res *Result) {
	info := &AdvisoriesInfo{Ecosystem: ref.Ecosystem, Packages: []PackageInfo{}}
	res.Advisories = info
	var unknown []string
	for _, p := range ref.Packages {
		n, err := AdvisoryCount(ctx, r.Advisories, ref.Ecosystem, p)
		if err != nil {
			info.Error = err.Error()
			return
		}
		info.Packages = append(info.Packages, PackageInfo{Name: p, Advisories: n})
		if n == 0 {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) == 0 {
		return
	}
	// A Go package the upstream's go.mod declares exists: no advisory yet
	// is what the database says, not a sign of a wrong name.
	module, hasMod := "", false
	if ref.Ecosystem == "go" && r.GoModules != nil {
		m, ok, err := r.GoModules.GoModule(ctx, svc.Upstream.Repo)
		if err != nil {
			info.Error = err.Error()
		}
		module, hasMod = m, ok
		info.Module = m
	}
	for _, p := range unknown {
		if hasMod && p == module {
			continue
		}
		msg := fmt.Sprintf("GitHub's advisory database has no advisory naming %s (ecosystem %s): the name is probably not the one the database uses", quote.Value(p), ref.Ecosystem)
		switch {
		case ref.Ecosystem == "go" && hasMod:
			msg += fmt.Sprintf("; %s's go.mod declares module %s", svc.Upstream.Repo, quote.Value(module))
		case ref.Ecosystem == "go" && r.GoModules != nil && info.Error == "":
			msg += fmt.Sprintf("; %s has no go.mod at its root", svc.Upstream.Repo)
		}
		res.Problems = append(res.Problems, Problem{AdvisoriesUnknownPackage, msg})
		if !hasMod || slices.Contains(ref.Packages, module) {
			continue
		}
		n, err := AdvisoryCount(ctx, r.Advisories, ref.Ecosystem, module)
		if err != nil || n == 0 {
			continue
		}
		res.Fixes = append(res.Fixes, Fix{Field: "advisories.package", Value: module,
			Evidence: fmt.Sprintf("%s: %d advisories in GitHub's database (ecosystem go); the module of %s's go.mod (replaces %s)", module, n, svc.Upstream.Repo, p)})
		s := suggested(svc, res)
		names := slices.Clone(s.Advisories.Package.Names)
		names[slices.Index(names, p)] = module
		s.Advisories = &catalog.Advisories{Ecosystem: s.Advisories.Ecosystem, Package: catalog.Packages{Names: names}}
		res.Suggested = &s
	}
}

// suggested is the entry the fixes so far give (the suggestion, or svc).
func suggested(svc catalog.Service, res *Result) catalog.Service {
	if res.Suggested != nil {
		return *res.Suggested
	}
	return svc
}

func (r Runner) checkEOL(ctx context.Context, svc catalog.Service, product string, charts []sources.ChartVersion, at time.Time, res *Result) {
	info := &EOLInfo{Product: product}
	res.EOL = info
	vals := Packaged(svc.Chart.VersionFrom, svc.Chart.VersionPattern, charts, at)
	info.Of = len(vals)
	cycles, _, err := r.EOL.Cycles(ctx, product)
	switch {
	case errors.Is(err, eol.ErrNoProduct):
		res.Problems = append(res.Problems, Problem{EOLUnknownProduct, fmt.Sprintf("endoflife.date has no product %s (HTTP 404)", quote.Value(product))})
	case err != nil:
		info.Error = err.Error()
		return
	default:
		info.Cycles = len(cycles)
		m := MatchCycles(cycles, vals)
		info.Matched, info.Example = m.Matched, m.Example(svc.Chart.VersionFrom)
		if m.Matched > 0 || len(vals) == 0 {
			return
		}
		res.Problems = append(res.Problems, Problem{EOLNoCycle, fmt.Sprintf("none of the last %d packaged versions (e.g. %s) falls in a cycle of endoflife.date product %s (cycles %s)",
			len(vals), quote.Value(vals[0]), product, strings.Join(first(cycleNames(cycles), 5), ", "))})
	}
	// A fix: another product the chart's metadata suggests whose cycles
	// hold most of the packaged versions.
	for _, c := range EOLCandidates(svc.Chart.Name, svc.Upstream.Repo, newestChart(charts)) {
		if c.Product == product {
			continue
		}
		cs, _, err := r.EOL.Cycles(ctx, c.Product)
		if err != nil {
			continue
		}
		m := MatchCycles(cs, vals)
		if !m.Most() {
			continue
		}
		res.Fixes = append(res.Fixes, Fix{Field: "eol.product", Value: c.Product, Coverage: Coverage{Matched: m.Matched, Of: m.Of, Share: m.Share()},
			Evidence: fmt.Sprintf("endoflife.date product %s (%s): %s; %d of the last %d chart versions fall in its cycles", c.Product, c.From, m.Example(svc.Chart.VersionFrom), m.Matched, m.Of)})
		s := suggested(svc, res)
		s.EOL = &catalog.EOL{Product: c.Product}
		res.Suggested = &s
		return
	}
}

func cycleNames(cs []sources.EOLCycle) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = quote.Value(c.Name)
	}
	return out
}

func newestChart(vs []sources.ChartVersion) sources.ChartVersion {
	var n sources.ChartVersion
	for _, v := range vs {
		if n.Version == "" || v.Created.After(n.Created) {
			n = v
		}
	}
	return n
}

// Packaged is the packaged value (appVersion or version, through the
// version pattern) of the chart's last LastVersions final versions created
// up to at, newest first; values that are not versions are left out.
func Packaged(versionFrom, versionPattern string, charts []sources.ChartVersion, at time.Time) []string {
	cs := slices.DeleteFunc(chartsUpTo(charts, at), func(c sources.ChartVersion) bool {
		v, err := engine.ParseVersion(c.Version)
		return err != nil || v.Prerelease() != "" || c.Created.IsZero()
	})
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	re, _ := engine.CompilePattern(versionPattern)
	var out []string
	for _, c := range cs {
		if len(out) == LastVersions {
			break
		}
		val := c.AppVersion
		if versionFrom == catalog.FromVersion {
			val = c.Version
		}
		raw, ok := engine.Extract(re, val)
		if _, err := engine.ParseVersion(raw); ok && err == nil {
			out = append(out, raw)
		}
	}
	return out
}

// CycleMatch is how many packaged versions fall in a product's cycles.
type CycleMatch struct {
	Matched, Of    int
	Cycle, Version string // the newest version that matched, and its cycle
}

// Most reports whether most of the versions (more than half) match.
func (m CycleMatch) Most() bool { return m.Of > 0 && 2*m.Matched > m.Of }

// Share is the matched share (0 when there is no version).
func (m CycleMatch) Share() float64 {
	if m.Of == 0 {
		return 0
	}
	return float64(m.Matched) / float64(m.Of)
}

// Example says the newest match: "cycle 7.2 matches appVersion 7.2.5".
func (m CycleMatch) Example(versionFrom string) string {
	if m.Cycle == "" {
		return ""
	}
	if versionFrom == "" {
		versionFrom = catalog.FromAppVersion
	}
	return fmt.Sprintf("cycle %s matches %s %s", m.Cycle, versionFrom, m.Version)
}

// MatchCycles counts the versions (newest first) whose leading components
// are a cycle's name: cycle 7.2 holds 7.2.5 and v7.2.0, cycle 8 holds 8.1.0;
// 7.20.1 is not in cycle 7.2.
func MatchCycles(cycles []sources.EOLCycle, versions []string) CycleMatch {
	m := CycleMatch{Of: len(versions)}
	for _, v := range versions {
		if c := cycleOf(cycles, v); c != "" {
			m.Matched++
			if m.Cycle == "" {
				m.Cycle, m.Version = c, v
			}
		}
	}
	return m
}

// cycleOf is the longest cycle name that v starts with, component-wise.
func cycleOf(cycles []sources.EOLCycle, v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	best := ""
	for _, c := range cycles {
		n := strings.TrimPrefix(c.Name, "v")
		if n == "" || len(n) <= len(best) {
			continue
		}
		if v == n || (strings.HasPrefix(v, n) && (v[len(n)] == '.' || v[len(n)] == '-' || v[len(n)] == '+')) {
			best = c.Name
		}
	}
	return best
}

// EOLCandidate is an endoflife.date product the chart's metadata suggests.
type EOLCandidate struct {
	Product string `json:"product"`
	From    string `json:"from"`
}

// EOLCandidates lists at most MaxEOLCandidates products to try, in this
// order: the chart's name, the upstream repository's name, the last path
// segment of each image of the artifacthub.io/images annotation (bitnami/redis
// → redis). Names that cannot be products are skipped.
func EOLCandidates(chart, upstreamRepo string, meta sources.ChartVersion) []EOLCandidate {
	var out []EOLCandidate
	add := func(name, from string) {
		name = strings.ToLower(strings.TrimSpace(name))
		if len(out) >= MaxEOLCandidates || !eol.ValidProduct(name) {
			return
		}
		for i := range out {
			if out[i].Product == name {
				if !strings.Contains(out[i].From, from) {
					out[i].From += ", " + from
				}
				return
			}
		}
		out = append(out, EOLCandidate{Product: name, From: from})
	}
	add(chart, "chart name")
	if _, name, ok := strings.Cut(upstreamRepo, "/"); ok {
		add(name, "upstream repository "+upstreamRepo)
	}
	for _, im := range Images(meta) {
		ref := im
		if i := strings.IndexAny(ref, "@"); i >= 0 {
			ref = ref[:i]
		}
		last := path.Base(ref)
		if i := strings.Index(last, ":"); i >= 0 {
			last = last[:i]
		}
		add(last, "image "+quote.Cut(im))
	}
	return out
}

// Images are the image references of the chart's artifacthub.io/images
// annotation (at most 10; the annotation is bounded before it is parsed:
// it is a chart host's word).
func Images(meta sources.ChartVersion) []string {
	var images []struct {
		Image string `yaml:"image"`
	}
	if meta.Images == "" || len(meta.Images) > maxImagesBytes || yaml.Unmarshal([]byte(meta.Images), &images) != nil {
		return nil
	}
	var out []string
	for _, im := range images[:min(len(images), maxImages)] {
		if s := strings.TrimSpace(im.Image); s != "" {
			out = append(out, s)
		}
	}
	return out
}
