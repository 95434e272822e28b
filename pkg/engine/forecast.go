package engine

import (
	"fmt"
	"sort"
	"time"
)

// DefaultForecastWindow is k of the spec: how many recently shipped releases
// a forecast learns from.
const DefaultForecastWindow = 10

// Forecast is when an open upstream release will probably ship
// (lag-metrics.md, "Forecast of open releases").
type Forecast struct {
	Release Release
	P50     time.Time // t_v + median(D)
	P90     time.Time // t_v + p90(D)
	Overdue bool      // t > P90
}

// Forecasts returns a forecast for every release open at t, from the delays
// D of the k most recently published releases shipped by t (nearest-rank
// percentiles). With fewer than 3 delays in D there is no forecast (nil) and
// the reason says why.
func (tl *Timeline) Forecasts(t time.Time, k int) ([]Forecast, string) {
	if k <= 0 {
		k = DefaultForecastWindow
	}
	delays := tl.Delays(t)
	var open []Delay
	var shipped []Delay
	for _, d := range delays {
		if d.Open {
			open = append(open, d)
		} else {
			shipped = append(shipped, d)
		}
	}
	if len(open) == 0 {
		return nil, ""
	}
	// The k most recently published shipped releases.
	sort.SliceStable(shipped, func(i, j int) bool { return shipped[i].Release.Time.After(shipped[j].Release.Time) })
	shipped = shipped[:min(k, len(shipped))]
	if len(shipped) < 3 {
		return nil, fmt.Sprintf("no forecast for %d open releases: only %d shipped releases to learn from (3 needed)", len(open), len(shipped))
	}
	ds := make([]time.Duration, len(shipped))
	for i, d := range shipped {
		ds[i] = d.Delay
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p50, p90 := nearestRank(ds, 50), nearestRank(ds, 90)
	out := make([]Forecast, len(open))
	for i, d := range open {
		f := Forecast{Release: d.Release, P50: d.Release.Time.Add(p50), P90: d.Release.Time.Add(p90)}
		f.Overdue = t.After(f.P90)
		out[i] = f
	}
	return out, ""
}
