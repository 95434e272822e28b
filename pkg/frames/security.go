package frames

import (
	"fmt"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// secReader reads the security and end-of-life metrics (lag-metrics.md,
// "Security fixes and end of life") of one service for one version side
// (the chart's, or the last hop's). In a lag series the sweep computes
// which advisories count once per stretch between changes, and the cycle of
// a version is looked up once per version.
type secReader struct {
	sec *engine.Security
	sw  *engine.SecuritySweep // nil: sec.At at every call (current queries)
	cy  *engine.Cycles
	// The cycle of cyX, when cyOK.
	cyX  *semver.Version
	cyc  *engine.Cycle
	cyOK bool
}

func newSecReader(r collector.Result, sweep bool) *secReader {
	s := &secReader{sec: r.Security, cy: r.Cycles}
	if sweep && s.sec != nil {
		s.sw = s.sec.Sweep()
	}
	return s
}

// baseMetric is the chart-side name of a security or end-of-life metric.
func baseMetric(metric string) string { return strings.TrimPrefix(metric, "deployed_") }

// isSecOrEOL reports whether a metric is read by secReader.
func isSecOrEOL(metric string) bool { return models.IsSecurity(metric) || models.IsEOL(metric) }

// security is the security state of x at t; false when the service has no
// advisories (null).
func (s *secReader) security(x *semver.Version, t time.Time) (engine.SecurityState, bool) {
	switch {
	case s.sec == nil || x == nil:
		return engine.SecurityState{}, false
	case s.sw != nil:
		return s.sw.At(x, t), true
	}
	return s.sec.At(x, t), true
}

// cycle is the cycle of x; false when the service names no product, x has
// no cycle, or its cycle ended on a date endoflife.date does not give.
func (s *secReader) cycle(x *semver.Version) (*engine.Cycle, bool) {
	if s.cy == nil || x == nil {
		return nil, false
	}
	if s.cyX == nil || (x != s.cyX && !x.Equal(s.cyX)) {
		st, ok, _ := s.cy.At(x, time.Time{})
		s.cyX, s.cyc, s.cyOK = x, st.Cycle, ok
	}
	return s.cyc, s.cyOK
}

// number reads metric (either side's name) for version x at t; false when
// it has no value: null, never zero.
func (s *secReader) number(metric string, x *semver.Version, t time.Time) (float64, bool) {
	switch m := baseMetric(metric); m {
	case models.MetricSecurityFixesBehind, models.MetricSecurityLag, models.MetricSecuritySeverity:
		st, ok := s.security(x, t)
		if !ok {
			return 0, false
		}
		switch m {
		case models.MetricSecurityFixesBehind:
			return float64(st.FixesBehind), true
		case models.MetricSecurityLag:
			return st.Lag.Seconds(), true
		}
		return float64(st.Severity), true
	case models.MetricEOL, models.MetricSupportLeft:
		cy, ok := s.cycle(x)
		if !ok {
			return 0, false
		}
		if m == models.MetricEOL {
			if !cy.EOL.IsZero() && !cy.EOL.After(t) {
				return 1, true
			}
			return 0, true // no date, and not ended
		}
		if cy.EOL.IsZero() {
			return 0, false
		}
		return cy.EOL.Sub(t).Seconds(), true
	}
	return 0, false
}

// packagedX is x = packaged(t) for the chart-side values: nil (null) before
// the first chart, and when the packaged version cannot be compared with
// upstream (State.Unknown): a wrong catalog entry measures nothing.
func packagedX(st *engine.State) *semver.Version {
	if !st.Known() {
		return nil
	}
	return st.Chart.App
}

// secEventTimes are the times in [from, to] where the asked security and
// end-of-life metrics of r step for a fixed version: advisory publish and
// fix release times, end-of-life dates.
func secEventTimes(r collector.Result, metrics []string, from, to time.Time) []time.Time {
	var out []time.Time
	for _, m := range metrics {
		if models.IsSecurity(m) && r.Security != nil {
			out = append(out, r.Security.EventTimes(from, to)...)
			break
		}
	}
	for _, m := range metrics {
		if models.IsEOL(m) && r.Cycles != nil {
			out = append(out, r.Cycles.EventTimes(from, to)...)
			break
		}
	}
	return out
}

// secNotices say why the asked end-of-life values of r are null at t where
// its data and its catalog entry disagree: a version with no usable cycle.
// A service that names no advisories or eol product gets null without a
// notice: it asked for none (the /services resource says which do), and a
// dashboard over every service would otherwise carry one per service.
func secNotices(r collector.Result, metrics []string, st engine.State, t time.Time) []string {
	var eol, hop bool
	for _, m := range metrics {
		eol = eol || models.IsEOL(m)
		hop = hop || (models.IsEOL(m) && models.IsLastHop(m))
	}
	if !eol || r.Cycles == nil {
		return nil
	}
	var out []string
	if x := packagedX(&st); x != nil {
		if _, ok, reason := r.Cycles.At(x, t); !ok {
			out = append(out, fmt.Sprintf("end of life of the packaged version null: %s", reason))
		}
	}
	if hop && r.Deployed != nil && st.LastHopKnown() {
		if x := r.Deployed.At(t); x != nil {
			if _, ok, reason := r.Cycles.At(x, t); !ok {
				out = append(out, fmt.Sprintf("end of life of the deployed version null: %s", reason))
			}
		}
	}
	return out
}

// EOLNotices say why r's end-of-life values at t are null where its data
// and its catalog entry disagree (the status table carries the same), for
// surfaces that print notices themselves (lagwatch report).
func EOLNotices(r collector.Result, t time.Time) []string {
	if r.Timeline == nil {
		return nil
	}
	return secNotices(r, models.EOLMetrics, r.Timeline.At(t), t)
}
