package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// DeployedSample is what was seen running at one time: the versions of every
// series (a Prometheus query can return several).
type DeployedSample = sources.DeployedSample

// Deployed is the history of the version a service runs (lag-metrics.md,
// "The last hop"): deployed(t) is the version of the newest sample at or
// before t; before the first sample it is unknown.
type Deployed struct {
	at       []time.Time
	versions []*semver.Version
}

// PinnedDeployed is a version that has always been deployed.
func PinnedDeployed(version string) (Deployed, error) {
	v, err := parseVersion(version)
	if err != nil {
		return Deployed{}, fmt.Errorf("deployed version %s does not parse as semver", quote.Value(version))
	}
	return Deployed{at: []time.Time{{}}, versions: []*semver.Version{v}}, nil
}

// NewDeployed reads samples (in any order). Where a sample holds several
// versions, the lowest counts and a notice says so; values that do not
// parse are left out with one notice counting them and naming up to three,
// and a sample with no version left is skipped.
func NewDeployed(samples []DeployedSample) (Deployed, []string) {
	sorted := append([]DeployedSample(nil), samples...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	var d Deployed
	var notices []string
	var several *DeployedSample // the newest sample with several versions
	// Every distinct string is parsed once and shares one *semver.Version
	// (nil when it does not parse): a label flipping between two versions
	// at every sample holds two versions, not one per sample.
	parsed := map[string]*semver.Version{}
	var (
		bad      []string // the first three values that do not parse
		badCount int      // distinct values that do not parse
	)
	for k, s := range sorted {
		var lowest *semver.Version
		for _, raw := range s.Versions {
			v, seen := parsed[raw]
			if !seen {
				var err error
				if v, err = parseVersion(raw); err != nil {
					if len(bad) < 3 {
						bad = append(bad, raw)
					}
					badCount++
				}
				parsed[raw] = v
			}
			if v == nil {
				continue
			}
			if lowest != nil && !v.Equal(lowest) {
				several = &sorted[k]
			}
			if lowest == nil || v.LessThan(lowest) {
				lowest = v
			}
		}
		if lowest != nil {
			d.at, d.versions = append(d.at, s.At.UTC()), append(d.versions, lowest)
		}
	}
	if n := sources.SummarizeCount("deployed versions left out (not semver)", badCount, bad); n != "" {
		notices = append(notices, string(n))
	}
	if several != nil {
		vs := make([]string, len(several.Versions))
		for i, raw := range several.Versions {
			vs[i] = quote.Value(raw)
		}
		if len(vs) > 5 {
			vs = append(vs[:5], fmt.Sprintf("and %d more", len(vs)-5))
		}
		notices = append(notices, fmt.Sprintf("several versions were running at once (%s, last seen %s); the lowest counts",
			strings.Join(vs, ", "), several.At.UTC().Format(time.RFC3339)))
	}
	return d, notices
}

// At is deployed(t): nil when unknown.
func (d Deployed) At(t time.Time) *semver.Version {
	i := sort.Search(len(d.at), func(i int) bool { return d.at[i].After(t) })
	if i == 0 {
		return nil
	}
	return d.versions[i-1]
}

// DeployedState is the last hop at one time (lag-metrics.md): how far what
// runs trails upstream (DeployedLag, VersionsBehind: the whole pipeline) and
// how long a chart with something newer has waited for it (RolloutLag: the
// hop from chart to cluster).
type DeployedState struct {
	Version        *semver.Version
	VersionsBehind int           // upstream releases with t_i ≤ t and v_i > deployed(t)
	Lag            time.Duration // t − min{t_i : v_i > deployed(t), t_i ≤ t}; 0 when none
	RolloutLag     time.Duration // t − min{τ_j : a_j > deployed(t), τ_j ≤ t}; 0 when none
}

// DeployedAt computes the last hop at t; false when deployed(t) is unknown
// (the metrics are then null, never zero).
func (tl *Timeline) DeployedAt(d Deployed, t time.Time) (DeployedState, bool) {
	v := d.At(t)
	if v == nil {
		return DeployedState{}, false
	}
	st := DeployedState{Version: v}
	for _, r := range tl.Upstream {
		if r.Time.After(t) {
			break
		}
		if r.Version.GreaterThan(v) {
			if st.VersionsBehind == 0 {
				st.Lag = t.Sub(r.Time) // releases are time-ordered: the first is the oldest
			}
			st.VersionsBehind++
		}
	}
	for _, c := range tl.Charts {
		if c.Created.After(t) {
			break
		}
		if c.App.GreaterThan(v) {
			st.RolloutLag = t.Sub(c.Created) // charts are time-ordered: the first is the earliest
			break
		}
	}
	return st, true
}

// Known reports whether any deployed version is known.
func (d Deployed) Known() bool { return len(d.at) > 0 }

// DeployedChange is a time at which the deployed version changed.
type DeployedChange struct {
	At      time.Time
	Version *semver.Version
	From    *semver.Version // the version before; nil when none was known
}

// Changes lists the changes of the deployed version in (from, to]: the
// first known sample and every sample whose version differs from the one
// before. A pinned version has none.
func (d Deployed) Changes(from, to time.Time) []DeployedChange {
	var out []DeployedChange
	for i, at := range d.at {
		if d.changes(i) && at.After(from) && !at.After(to) {
			c := DeployedChange{At: at, Version: d.versions[i]}
			if i > 0 {
				c.From = d.versions[i-1]
			}
			out = append(out, c)
		}
	}
	return out
}

// changes reports whether sample i is a change: the first known sample or
// one whose version differs from the one before (never a pinned version).
func (d Deployed) changes(i int) bool {
	return !d.at[i].IsZero() && (i == 0 || !d.versions[i].Equal(d.versions[i-1]))
}

// GridChanges lists the times in (from, to] at which the deployed version
// changes (those of Changes), for a lag series' grid. While there are at
// most limit of them, all are listed; beyond that, between two consecutive
// ticks (ascending) only the last change is kept, where the version the next
// tick shows began, and folded counts the others. The value at every time of
// the grid stays exact either way (deployed(t) is read at each point); only
// steps between two ticks go undrawn.
func (d Deployed) GridChanges(from, to time.Time, ticks []time.Time, limit int) (times []time.Time, folded int) {
	var changes []int // indexes in d.at
	for i, at := range d.at {
		if d.changes(i) && at.After(from) && !at.After(to) {
			changes = append(changes, i)
		}
	}
	if len(changes) <= limit {
		times = make([]time.Time, len(changes))
		for k, i := range changes {
			times[k] = d.at[i]
		}
		return times, 0
	}
	tick := 0 // the first tick after the change
	for k, i := range changes {
		at := d.at[i]
		for tick < len(ticks) && !ticks[tick].After(at) {
			tick++
		}
		onTick := tick > 0 && ticks[tick-1].Equal(at)
		if !onTick && k+1 < len(changes) && (tick == len(ticks) || d.at[changes[k+1]].Before(ticks[tick])) {
			folded++ // another change comes before the next tick
			continue
		}
		times = append(times, at)
	}
	return times, folded
}

// sweepCheckEvery is how many points DeployedSweep computes between two
// looks at its context.
const sweepCheckEvery = 1024

// DeployedSweep computes DeployedAt at each of times (ascending) in one pass,
// as Sweep does for the chart: it walks the upstream releases once, keeping
// per version rank how many are out and the earliest (the segment tree of
// Sweep), and reads the releases newer than deployed(t) as one range of
// ranks; the first chart shipping something newer is a binary search over
// the highest version the charts have shipped so far; both are found once
// per distinct deployed version. Memory is linear in the releases, charts
// and distinct deployed versions, never their product (a list of newer
// release times per deployed version took gigabytes for a version label
// that flips at every sample). It looks at ctx every sweepCheckEvery
// points and returns its error when the query has ended. DeployedAt stays
// the reference (property-tested against this).
func (tl *Timeline) DeployedSweep(ctx context.Context, d Deployed, times []time.Time, fn func(i int, st DeployedState, known bool)) error {
	ups := tl.Upstream
	rank, versions := versionRanks(ups)
	tree := newReleaseTree(len(versions))
	// highest[j]: the highest version charts 0..j ship. The earliest chart
	// shipping something newer than v is the first j with highest[j] > v.
	highest := make([]*semver.Version, len(tl.Charts))
	for j, c := range tl.Charts {
		highest[j] = c.App
		if j > 0 && !c.App.GreaterThan(highest[j-1]) {
			highest[j] = highest[j-1]
		}
	}
	// Per deployed version: the rank of the first upstream version newer
	// than it, and the earliest chart shipping something newer. Two ints
	// per distinct version (NewDeployed gives each distinct version string
	// one pointer), found by two binary searches.
	type hop struct{ newer, chart int }
	hops := map[*semver.Version]hop{}
	var (
		nextUp, nextSample int
		v                  *semver.Version // deployed(t)
		h                  hop
	)
	for i, t := range times {
		if i%sweepCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for ; nextUp < len(ups) && !ups[nextUp].Time.After(t); nextUp++ {
			tree.add(rank[nextUp], nextUp)
		}
		for nextSample < len(d.at) && !d.at[nextSample].After(t) {
			nextSample++
		}
		if nextSample == 0 {
			fn(i, DeployedState{}, false)
			continue
		}
		if dv := d.versions[nextSample-1]; dv != v {
			v = dv
			var seen bool
			if h, seen = hops[v]; !seen {
				h = hop{
					newer: sort.Search(len(versions), func(k int) bool { return ups[versions[k]].Version.GreaterThan(v) }),
					chart: sort.Search(len(highest), func(j int) bool { return highest[j].GreaterThan(v) }),
				}
				hops[v] = h
			}
		}
		st := DeployedState{Version: v}
		count, first := tree.query(h.newer, len(versions))
		st.VersionsBehind = count
		if first >= 0 {
			st.Lag = t.Sub(ups[first].Time)
		}
		if h.chart < len(tl.Charts) && !tl.Charts[h.chart].Created.After(t) {
			st.RolloutLag = t.Sub(tl.Charts[h.chart].Created)
		}
		fn(i, st, true)
	}
	return nil
}
