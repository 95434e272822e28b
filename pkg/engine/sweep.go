package engine

import (
	"sort"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Sweep returns At(t) for every t of times, which must be sorted ascending.
// It walks the releases once while keeping, per upstream version, how many
// releases of it are out and the earliest one, in a segment tree over the
// versions: O((len(times) + releases) · log releases), where calling At at
// every time costs O(len(times) · releases). At stays the reference; the
// tests hold the two equal.
func (tl *Timeline) Sweep(times []time.Time) []State {
	out := make([]State, len(times))
	tl.SweepEach(times, func(i int, st *State) {
		out[i] = *st
		if st.Drift != nil {
			d := *st.Drift
			out[i].Drift = &d
		}
	})
	return out
}

// SweepEach is Sweep handing each state to fn instead of keeping them all:
// st and what st.Drift points to are valid only during the call.
func (tl *Timeline) SweepEach(times []time.Time, fn func(i int, st *State)) {
	ups := tl.Upstream
	rank, versions := versionRanks(ups)
	tree := newReleaseTree(len(versions))

	var (
		st                State         // handed to fn: one value for the whole sweep
		drift             time.Duration // what st.Drift points to
		latest            *Release
		chart             Chart
		hasChart          bool
		lastChart         time.Time
		nextUp, nextChart int
		newer             int             // rank of the first version newer than newerOf
		newerOf           *semver.Version // the packaged version newer was found for
	)
	for k, t := range times {
		for ; nextUp < len(ups) && !ups[nextUp].Time.After(t); nextUp++ {
			if r := &ups[nextUp]; latest == nil || r.Version.GreaterThan(latest.Version) {
				latest = r
			}
			tree.add(rank[nextUp], nextUp)
		}
		for ; nextChart < len(tl.Charts) && !tl.Charts[nextChart].Created.After(t); nextChart++ {
			c := tl.Charts[nextChart]
			lastChart = c.Created
			if !hasChart || !c.Version.LessThan(chart.Version) {
				chart, hasChart = c, true // a republished version: the newest build wins
			}
		}
		st = State{At: t, UpstreamLatest: latest}
		inHistory := false
		if hasChart {
			st.HasChart, st.Chart, st.LastChart, st.ChartAge = true, chart, lastChart, t.Sub(lastChart)
			// Ranks at and above `newer` hold the versions newer than the
			// packaged one; found again only when the packaged version changes.
			if chart.App != newerOf {
				newerOf = chart.App
				newer = sort.Search(len(versions), func(i int) bool { return ups[versions[i]].Version.GreaterThan(chart.App) })
			}
			inHistory = newer > 0 && ups[versions[newer-1]].Version.Equal(chart.App)
			count, first := tree.query(newer, len(versions))
			st.VersionsBehind = count
			if first >= 0 {
				st.LagSince = &ups[first]
				st.Lag = t.Sub(st.LagSince.Time)
			}
			switch {
			case count == 0:
				drift = 0
				st.Drift = &drift
			case newer > 0 && ups[versions[newer-1]].Version.Equal(chart.App):
				if _, packaged := tree.query(newer-1, newer); packaged >= 0 {
					drift = latest.Time.Sub(ups[packaged].Time)
					st.Drift = &drift
				}
			}
		}
		st.judge(inHistory)
		fn(k, &st)
	}
}

// versionRanks orders the distinct upstream versions: versions holds, in
// ascending order, the index in ups of one release per distinct version, and
// rank[i] is the position in versions of release i's version.
func versionRanks(ups []Release) (rank, versions []int) {
	byVersion := make([]int, len(ups))
	for i := range byVersion {
		byVersion[i] = i
	}
	sort.SliceStable(byVersion, func(a, b int) bool { return ups[byVersion[a]].Version.LessThan(ups[byVersion[b]].Version) })
	rank = make([]int, len(ups))
	for _, i := range byVersion {
		if n := len(versions); n == 0 || !ups[versions[n-1]].Version.Equal(ups[i].Version) {
			versions = append(versions, i)
		}
		rank[i] = len(versions) - 1
	}
	return rank, versions
}

// releaseTree is a segment tree over version ranks holding, for each range of
// ranks, how many releases are out and the smallest release index (the
// earliest, as releases are sorted by time) among them.
type releaseTree struct {
	size  int
	count []int
	first []int // -1 when none
}

func newReleaseTree(n int) *releaseTree {
	size := 1
	for size < n {
		size *= 2
	}
	t := &releaseTree{size: size, count: make([]int, 2*size), first: make([]int, 2*size)}
	for i := range t.first {
		t.first[i] = -1
	}
	return t
}

func (t *releaseTree) add(rank, index int) {
	for i := rank + t.size; i >= 1; i /= 2 {
		t.count[i]++
		if t.first[i] < 0 || index < t.first[i] {
			t.first[i] = index
		}
	}
}

// query sums the ranks [lo, hi).
func (t *releaseTree) query(lo, hi int) (count, first int) {
	first = -1
	take := func(i int) {
		count += t.count[i]
		if f := t.first[i]; f >= 0 && (first < 0 || f < first) {
			first = f
		}
	}
	for lo, hi = lo+t.size, hi+t.size; lo < hi; lo, hi = lo/2, hi/2 {
		if lo&1 == 1 {
			take(lo)
			lo++
		}
		if hi&1 == 1 {
			hi--
			take(hi)
		}
	}
	return count, first
}
