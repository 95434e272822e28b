package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Severity of an advisory as a code (lag-metrics.md, "Security fixes and end
// of life"): 0 none, 1 low, 2 medium (moderate), 3 high, 4 critical. GitHub's
// "unknown" (no rating) reads as 0: such an advisory counts in
// security_fixes_behind but never raises security_severity (docs/metrics.md).
type Severity int

// Severities.
const (
	SeverityNone Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// ParseSeverity reads GitHub's severity words; false for a word it does not know.
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return SeverityCritical, true
	case "high":
		return SeverityHigh, true
	case "medium", "moderate":
		return SeverityMedium, true
	case "low":
		return SeverityLow, true
	case "unknown", "":
		return SeverityNone, true
	}
	return SeverityNone, false
}

func (s Severity) String() string {
	return [...]string{"none", "low", "medium", "high", "critical"}[s]
}

// bound is one comparison of a version range: op is <, <=, >, >= or =; a
// nil v (">= 0") holds for every version.
type bound struct {
	op string
	v  *semver.Version
}

// Range is a vulnerable version range in the advisory syntax: comparisons
// joined by commas, all of which must hold ("< 0.1.34", ">= 0.3.0, < 0.3.12",
// "= 1.2.3").
type Range struct {
	raw    string
	bounds []bound
}

// ParseRange reads a range in the advisory syntax. The error says what is
// wrong with which part; callers name the advisory.
func ParseRange(s string) (Range, error) {
	r := Range{raw: s}
	if strings.TrimSpace(s) == "" {
		return r, fmt.Errorf("vulnerable range is empty")
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		op := ""
		for _, o := range []string{"<=", ">=", "<", ">", "="} {
			if strings.HasPrefix(part, o) {
				op = o
				break
			}
		}
		if op == "" {
			return r, fmt.Errorf("vulnerable range %s: %s does not start with <, <=, >, >= or =", quote.Value(s), quote.Value(part))
		}
		raw := strings.TrimSpace(part[len(op):])
		if op == ">=" && raw == "0" {
			// GitHub's "every version", prereleases of 0.0.0 included.
			r.bounds = append(r.bounds, bound{op: op})
			continue
		}
		v, err := parseRangeVersion(raw)
		if err != nil {
			return r, fmt.Errorf("vulnerable range %s: %s is not a version", quote.Value(s), quote.Value(raw))
		}
		r.bounds = append(r.bounds, bound{op: op, v: v})
	}
	return r, nil
}

// parseRangeVersion reads a version of a range: semver, where GitHub also
// writes a bare "0" for "any version".
func parseRangeVersion(s string) (*semver.Version, error) {
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return semver.NewVersion(s)
	}
	return parseVersion(s)
}

// Contains reports whether v is in the range.
func (r Range) Contains(v *semver.Version) bool {
	for _, b := range r.bounds {
		if b.v == nil {
			continue // ">= 0"
		}
		c := v.Compare(b.v)
		ok := false
		switch b.op {
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		case "=":
			ok = c == 0
		}
		if !ok {
			return false
		}
	}
	return len(r.bounds) > 0
}

func (r Range) String() string { return r.raw }

// Advisory is one normalised advisory.
type Advisory struct {
	ID        string
	Severity  Severity
	Published time.Time
	Affects   []Affected
}

// Affected is one vulnerable range with its first patched version (nil when
// there is none).
type Affected struct {
	Range   Range
	Patched *semver.Version
}

// BuildAdvisories normalises the advisories of one service. A range or a
// patched version that does not parse leaves that entry out, and a severity
// word GitHub does not use reads as 0: one notice for all of them, naming the
// advisory and the value of at most three. Advisories GitHub has not rated
// ("unknown") read as 0 too, with a notice of their own: they count, but the
// severity shown does not include them.
func BuildAdvisories(raw []sources.Advisory) ([]Advisory, []string) {
	var out []Advisory
	var problems, unrated []string
	for _, a := range raw {
		sev, ok := ParseSeverity(a.Severity)
		if !ok {
			problems = append(problems, fmt.Sprintf("advisory %s: severity %s is not low, medium, high or critical; read as none", a.ID, quote.Value(a.Severity)))
		}
		adv := Advisory{ID: a.ID, Severity: sev, Published: a.Published.UTC()}
		for _, v := range a.Vulnerabilities {
			r, err := ParseRange(v.Range)
			if err != nil {
				problems = append(problems, fmt.Sprintf("advisory %s (%s): %v; left out", a.ID, v.Package, err))
				continue
			}
			aff := Affected{Range: r}
			if p := strings.TrimSpace(v.Patched); p != "" {
				pv, err := parseVersion(p)
				if err != nil {
					problems = append(problems, fmt.Sprintf("advisory %s (%s): first patched version %s is not a version; left out", a.ID, v.Package, quote.Value(p)))
					continue
				}
				aff.Patched = pv
			}
			adv.Affects = append(adv.Affects, aff)
		}
		if len(adv.Affects) > 0 {
			out = append(out, adv)
			if ok && sev == SeverityNone {
				unrated = append(unrated, a.ID)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.Before(out[j].Published) })
	var notices []string
	switch {
	case len(problems) == 1:
		notices = problems
	case len(problems) > 1:
		more := ""
		if len(problems) > 3 {
			more = "; …"
		}
		notices = []string{fmt.Sprintf("%d advisory values do not read: %s%s", len(problems), strings.Join(problems[:min(3, len(problems))], "; "), more)}
	}
	if n := len(unrated); n > 0 {
		more := ""
		if n > 3 {
			more = ", …"
		}
		what := "1 advisory has"
		if n > 1 {
			what = fmt.Sprintf("%d advisories have", n)
		}
		notices = append(notices, fmt.Sprintf("%s no severity rating on GitHub (\"unknown\"): %s%s; such advisories count in security_fixes_behind but do not raise security_severity, and a query's minSeverity leaves them out", what, strings.Join(unrated[:min(3, n)], ", "), more))
	}
	return out, notices
}

// Security answers the security metrics of one service: its advisories
// against its upstream releases. Build it once per timeline (NewSecurity);
// it is read-only afterwards.
type Security struct {
	tl   *Timeline
	advs []Advisory
	// fixAt[i][k] is t_f of advisories[i].Affects[k]: the time of the first
	// upstream release ≥ its patched version (zero when none, or no patch).
	fixAt [][]time.Time
}

// NewSecurity pairs advisories with a timeline.
func NewSecurity(tl *Timeline, advs []Advisory) *Security {
	s := &Security{tl: tl, advs: advs, fixAt: make([][]time.Time, len(advs))}
	for i, a := range advs {
		s.fixAt[i] = make([]time.Time, len(a.Affects))
		for k, aff := range a.Affects {
			if aff.Patched == nil {
				continue
			}
			// Releases are time-ordered: the first at or above the patched
			// version is the earliest (a prerelease patch "0.4.0-ci1" is met
			// by the first counted release ≥ it, such as 0.4.0).
			for _, r := range tl.Upstream {
				if !r.Version.LessThan(aff.Patched) {
					s.fixAt[i][k] = r.Time
					break
				}
			}
		}
	}
	return s
}

// AtLeast returns the security of the same service counting only advisories
// rated at least min (a query's minSeverity): every metric, the advisories
// without a patched version included, then reads as if the others had
// never been published. AtLeast(SeverityNone) is s itself.
func (s *Security) AtLeast(min Severity) *Security {
	if min <= SeverityNone {
		return s
	}
	out := &Security{tl: s.tl}
	for i, a := range s.advs {
		if a.Severity >= min {
			out.advs = append(out.advs, a)
			out.fixAt = append(out.fixAt, s.fixAt[i])
		}
	}
	return out
}

// Counted is an advisory that counts at a time, with the time its fix was
// first released.
type Counted struct {
	Advisory *Advisory
	FixedAt  time.Time       // t_f(a)
	Patched  *semver.Version // f_a of the range x is in
}

// SecurityState is the security metrics of a version x at t.
type SecurityState struct {
	Version     *semver.Version
	FixesBehind int           // advisories that count
	Lag         time.Duration // t − min t_f over those that count; 0 when none
	Severity    Severity      // highest severity of those that count
	Counting    []Counted     // in publication order
	Unfixed     int           // advisories published by t whose range holding x has no patched version
	UnfixedIDs  []string
}

// At computes the security metrics of version x at t (lag-metrics.md): an
// advisory counts when p_a ≤ t, x is in one of its ranges, that range has a
// patched version, and upstream released a version ≥ it at or before t.
func (s *Security) At(x *semver.Version, t time.Time) SecurityState {
	st := SecurityState{Version: x}
	var oldest time.Time
	for i := range s.advs {
		a := &s.advs[i]
		if a.Published.After(t) {
			break // sorted by publication
		}
		var fixedAt time.Time
		var patched *semver.Version
		affected, unfixed := false, false
		for k, aff := range a.Affects {
			if !aff.Range.Contains(x) {
				continue
			}
			affected = true
			if aff.Patched == nil {
				unfixed = true
				continue
			}
			if f := s.fixAt[i][k]; !f.IsZero() && !f.After(t) && (fixedAt.IsZero() || f.Before(fixedAt)) {
				fixedAt, patched = f, aff.Patched
			}
		}
		switch {
		case !affected:
		case !fixedAt.IsZero():
			st.FixesBehind++
			st.Counting = append(st.Counting, Counted{Advisory: a, FixedAt: fixedAt, Patched: patched})
			st.Severity = max(st.Severity, a.Severity)
			if oldest.IsZero() || fixedAt.Before(oldest) {
				oldest = fixedAt
			}
		case unfixed:
			st.Unfixed++
			st.UnfixedIDs = append(st.UnfixedIDs, a.ID)
		}
	}
	if !oldest.IsZero() {
		st.Lag = t.Sub(oldest)
	}
	return st
}

// PackagedAt is At with x = packaged(t); false before the first chart (null).
func (s *Security) PackagedAt(t time.Time) (SecurityState, bool) {
	st := s.tl.At(t)
	if !st.HasChart {
		return SecurityState{}, false
	}
	return s.At(st.Chart.App, t), true
}

// DeployedAt is At with x = deployed(t): the last hop; false when what runs
// at t is unknown (null).
func (s *Security) DeployedAt(d Deployed, t time.Time) (SecurityState, bool) {
	v := d.At(t)
	if v == nil {
		return SecurityState{}, false
	}
	return s.At(v, t), true
}

// Cycle is one normalised end-of-life cycle.
type Cycle struct {
	Name  string
	parts []uint64  // the numeric components of Name
	EOL   time.Time // e_c; zero when not known
	IsEOL bool      // endoflife.date's flag, for a cycle with no date
}

// Cycles are the release cycles of one product.
type Cycles struct {
	Product string
	list    []Cycle
}

// BuildCycles normalises the cycles of a product. Cycles whose name is not
// made of numbers ("jammy") can never match a version and are left out,
// with one notice for all of them.
func BuildCycles(product string, raw []sources.EOLCycle) (*Cycles, []string) {
	c := &Cycles{Product: product}
	var odd []string
	for _, r := range raw {
		parts, ok := cycleParts(r.Name)
		if !ok {
			odd = append(odd, quote.Value(r.Name))
			continue
		}
		c.list = append(c.list, Cycle{Name: r.Name, parts: parts, EOL: r.EOL.UTC(), IsEOL: r.IsEOL})
	}
	var notices []string
	if len(odd) > 0 {
		notices = append(notices, fmt.Sprintf("endoflife.date product %s: %d cycles are not version numbers and match no version, e.g. %s", quote.Value(product), len(odd), strings.Join(odd[:min(3, len(odd))], ", ")))
	}
	return c, notices
}

func cycleParts(name string) ([]uint64, bool) {
	fields := strings.Split(strings.TrimPrefix(strings.TrimSpace(name), "v"), ".")
	if len(fields) == 0 || len(fields) > 3 {
		return nil, false
	}
	parts := make([]uint64, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, false
		}
		parts[i] = n
	}
	return parts, true
}

// Of returns the cycle of x: the one whose name equals x's leading
// components ("7.2" for 7.2.5; "3" for 3.1.0 where cycles are majors). Where
// several match ("3" and "3.1"), the longest name wins. Nil when none.
func (c *Cycles) Of(x *semver.Version) *Cycle {
	comp := []uint64{x.Major(), x.Minor(), x.Patch()}
	var best *Cycle
	for i := range c.list {
		cy := &c.list[i]
		match := true
		for k, p := range cy.parts {
			if comp[k] != p {
				match = false
				break
			}
		}
		if match && (best == nil || len(cy.parts) > len(best.parts)) {
			best = cy
		}
	}
	return best
}

// EOLState is the end-of-life metrics of a version at t.
type EOLState struct {
	Cycle       *Cycle
	EOL         bool           // eol(t): e_c ≤ t
	SupportLeft *time.Duration // e_c − t; nil when the cycle has no date
}

// At computes eol(t) and support_left(t) for x. False (null) when x has no
// cycle, or its cycle has no date but endoflife.date says it has ended (the
// day is not known, so no time can say since when); reason says which.
func (c *Cycles) At(x *semver.Version, t time.Time) (st EOLState, ok bool, reason string) {
	cy := c.Of(x)
	if cy == nil {
		return st, false, fmt.Sprintf("no release cycle of endoflife.date product %s matches version %s", quote.Value(c.Product), x)
	}
	st.Cycle = cy
	if cy.EOL.IsZero() {
		if cy.IsEOL {
			return st, false, fmt.Sprintf("endoflife.date product %s: cycle %s has ended, on a date it does not give", quote.Value(c.Product), quote.Value(cy.Name))
		}
		return st, true, ""
	}
	st.EOL = !cy.EOL.After(t)
	left := cy.EOL.Sub(t)
	st.SupportLeft = &left
	return st, true, ""
}

// PackagedAt is At with x = packaged(t) of tl; false (null) before the first
// chart or where x has no usable cycle.
func (c *Cycles) PackagedAt(tl *Timeline, t time.Time) (EOLState, bool, string) {
	st := tl.At(t)
	if !st.HasChart {
		return EOLState{}, false, ""
	}
	return c.At(st.Chart.App, t)
}

// DeployedAt is At with x = deployed(t): the last hop; false (null) when
// what runs at t is unknown.
func (c *Cycles) DeployedAt(d Deployed, t time.Time) (EOLState, bool, string) {
	v := d.At(t)
	if v == nil {
		return EOLState{}, false, ""
	}
	return c.At(v, t)
}
