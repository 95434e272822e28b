// Package cache is the small in-memory cache shared by queries, health checks
// and alert evaluations of one datasource instance.
//
// Entries are keyed by string and fresh for a TTL. Concurrent Gets of the same
// key share one fetch (single-flight); that fetch runs on a context detached
// from the first caller's cancellation but bounded by a timeout, so a caller
// that gives up does not waste the work of the others. The fetch function is
// handed the previous entry, which lets it revalidate with
// If-None-Match/If-Modified-Since and return the old value on 304. When a
// refresh fails while an older value exists, that value is served with a
// notice saying how old it is and why it could not be refreshed.
//
// Entries are never evicted: the key space is bounded by the catalog, and the
// last good value is what stale-on-error serves.
package cache

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultFetchTimeout bounds one shared fetch when Options.FetchTimeout is 0.
const DefaultFetchTimeout = 2 * time.Minute

// DefaultFailureTTL is how long a failed fetch is remembered when
// Options.FailureTTL is 0 (never longer than the TTL).
const DefaultFailureTTL = 30 * time.Second

// Entry is a cached value with the validators needed to revalidate it.
type Entry[V any] struct {
	Value        V
	ETag         string    // ETag of the response the value came from, if any
	LastModified string    // Last-Modified of that response, if any
	FetchedAt    time.Time // set by the cache: when the value was last fetched or revalidated
}

// Condition makes req conditional on e: If-None-Match with its ETag and
// If-Modified-Since with its Last-Modified, where it has them. A nil e (no
// entry yet) leaves req as it is.
func (e *Entry[V]) Condition(req *http.Request) {
	if e == nil {
		return
	}
	if e.ETag != "" {
		req.Header.Set("If-None-Match", e.ETag)
	}
	if e.LastModified != "" {
		req.Header.Set("If-Modified-Since", e.LastModified)
	}
}

// FetchFunc fetches a fresh entry. prev is the entry currently cached, or nil.
// To keep the old value (for example on 304 Not Modified) return *prev.
type FetchFunc[V any] func(ctx context.Context, prev *Entry[V]) (Entry[V], error)

// Result is what Get returns.
type Result[V any] struct {
	Value     V
	FetchedAt time.Time
	// Notice is non-empty when Value is stale because a refresh failed:
	// "serving data fetched at <RFC3339>; refresh failed: <err>".
	Notice string
}

// Options configure a Cache. The zero value is usable: TTL 0 revalidates on
// every Get, the clock is time.Now.
type Options struct {
	TTL          time.Duration // how long an entry is served without refetching
	FetchTimeout time.Duration // time limit of one shared fetch; DefaultFetchTimeout when 0
	// FailureTTL is how long a failed fetch is remembered: within it, Gets of
	// that key answer at once with the same error (or the stale value and its
	// notice) instead of fetching again, so a stalled upstream does not cost
	// every query its full timeout. min(DefaultFailureTTL, TTL) when 0;
	// negative disables it.
	FailureTTL time.Duration
	Now        func() time.Time // clock; time.Now when nil
}

// Cache is a keyed TTL cache with single-flight fetches and stale-on-error.
// It is safe for concurrent use.
type Cache[V any] struct {
	opts     Options
	group    singleflight.Group
	mu       sync.Mutex
	entries  map[string]*Entry[V]
	failures map[string]failure

	waiting atomic.Int64 // callers blocked on a shared fetch (for tests)
}

// New returns an empty cache.
func New[V any](opts Options) *Cache[V] {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.FailureTTL == 0 {
		opts.FailureTTL = min(DefaultFailureTTL, opts.TTL)
	}
	return &Cache[V]{opts: opts, entries: map[string]*Entry[V]{}, failures: map[string]failure{}}
}

// failure is a remembered failed fetch.
type failure struct {
	err error
	at  time.Time
}

// TTL is the freshness period of entries.
func (c *Cache[V]) TTL() time.Duration { return c.opts.TTL }

// Get returns the value of key, fetching it when it is missing or older than
// the TTL. The error is returned only when there is no value at all to serve;
// a failed refresh of an existing value yields that value and a Notice.
// ctx only bounds how long this caller waits.
func (c *Cache[V]) Get(ctx context.Context, key string, fetch FetchFunc[V]) (Result[V], error) {
	if e, ok := c.fresh(key); ok {
		return Result[V]{Value: e.Value, FetchedAt: e.FetchedAt}, nil
	}
	if r, ok, err := c.recentFailure(key); ok {
		return r, err
	}
	ch := c.group.DoChan(key, func() (any, error) {
		// Another flight may have stored a fresh value since we looked.
		if e, ok := c.fresh(key); ok {
			return Result[V]{Value: e.Value, FetchedAt: e.FetchedAt}, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FetchTimeout)
		defer cancel()
		return c.refresh(fctx, key, fetch)
	})
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case <-ctx.Done():
		var zero Result[V]
		return zero, fmt.Errorf("waiting for %s: %w", key, context.Cause(ctx))
	case r := <-ch:
		if r.Err != nil {
			var zero Result[V]
			return zero, r.Err
		}
		return r.Val.(Result[V]), nil
	}
}

func (c *Cache[V]) refresh(ctx context.Context, key string, fetch FetchFunc[V]) (Result[V], error) {
	prev := c.peek(key)
	e, err := fetch(ctx, prev)
	if err != nil {
		c.mu.Lock()
		c.failures[key] = failure{err: err, at: c.opts.Now()}
		c.mu.Unlock()
		return staleOr(prev, err)
	}
	e.FetchedAt = c.opts.Now()
	c.mu.Lock()
	c.entries[key] = &e
	delete(c.failures, key)
	c.mu.Unlock()
	return Result[V]{Value: e.Value, FetchedAt: e.FetchedAt}, nil
}

// staleOr serves prev with a notice saying why it is stale, or the error when
// there is nothing to serve.
func staleOr[V any](prev *Entry[V], err error) (Result[V], error) {
	if prev == nil {
		return Result[V]{}, err
	}
	return Result[V]{
		Value:     prev.Value,
		FetchedAt: prev.FetchedAt,
		Notice:    fmt.Sprintf("serving data fetched at %s; refresh failed: %v", prev.FetchedAt.UTC().Format(time.RFC3339), err),
	}, nil
}

// recentFailure answers for a key whose last fetch failed less than
// FailureTTL ago, without fetching.
func (c *Cache[V]) recentFailure(key string) (Result[V], bool, error) {
	c.mu.Lock()
	f, ok := c.failures[key]
	c.mu.Unlock()
	if !ok || c.opts.Now().Sub(f.at) >= c.opts.FailureTTL {
		return Result[V]{}, false, nil
	}
	r, err := staleOr(c.peek(key), f.err)
	return r, true, err
}

// fresh returns the entry of key when it is younger than the TTL.
func (c *Cache[V]) fresh(key string) (Entry[V], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.opts.Now().Sub(e.FetchedAt) >= c.opts.TTL {
		return Entry[V]{}, false
	}
	return *e, true
}

// peek returns a copy of the entry of key whatever its age, or nil.
func (c *Cache[V]) peek(key string) *Entry[V] {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	cp := *e
	return &cp
}

// Has reports whether key has a value, whatever its age, or a failure that
// is still remembered (a Get within FailureTTL answers it without fetching).
func (c *Cache[V]) Has(key string) bool {
	_, failed, _ := c.recentFailure(key)
	return failed || c.peek(key) != nil
}

// Put stores a value fetched by other means (a batch of several keys), as a
// fetch would: fresh for the TTL from now.
func (c *Cache[V]) Put(key string, e Entry[V]) {
	e.FetchedAt = c.opts.Now()
	c.mu.Lock()
	c.entries[key] = &e
	delete(c.failures, key)
	c.mu.Unlock()
}

// Delete forgets key: its entry and its remembered failure.
func (c *Cache[V]) Delete(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	delete(c.failures, key)
	c.mu.Unlock()
}

// Len is the number of cached entries.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Failures is the number of remembered failures.
func (c *Cache[V]) Failures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.failures)
}
