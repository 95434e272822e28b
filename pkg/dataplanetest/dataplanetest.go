// Package dataplanetest checks frames against Grafana's data plane contract
// (grafana/dataplane docs/contract) for the two kinds Lagwatch returns to
// alerting: timeseries-multi and numeric-multi. It stands in for the
// dataplane/sdata readers, which the module proxy here does not serve.
package dataplanetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// CheckTimeSeriesMulti returns every contract violation of a timeseries-multi
// response: type and version in meta; per frame a first time field without
// nulls, strictly ascending (so no duplicate timestamps) and without labels;
// exactly one numeric value field; and label sets unique across frames.
func CheckTimeSeriesMulti(frames data.Frames) error {
	var errs []error
	seen := map[string]int{}
	for i, f := range frames {
		at := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("frame %d (%q): %s", i, f.Name, fmt.Sprintf(format, args...)))
		}
		checkMeta(f, data.FrameTypeTimeSeriesMulti, at)
		var timeField, valueField *data.Field
		numeric := 0
		for _, fd := range f.Fields {
			switch {
			case fd.Type().Time():
				if timeField == nil {
					timeField = fd
				}
			case fd.Type().Numeric():
				numeric++
				valueField = fd
			}
		}
		if len(f.Fields) == 0 || !f.Fields[0].Type().Time() {
			at("first field is not a time field")
		}
		if timeField == nil || numeric == 0 {
			at("needs a time field and a numeric value field")
			continue
		}
		if numeric != 1 {
			at("has %d numeric fields, want 1", numeric)
		}
		if len(timeField.Labels) > 0 {
			at("time field has labels %v", timeField.Labels)
		}
		var prev time.Time
		for r := 0; r < timeField.Len(); r++ {
			v, ok := timeField.ConcreteAt(r)
			if !ok {
				at("time field has a null at row %d", r)
				continue
			}
			t := v.(time.Time)
			if r > 0 && !prev.Before(t) {
				at("time not strictly ascending at row %d (%s after %s)", r, t, prev)
			}
			prev = t
		}
		key := valueField.Labels.String()
		if j, dup := seen[key]; dup {
			at("label set %s is also on frame %d: alerting cannot tell the series apart", key, j)
		}
		seen[key] = i
	}
	return errors.Join(errs...)
}

// CheckNumericMulti returns every contract violation of a numeric-multi
// response: type and version in meta; per frame exactly one numeric value
// field and zero or one row; label sets unique across frames.
func CheckNumericMulti(frames data.Frames) error {
	var errs []error
	seen := map[string]int{}
	for i, f := range frames {
		at := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("frame %d (%q): %s", i, f.Name, fmt.Sprintf(format, args...)))
		}
		checkMeta(f, data.FrameTypeNumericMulti, at)
		var value *data.Field
		numeric := 0
		for _, fd := range f.Fields {
			if fd.Type().Numeric() {
				numeric++
				value = fd
			}
		}
		if numeric != 1 {
			at("has %d numeric fields, want 1", numeric)
			continue
		}
		if rows, err := f.RowLen(); err != nil || rows > 1 {
			at("has %d rows, want 0 or 1 (%v)", rows, err)
		}
		key := value.Labels.String()
		if j, dup := seen[key]; dup {
			at("label set %s is also on frame %d: alerting cannot tell the series apart", key, j)
		}
		seen[key] = i
	}
	return errors.Join(errs...)
}

func checkMeta(f *data.Frame, want data.FrameType, at func(string, ...any)) {
	if f.Meta == nil {
		at("no meta: want type %s", want)
		return
	}
	if f.Meta.Type != want {
		at("meta type %q, want %q", f.Meta.Type, want)
	}
	if f.Meta.TypeVersion.IsZero() {
		at("meta type version missing")
	}
}
