package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PromLookback is how far back an evaluation finds a sample, as in
// Prometheus (--query.lookback-delta, 5 minutes by default).
const PromLookback = 5 * time.Minute

// PromSeries is one series a fake Prometheus query returns: its labels and
// the span during which it was scraped (value 1, as build-info series are).
type PromSeries struct {
	Labels   map[string]string
	From, To time.Time // scraped in [From, To]; To zero: still scraped
}

// Prometheus is a fake Prometheus HTTP API: /api/v1/query,
// /api/v1/query_range and /api/v1/status/buildinfo, with the real answer
// shapes (vector and matrix results, error envelopes with errorType).
// Queries are matched as written; an unknown query returns no series, as a
// selector of a metric nobody exports does.
type Prometheus struct {
	srv *httptest.Server
	counters
	authCounts

	mu       sync.Mutex
	series   map[string][]PromSeries
	rejected map[string]string // query -> parse error (HTTP 400 bad_data)
	token    string            // required bearer token, when set
	status   int               // when not 0, every answer is this status with an HTML page
}

// NewPrometheus starts a fake Prometheus, closed when the test ends.
func NewPrometheus(t testing.TB) *Prometheus {
	p := &Prometheus{series: map[string][]PromSeries{}, rejected: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the base URL (the datasource's Prometheus URL).
func (p *Prometheus) URL() string { return p.srv.URL }

// Close stops the server: requests then fail as to a Prometheus that is down.
func (p *Prometheus) Close() { p.srv.Close() }

// Set makes query return these series.
func (p *Prometheus) Set(query string, series ...PromSeries) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.series[query] = series
}

// Reject makes query fail as Prometheus fails a query it cannot parse.
func (p *Prometheus) Reject(query, parseError string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rejected[query] = parseError
}

// RequireToken makes every request without "Authorization: Bearer token" a 401.
func (p *Prometheus) RequireToken(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token = token
}

// FailWith answers every request with this HTTP status and an HTML page
// (a proxy in front of a Prometheus that is down); 0 restores answers.
func (p *Prometheus) FailWith(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

type promAnswer struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

func (p *Prometheus) serve(w http.ResponseWriter, r *http.Request) {
	p.count(r.URL.Path)
	p.countAuth(r)
	p.mu.Lock()
	token, status := p.token, p.status
	p.mu.Unlock()
	if status != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprint(w, "<html><body><h1>Bad Gateway</h1></body></html>")
		return
	}
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "Unauthorized\n")
		return
	}
	answer := func(code int, a promAnswer) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(a)
	}
	bad := func(msg string) {
		answer(http.StatusBadRequest, promAnswer{Status: "error", ErrorType: "bad_data", Error: msg})
	}
	switch r.URL.Path {
	case "/api/v1/status/buildinfo":
		answer(http.StatusOK, promAnswer{Status: "success", Data: map[string]string{"version": "3.5.0", "revision": "fake", "branch": "HEAD", "goVersion": "go1.26"}})
		return
	case "/api/v1/query", "/api/v1/query_range":
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	query := q.Get("query")
	p.mu.Lock()
	parseErr, rejected := p.rejected[query]
	series := p.series[query]
	p.mu.Unlock()
	if query == "" {
		bad(`invalid parameter "query": 1:1: parse error: no expression found in input`)
		return
	}
	if rejected {
		bad(`invalid parameter "query": ` + parseErr)
		return
	}
	unix := func(name string) (time.Time, bool) {
		f, err := strconv.ParseFloat(q.Get(name), 64)
		if err != nil {
			bad(fmt.Sprintf("invalid parameter %q: cannot parse %q to a valid timestamp", name, q.Get(name)))
			return time.Time{}, false
		}
		return time.UnixMilli(int64(f * 1000)).UTC(), true
	}
	type sample = [2]any
	point := func(t time.Time) sample { return sample{float64(t.UnixMilli()) / 1000, "1"} }
	if r.URL.Path == "/api/v1/query" {
		at, ok := unix("time")
		if !ok {
			return
		}
		result := []map[string]any{}
		for _, s := range series {
			if s.scrapedAt(at) {
				result = append(result, map[string]any{"metric": s.Labels, "value": point(at)})
			}
		}
		answer(http.StatusOK, promAnswer{Status: "success", Data: map[string]any{"resultType": "vector", "result": result}})
		return
	}
	start, ok := unix("start")
	if !ok {
		return
	}
	end, ok := unix("end")
	if !ok {
		return
	}
	step, err := strconv.ParseFloat(q.Get("step"), 64)
	if err != nil || step <= 0 {
		bad(`invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`)
		return
	}
	if end.Sub(start).Seconds()/step > 11000 {
		bad("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return
	}
	result := []map[string]any{}
	for _, s := range series {
		var values []sample
		for t := start; !t.After(end); t = t.Add(time.Duration(step * float64(time.Second))) {
			if s.scrapedAt(t) {
				values = append(values, point(t))
			}
		}
		if len(values) > 0 {
			result = append(result, map[string]any{"metric": s.Labels, "values": values})
		}
	}
	sort.SliceStable(result, func(i, j int) bool { return fmt.Sprint(result[i]["metric"]) < fmt.Sprint(result[j]["metric"]) })
	answer(http.StatusOK, promAnswer{Status: "success", Data: map[string]any{"resultType": "matrix", "result": result}})
}

// scrapedAt reports whether an evaluation at t sees a sample of the series.
func (s PromSeries) scrapedAt(t time.Time) bool {
	if t.Before(s.From) {
		return false
	}
	return s.To.IsZero() || !t.After(s.To.Add(PromLookback))
}
