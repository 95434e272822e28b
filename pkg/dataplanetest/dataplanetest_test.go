package dataplanetest

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

func ts(times ...int) []time.Time {
	out := make([]time.Time, len(times))
	for i, s := range times {
		out[i] = time.Unix(int64(s), 0)
	}
	return out
}

func series(l data.Labels, times []time.Time, meta bool) *data.Frame {
	f := data.NewFrame("s", data.NewField("time", nil, times), data.NewField("v", l, make([]float64, len(times))))
	if meta {
		f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
	}
	return f
}

func number(l data.Labels, rows int) *data.Frame {
	f := data.NewFrame("n", data.NewField("v", l, make([]float64, rows)))
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeNumericMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
	return f
}

func TestTimeSeriesMulti(t *testing.T) {
	a, b := data.Labels{"service": "a"}, data.Labels{"service": "b"}
	if err := CheckTimeSeriesMulti(data.Frames{series(a, ts(1, 2), true), series(b, ts(1, 3), true)}); err != nil {
		t.Errorf("valid response rejected: %v", err)
	}
	bad := map[string]data.Frames{
		"also on frame":      {series(a, ts(1, 2), true), series(a, ts(1, 2), true)},
		"strictly ascending": {series(a, ts(1, 1), true)},
		"no meta":            {series(a, ts(1), false)},
		"first field":        {data.NewFrame("x", data.NewField("v", a, []float64{1}), data.NewField("t", nil, ts(1)))},
		"numeric fields":     {data.NewFrame("x", data.NewField("t", nil, ts(1)), data.NewField("v", a, []float64{1}), data.NewField("w", b, []float64{1}))},
		"null at row":        {data.NewFrame("x", data.NewField("t", nil, []*time.Time{nil}), data.NewField("v", a, []float64{1}))},
	}
	for want, frames := range bad {
		for _, f := range frames {
			if f.Meta == nil && want != "no meta" {
				f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
			}
		}
		if err := CheckTimeSeriesMulti(frames); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestNumericMulti(t *testing.T) {
	a, b := data.Labels{"service": "a"}, data.Labels{"service": "b"}
	if err := CheckNumericMulti(data.Frames{number(a, 1), number(b, 0)}); err != nil {
		t.Errorf("valid response rejected: %v", err)
	}
	for want, frames := range map[string]data.Frames{
		"also on frame": {number(a, 1), number(a, 1)},
		"want 0 or 1":   {number(a, 2)},
		"meta type":     {series(a, ts(1), true)},
	} {
		if err := CheckNumericMulti(frames); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}
