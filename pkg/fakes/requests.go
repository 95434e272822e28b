package fakes

import (
	"net/http"
	"sync"
)

// counters are the request counters of a fake server. Embedded in GitHub and
// Helm, they give both the same Requests, RequestsTo, NotModified and
// ResetCounters. The zero value is ready to use.
type counters struct {
	countMu     sync.Mutex
	total       int
	notModified int
	perPath     map[string]int
}

// count records one request for path.
func (c *counters) count(path string) {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	if c.perPath == nil {
		c.perPath = map[string]int{}
	}
	c.total++
	c.perPath[path]++
}

// countNotModified records one 304 answer.
func (c *counters) countNotModified() {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	c.notModified++
}

// Requests is the number of requests received.
func (c *counters) Requests() int {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return c.total
}

// RequestsTo is the number of requests received for path, e.g.
// "/repos/ollama/ollama/releases", "/graphql" or "/rate_limit" (GitHub), or
// "/otwld__ollama-helm/index.yaml" (Helm).
func (c *counters) RequestsTo(path string) int {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return c.perPath[path]
}

// NotModified is the number of 304 answers sent.
func (c *counters) NotModified() int {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return c.notModified
}

// ResetCounters sets every request counter to zero.
func (c *counters) ResetCounters() {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	c.total, c.notModified = 0, 0
	c.perPath = map[string]int{}
}

// holder is the Hold gate of a fake server, embedded in GitHub and Helm. The
// zero value holds nothing.
type holder struct {
	gateMu sync.Mutex
	gate   *Gate
}

// Hold makes requests that arrive from now on wait until the returned gate is
// released (Release, or the end of the test).
func (h *holder) Hold() *Gate {
	h.gateMu.Lock()
	defer h.gateMu.Unlock()
	if h.gate != nil {
		h.gate.Release()
	}
	h.gate = newGate()
	return h.gate
}

// admit waits at the current gate, if any, until it is released or r is
// cancelled.
func (h *holder) admit(r *http.Request) {
	h.gateMu.Lock()
	gate := h.gate
	h.gateMu.Unlock()
	if gate != nil {
		gate.wait(r.Context().Done())
	}
}

// releaseGate lets every held request through; the fakes call it when the
// test ends.
func (h *holder) releaseGate() {
	h.gateMu.Lock()
	defer h.gateMu.Unlock()
	if h.gate != nil {
		h.gate.Release()
	}
}

// authCounts counts requests by their Authorization header.
type authCounts struct {
	authMu sync.Mutex
	auth   map[string]int
}

func (a *authCounts) countAuth(r *http.Request) {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.auth == nil {
		a.auth = map[string]int{}
	}
	a.auth[r.Header.Get("Authorization")]++
}

// Authorizations returns how many requests came with each Authorization
// header value ("" for none).
func (a *authCounts) Authorizations() map[string]int {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	out := make(map[string]int, len(a.auth))
	for k, v := range a.auth {
		out[k] = v
	}
	return out
}
