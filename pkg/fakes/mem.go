package fakes

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// PeakHeap runs f and returns the largest growth of the live heap seen while
// it ran, sampled every 200 µs (runtime/metrics, which does not stop the
// world): the memory f held at once, measured, not timed. Tests that use it
// must not run in parallel with others.
func PeakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for {
		if v := read(); v > base && v-base > peak {
			peak = v - base
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}
