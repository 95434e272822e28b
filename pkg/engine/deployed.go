package engine

import (
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
// versions, the lowest counts and a notice says so; a value that does not
// parse is left out with a notice naming it, and a sample with no version
// left is skipped.
func NewDeployed(samples []DeployedSample) (Deployed, []string) {
	sorted := append([]DeployedSample(nil), samples...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	var d Deployed
	var notices []string
	var several *DeployedSample // the newest sample with several versions
	bad := map[string]bool{}
	for k, s := range sorted {
		var lowest *semver.Version
		for _, raw := range s.Versions {
			v, err := parseVersion(raw)
			if err != nil {
				if !bad[raw] {
					bad[raw] = true
					notices = append(notices, fmt.Sprintf("deployed version %s does not parse as semver; left out", quote.Value(raw)))
				}
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
		if at.IsZero() || (i > 0 && d.versions[i].Equal(d.versions[i-1])) {
			continue
		}
		if at.After(from) && !at.After(to) {
			c := DeployedChange{At: at, Version: d.versions[i]}
			if i > 0 {
				c.From = d.versions[i-1]
			}
			out = append(out, c)
		}
	}
	return out
}

// DeployedSweep computes DeployedAt at each of times (ascending) in one pass:
// for each deployed version it finds once the upstream releases newer than
// it and the first chart shipping something newer, then reads every time
// by binary search, instead of scanning every release at every time.
// DeployedAt stays the reference (property-tested against this).
func (tl *Timeline) DeployedSweep(d Deployed, times []time.Time, fn func(i int, st DeployedState, known bool)) {
	type hop struct {
		newer      []time.Time // upstream releases newer than the version, time-ordered
		firstChart time.Time   // the first chart shipping something newer
		hasChart   bool
	}
	hops := map[*semver.Version]*hop{}
	for i, t := range times {
		v := d.At(t)
		if v == nil {
			fn(i, DeployedState{}, false)
			continue
		}
		h := hops[v]
		if h == nil {
			h = &hop{}
			for _, r := range tl.Upstream {
				if r.Version.GreaterThan(v) {
					h.newer = append(h.newer, r.Time)
				}
			}
			for _, c := range tl.Charts {
				if c.App.GreaterThan(v) {
					h.firstChart, h.hasChart = c.Created, true
					break
				}
			}
			hops[v] = h
		}
		st := DeployedState{Version: v}
		st.VersionsBehind = sort.Search(len(h.newer), func(k int) bool { return h.newer[k].After(t) })
		if st.VersionsBehind > 0 {
			st.Lag = t.Sub(h.newer[0])
		}
		if h.hasChart && !h.firstChart.After(t) {
			st.RolloutLag = t.Sub(h.firstChart)
		}
		fn(i, st, true)
	}
}
