package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Recorder is a server whose answers a test scripts (Handle), and which
// records the Authorization header of every request it receives: hostile or
// broken upstreams, redirect targets, proxies.
type Recorder struct {
	srv *httptest.Server

	mu       sync.Mutex
	handler  http.HandlerFunc
	auths    []string
	requests int
}

// NewRecorder starts a Recorder answering 404 until Handle is called; it is
// closed when the test ends.
func NewRecorder(t testing.TB) *Recorder {
	t.Helper()
	r := &Recorder{handler: http.NotFound}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests++
		if a := req.Header.Get("Authorization"); a != "" {
			r.auths = append(r.auths, a)
		}
		h := r.handler
		r.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (r *Recorder) URL() string { return r.srv.URL }

// Handle makes h answer every request from now on.
func (r *Recorder) Handle(h http.HandlerFunc) {
	r.mu.Lock()
	r.handler = h
	r.mu.Unlock()
}

// Authorizations returns the Authorization headers received, in order.
func (r *Recorder) Authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

// Requests counts the requests received.
func (r *Recorder) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// EchoHeaders answers 502 with a GitHub-style JSON error whose message quotes
// every request header, Authorization included, as a misconfigured proxy in
// front of GitHub Enterprise might.
func EchoHeaders(w http.ResponseWriter, req *http.Request) {
	var lines []string
	for k, vs := range req.Header {
		lines = append(lines, fmt.Sprintf("%s: %s", k, strings.Join(vs, ",")))
	}
	sort.Slice(lines, func(i, j int) bool { // Authorization first, where a message cut short still shows it
		ai, aj := strings.HasPrefix(lines[i], "Authorization"), strings.HasPrefix(lines[j], "Authorization")
		return ai && !aj || ai == aj && lines[i] < lines[j]
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": strings.Join(lines, "\n") + "\nrejected by the upstream"})
}
