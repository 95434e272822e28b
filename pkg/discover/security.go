package discover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
)

// security proposes the chart's security inputs, each with its evidence,
// never as a guess:
//   - advisories, for a verified upstream that is a Go module (its go.mod at
//     the root names the module: one GitHub request), when GitHub's advisory
//     database has advisories for that module (one more request). A module
//     without any advisory is not proposed; the evidence says so. A renamed
//     module's older path has no signal here: it is added by hand.
//   - eol.product, where an endoflife.date product named like the chart, its
//     upstream repository or one of its images exists and its cycles hold
//     most of the chart's last packaged versions (at most
//     check.MaxEOLCandidates requests, cached across charts).
func (d *Discoverer) security(ctx context.Context, c chartData, p *Proposal) {
	repo, versionFrom, versionPattern := "", catalog.FromAppVersion, ""
	if !hasAppVersions(c.versions) {
		versionFrom = catalog.FromVersion
	}
	if p.Verified {
		repo, versionFrom, versionPattern = p.Service.Upstream.Repo, p.Service.Chart.VersionFrom, p.Service.Chart.VersionPattern
		d.advisories(ctx, repo, p)
	}
	if d.EOL != nil && len(c.versions) > 0 {
		d.eolProduct(ctx, c, repo, check.Packaged(versionFrom, versionPattern, c.versions, d.at()), versionFrom, p)
	}
	if p.Verified {
		p.Service.Advisories, p.Service.EOL = p.Advisories, p.EOL
	}
}

func (d *Discoverer) advisories(ctx context.Context, repo string, p *Proposal) {
	if d.Advisories == nil || d.GoModules == nil {
		return
	}
	say := func(format string, args ...any) {
		p.SecurityEvidence = append(p.SecurityEvidence, "advisories: "+fmt.Sprintf(format, args...))
	}
	if d.spent() {
		say("not looked up: the budget of %d GitHub requests is spent", d.budget())
		return
	}
	module, ok, err := d.GoModules.GoModule(ctx, repo)
	switch {
	case err != nil:
		say("none proposed: %v", err)
		return
	case !ok:
		say("none proposed: %s has no go.mod at its root (not a Go module; other ecosystems are added by hand)", repo)
		return
	case d.spent():
		say("%s is Go module %s; its advisories were not looked up: the budget of %d GitHub requests is spent", repo, module, d.budget())
		return
	}
	n, err := check.AdvisoryCount(ctx, d.Advisories, "go", module)
	switch {
	case err != nil:
		say("none proposed: %v", err)
	case n == 0:
		say("none proposed: no advisories known for %s (ecosystem go), the module of %s's go.mod", module, repo)
	default:
		p.Advisories = &catalog.Advisories{Ecosystem: "go", Package: catalog.Packages{Names: []string{module}}}
		say("%s: %d advisories in GitHub's database (ecosystem go); the module of %s's go.mod", module, n, repo)
	}
}

func (d *Discoverer) eolProduct(ctx context.Context, c chartData, repo string, vals []string, versionFrom string, p *Proposal) {
	var tried []string
	var best *check.EOLCandidate
	var bestM check.CycleMatch
	for _, cand := range check.EOLCandidates(c.ref.Name, repo, newest(c.versions)) {
		cycles, _, err := d.EOL.Cycles(ctx, cand.Product)
		switch {
		case errors.Is(err, eol.ErrNoProduct):
			tried = append(tried, fmt.Sprintf("%s (%s): no such product", cand.Product, cand.From))
			continue
		case err != nil:
			tried = append(tried, fmt.Sprintf("%s (%s): %v", cand.Product, cand.From, err))
			continue
		}
		m := check.MatchCycles(cycles, vals)
		if m.Most() && (best == nil || m.Matched > bestM.Matched) {
			cand := cand
			best, bestM = &cand, m
			continue
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %d of the last %d chart versions fall in its cycles", cand.Product, cand.From, m.Matched, m.Of))
	}
	if best == nil {
		if len(tried) == 0 {
			tried = append(tried, "no candidate name")
		}
		p.SecurityEvidence = append(p.SecurityEvidence, "eol: no endoflife.date product matches; tried "+strings.Join(tried, "; "))
		return
	}
	p.EOL = &catalog.EOL{Product: best.Product}
	p.SecurityEvidence = append(p.SecurityEvidence, fmt.Sprintf("endoflife.date product %s: %s; %d of the last %d chart versions fall in its cycles (named by the %s)",
		best.Product, bestM.Example(versionFrom), bestM.Matched, bestM.Of, best.From))
}
