package engine

import (
	"slices"
	"sort"
	"time"

	"github.com/Masterminds/semver/v3"
)

// EventTimes lists the times in [from, to] at which a security metric can
// step for a fixed version: advisory publish times and the release times of
// their fixes. Sorted, without duplicates.
func (s *Security) EventTimes(from, to time.Time) []time.Time {
	var out []time.Time
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && !t.After(to) }
	for i, a := range s.advs {
		if in(a.Published) {
			out = append(out, a.Published)
		}
		for _, f := range s.fixAt[i] {
			if in(f) {
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// Advisories are the service's normalised advisories, in publication order.
// Read-only.
func (s *Security) Advisories() []Advisory { return s.advs }

// changeTimes is EventTimes over all time: where a state of At stops holding.
func (s *Security) changeTimes() []time.Time {
	return s.EventTimes(time.Time{}.Add(1), time.Unix(1<<62, 0))
}

// SecuritySweep answers Security.At for times that mostly increase, as a lag
// query asks them: between two change times (an advisory published, a fix
// released) and for one version, which advisories count does not change,
// only the lag grows with t. It computes At once per such stretch, not at
// every point. Not safe for concurrent use.
type SecuritySweep struct {
	s       *Security
	changes []time.Time
	x       *semver.Version
	at      time.Time
	until   time.Time // the first change after at; zero when none
	st      SecurityState
	valid   bool
}

// Sweep returns a SecuritySweep over s.
func (s *Security) Sweep() *SecuritySweep {
	return &SecuritySweep{s: s, changes: s.changeTimes()}
}

// At equals Security.At(x, t).
func (w *SecuritySweep) At(x *semver.Version, t time.Time) SecurityState {
	if w.valid && !t.Before(w.at) && (w.until.IsZero() || t.Before(w.until)) && (x == w.x || x.Equal(w.x)) {
		st := w.st
		if st.FixesBehind > 0 {
			st.Lag += t.Sub(w.at)
		}
		return st
	}
	w.st, w.x, w.at, w.valid = w.s.At(x, t), x, t, true
	w.until = time.Time{}
	if k := sort.Search(len(w.changes), func(i int) bool { return w.changes[i].After(t) }); k < len(w.changes) {
		w.until = w.changes[k]
	}
	return w.st
}

// EventTimes lists the end-of-life dates in [from, to]: where eol steps.
// Sorted, without duplicates.
func (c *Cycles) EventTimes(from, to time.Time) []time.Time {
	var out []time.Time
	for _, cy := range c.list {
		if !cy.EOL.IsZero() && !cy.EOL.Before(from) && !cy.EOL.After(to) {
			out = append(out, cy.EOL)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// List is the product's cycles that can match a version. Read-only.
func (c *Cycles) List() []Cycle { return c.list }
