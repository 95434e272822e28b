package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

func newClock() *fakes.Clock { return fakes.NewClock(time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC)) }

func TestGetTTLAndRevalidation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := New[string](Options{TTL: time.Minute, Now: clk.Now})
	var calls int
	var gotPrev []*Entry[string]
	fetch := func(_ context.Context, prev *Entry[string]) (Entry[string], error) {
		calls++
		gotPrev = append(gotPrev, prev)
		if prev != nil && prev.ETag == `"v1"` {
			return *prev, nil // 304
		}
		return Entry[string]{Value: "one", ETag: `"v1"`}, nil
	}
	ctx := context.Background()
	for i, step := range []struct {
		advance   time.Duration
		wantCalls int
	}{
		{0, 1},                // miss
		{30 * time.Second, 1}, // fresh
		{31 * time.Second, 2}, // expired: revalidated with prev
		{59 * time.Second, 2}, // fresh again after revalidation
	} {
		clk.Advance(step.advance)
		r, err := c.Get(ctx, "k", fetch)
		if err != nil || r.Value != "one" || r.Notice != "" {
			t.Fatalf("step %d: got %+v, %v", i, r, err)
		}
		if calls != step.wantCalls {
			t.Fatalf("step %d: %d fetches, want %d", i, calls, step.wantCalls)
		}
	}
	if gotPrev[0] != nil || gotPrev[1] == nil || gotPrev[1].ETag != `"v1"` {
		t.Fatalf("fetch did not get the previous entry: %+v", gotPrev)
	}
}

func TestStaleOnError(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := New[int](Options{TTL: time.Minute, Now: clk.Now})
	fail := errors.New("HTTP 502")
	ctx := context.Background()

	if _, err := c.Get(ctx, "k", func(context.Context, *Entry[int]) (Entry[int], error) { return Entry[int]{}, fail }); !errors.Is(err, fail) {
		t.Fatalf("no value and failing fetch: err = %v, want %v", err, fail)
	}
	if c.Len() != 0 {
		t.Fatalf("a failure was cached as a value")
	}
	clk.Advance(DefaultFailureTTL) // the failure is no longer remembered
	fetchedAt := clk.Now()
	if _, err := c.Get(ctx, "k", func(context.Context, *Entry[int]) (Entry[int], error) { return Entry[int]{Value: 7}, nil }); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	r, err := c.Get(ctx, "k", func(context.Context, *Entry[int]) (Entry[int], error) { return Entry[int]{}, fail })
	if err != nil {
		t.Fatalf("stale value expected, got error %v", err)
	}
	want := "serving data fetched at " + fetchedAt.Format(time.RFC3339) + "; refresh failed: HTTP 502"
	if r.Value != 7 || r.Notice != want || !r.FetchedAt.Equal(fetchedAt) {
		t.Fatalf("got %+v, want value 7 and notice %q", r, want)
	}
}

// waitFor spins (yielding, no sleeps) until cond holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		runtime.Gosched()
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	c := New[string](Options{TTL: time.Minute})
	gate := make(chan struct{})
	var calls atomic.Int64
	fetch := func(ctx context.Context, _ *Entry[string]) (Entry[string], error) {
		calls.Add(1)
		<-gate
		return Entry[string]{Value: "v"}, nil
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			r, err := c.Get(context.Background(), "k", fetch)
			if err == nil && r.Value != "v" {
				err = errors.New("wrong value " + r.Value)
			}
			errs <- err
		})
	}
	waitFor(t, func() bool { return c.waiting.Load() == n })
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("%d fetches for %d concurrent Gets, want 1", got, n)
	}
}

func TestFetchSurvivesFirstCallerCancel(t *testing.T) {
	t.Parallel()
	c := New[string](Options{TTL: time.Minute})
	gate := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int64
	var fetchCtxErr atomic.Value
	fetch := func(ctx context.Context, _ *Entry[string]) (Entry[string], error) {
		calls.Add(1)
		close(started)
		<-gate
		if ctx.Err() != nil {
			fetchCtxErr.Store(ctx.Err())
		}
		if _, ok := ctx.Deadline(); !ok {
			return Entry[string]{}, errors.New("shared fetch has no deadline")
		}
		return Entry[string]{Value: "v"}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "k", fetch)
		first <- err
	}()
	<-started
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "k") {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	second := make(chan error, 1)
	go func() {
		r, err := c.Get(context.Background(), "k", fetch)
		if err == nil && r.Value != "v" {
			err = errors.New("wrong value")
		}
		second <- err
	}()
	waitFor(t, func() bool { return c.waiting.Load() == 1 })
	close(gate)
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || fetchCtxErr.Load() != nil {
		t.Fatalf("calls = %d, fetch ctx err = %v", calls.Load(), fetchCtxErr.Load())
	}
}

func TestKeysIndependent(t *testing.T) {
	t.Parallel()
	c := New[string](Options{TTL: time.Minute})
	ctx := context.Background()
	if _, err := c.Get(ctx, "bad", func(context.Context, *Entry[string]) (Entry[string], error) {
		return Entry[string]{}, errors.New("boom")
	}); err == nil {
		t.Fatal("want error")
	}
	r, err := c.Get(ctx, "good", func(context.Context, *Entry[string]) (Entry[string], error) {
		return Entry[string]{Value: "ok"}, nil
	})
	if err != nil || r.Value != "ok" {
		t.Fatalf("got %+v, %v", r, err)
	}
	c.Delete("good")
	if c.Len() != 0 {
		t.Fatalf("Len = %d after Delete", c.Len())
	}
}

// A failed fetch is remembered for FailureTTL: a stalled upstream costs one
// timeout, not one per query. With an old value, that value is served.
func TestFailuresAreRemembered(t *testing.T) {
	clk := newClock()
	c := New[int](Options{TTL: time.Minute, Now: clk.Now})
	fail := errors.New("HTTP 502")
	fetches := 0
	failing := func(context.Context, *Entry[int]) (Entry[int], error) { fetches++; return Entry[int]{}, fail }
	ok := func(context.Context, *Entry[int]) (Entry[int], error) { fetches++; return Entry[int]{Value: 7}, nil }
	ctx := context.Background()
	for range 3 {
		if _, err := c.Get(ctx, "k", failing); !errors.Is(err, fail) {
			t.Fatalf("err = %v", err)
		}
	}
	if fetches != 1 {
		t.Fatalf("%d fetches within the failure TTL, want 1", fetches)
	}
	clk.Advance(DefaultFailureTTL)
	if r, err := c.Get(ctx, "k", ok); err != nil || r.Value != 7 || fetches != 2 {
		t.Fatalf("after the failure TTL: %+v %v, %d fetches", r, err, fetches)
	}
	clk.Advance(2 * time.Minute)
	for range 3 {
		if r, err := c.Get(ctx, "k", failing); err != nil || r.Value != 7 || r.Notice == "" {
			t.Fatalf("stale: %+v %v", r, err)
		}
	}
	if fetches != 3 {
		t.Fatalf("%d fetches, want 3", fetches)
	}
	// TTL 0 (revalidate every query) remembers no failure.
	c0 := New[int](Options{Now: clk.Now})
	fetches = 0
	_, _ = c0.Get(ctx, "k", failing)
	_, _ = c0.Get(ctx, "k", failing)
	if fetches != 2 {
		t.Fatalf("TTL 0: %d fetches, want 2", fetches)
	}
}

// Delete forgets a remembered failure too: a caller that bounds its keys
// (the Prometheus source) must not leak failure records.
func TestDeleteForgetsFailures(t *testing.T) {
	c := New[int](Options{TTL: time.Minute})
	fail := errors.New("HTTP 502")
	for i := range 100 {
		key := fmt.Sprint(i)
		_, _ = c.Get(context.Background(), key, func(context.Context, *Entry[int]) (Entry[int], error) { return Entry[int]{}, fail })
		c.Delete(key)
	}
	if c.Failures() != 0 || c.Len() != 0 {
		t.Errorf("after Delete: %d failures, %d entries remembered", c.Failures(), c.Len())
	}
}

// Condition sends the validators an entry has, and none without an entry.
func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		entry    *Entry[int]
		inm, ims string
	}{
		{nil, "", ""},
		{&Entry[int]{}, "", ""},
		{&Entry[int]{ETag: `W/"abc"`}, `W/"abc"`, ""},
		{&Entry[int]{ETag: `"x"`, LastModified: "Wed, 02 Dec 2026 10:00:00 GMT"}, `"x"`, "Wed, 02 Dec 2026 10:00:00 GMT"},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/index.yaml", nil)
		tc.entry.Condition(req)
		if got := req.Header.Get("If-None-Match"); got != tc.inm {
			t.Errorf("%+v: If-None-Match %q, want %q", tc.entry, got, tc.inm)
		}
		if got := req.Header.Get("If-Modified-Since"); got != tc.ims {
			t.Errorf("%+v: If-Modified-Since %q, want %q", tc.entry, got, tc.ims)
		}
	}
}
