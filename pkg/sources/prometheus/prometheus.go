// Package prometheus reads the version a service runs from Prometheus: a
// PromQL expression whose series carry the version in a label, such as
// prometheus_build_info{version} or helm-exporter's helm_chart_info{appVersion}.
//
// The value at the end of a query's range comes from an instant query
// (GET /api/v1/query) at that time, rounded down to the minute; the history
// of a lag panel from a range query (GET /api/v1/query_range) at a step of
// the range over MaxSteps, at least a minute, with start and end aligned to
// the step. Rounded times repeat, so answers are cached for the TTL like the
// other sources' (single-flight, failures remembered briefly, the last good
// answer served with a notice when Prometheus fails).
package prometheus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Limits.
const (
	MaxSteps        = 500 // points of a range query (Prometheus' own limit is 11 000)
	MinStep         = time.Minute
	MaxCacheTTL     = time.Minute // answers move with time: they are kept at most this long
	maxBodyBytes    = 16 << 20
	maxSeries       = 1000
	keysPerQuery    = 8 // cached answers kept per query (older time ranges are dropped)
	maxQuotedErrors = 200
)

// Config configures a Source.
type Config struct {
	URL        string        // Prometheus base URL, e.g. http://prometheus:9090
	HTTPClient *http.Client  // the shared allow-listed client; http.DefaultClient when nil
	User       string        // basic auth user (with Password)
	Password   string        // basic auth password
	Token      string        // bearer token, used when User is empty
	CacheTTL   time.Duration // capped at MaxCacheTTL
	Timeout    time.Duration // one request; none besides the client's when 0
	Now        func() time.Time
}

// Source is a sources.DeployedSource backed by the Prometheus HTTP API.
type Source struct {
	cfg   Config
	base  *url.URL
	cache *cache.Cache[[]sources.DeployedSample]

	mu   sync.Mutex
	keys map[string][]string // query -> its cached keys, oldest first
}

var _ sources.DeployedSource = (*Source)(nil)

// New checks the URL and returns a Source.
func New(cfg Config) (*Source, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("Prometheus URL %s is not an http(s) URL", sources.Quote(cfg.URL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("Prometheus URL %q holds credentials: give them as the Prometheus user and password instead", u.Redacted())
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ttl := min(cfg.CacheTTL, MaxCacheTTL)
	return &Source{cfg: cfg, base: u, keys: map[string][]string{},
		cache: cache.New[[]sources.DeployedSample](cache.Options{TTL: ttl, FetchTimeout: cfg.Timeout, Now: cfg.Now})}, nil
}

// SetClient sets the HTTP client (the shared allow-listed one, made after
// the Source since the Source names the host it needs).
func (s *Source) SetClient(c *http.Client) { s.cfg.HTTPClient = c }

// Host is the host:port requests go to (for the allow-list).
func (s *Source) Host() string { return s.base.Host }

// Step is the resolution of a range query over [from, to].
func Step(from, to time.Time) time.Duration {
	step := (to.Sub(from) + MaxSteps - 1) / MaxSteps
	if r := step % time.Minute; r != 0 {
		step += time.Minute - r
	}
	return max(step, MinStep)
}

// Deployed implements sources.DeployedSource.
func (s *Source) Deployed(ctx context.Context, ref sources.DeployedRef, from, to time.Time, history bool) ([]sources.DeployedSample, []sources.Notice, error) {
	at := to.Truncate(time.Minute)
	params := url.Values{"query": {ref.Query}}
	path := "/api/v1/query"
	params.Set("time", strconv.FormatInt(at.Unix(), 10))
	var out []sources.DeployedSample
	var notices []sources.Notice
	if history && from.Before(at) {
		step := Step(from, to)
		rp := url.Values{"query": {ref.Query},
			"start": {strconv.FormatInt(from.Truncate(step).Unix(), 10)},
			"end":   {strconv.FormatInt(at.Truncate(step).Unix(), 10)},
			"step":  {strconv.FormatInt(int64(step/time.Second), 10)}}
		samples, n, err := s.get(ctx, ref, "/api/v1/query_range", rp)
		if err != nil {
			return nil, nil, err
		}
		out, notices = append(out, samples...), append(notices, n...)
	}
	samples, n, err := s.get(ctx, ref, path, params)
	if err != nil {
		return nil, nil, err
	}
	out, notices = append(out, samples...), append(notices, n...)
	if len(out) == 0 {
		notices = append(notices, sources.Notice(fmt.Sprintf("Prometheus query %s returned no series: deployed version unknown", sources.Quote(ref.Query))))
	}
	return out, unique(notices), nil
}

func unique(ns []sources.Notice) []sources.Notice {
	seen := map[sources.Notice]bool{}
	out := ns[:0]
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// get asks Prometheus once per key and TTL.
func (s *Source) get(ctx context.Context, ref sources.DeployedRef, path string, params url.Values) ([]sources.DeployedSample, []sources.Notice, error) {
	u := *s.base
	u.Path += path
	u.RawQuery = params.Encode()
	key := ref.Label + " " + u.String()
	s.remember(ref.Query, key)
	res, err := s.cache.Get(ctx, key, func(ctx context.Context, _ *cache.Entry[[]sources.DeployedSample]) (cache.Entry[[]sources.DeployedSample], error) {
		v, err := s.fetch(ctx, &u, ref)
		return cache.Entry[[]sources.DeployedSample]{Value: v}, err
	})
	if err != nil {
		return nil, nil, s.redact(err)
	}
	var notices []sources.Notice
	if res.Notice != "" {
		notices = append(notices, sources.Notice(s.redactText(res.Notice)))
	}
	for _, smp := range res.Value {
		if len(smp.Versions) == 0 {
			notices = append(notices, sources.Notice(fmt.Sprintf("Prometheus query %s returned series without the label %q: those series are left out", sources.Quote(ref.Query), ref.Label)))
			break
		}
	}
	return res.Value, notices, nil
}

// remember keeps the cache's key space bounded: the newest keysPerQuery keys
// of each query stay, older ones are dropped.
func (s *Source) remember(query, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.keys[query]
	for _, k := range keys {
		if k == key {
			return
		}
	}
	keys = append(keys, key)
	if len(keys) > keysPerQuery {
		s.cache.Delete(keys[0])
		keys = keys[1:]
	}
	s.keys[query] = keys
}

// apiResponse is the envelope of every Prometheus HTTP API answer.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Data      json.RawMessage `json:"data"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type series struct {
	Metric map[string]string   `json:"metric"`
	Value  []json.RawMessage   `json:"value"`  // vector: [time, "value"]
	Values [][]json.RawMessage `json:"values"` // matrix: [[time, "value"], …]
}

func (s *Source) fetch(ctx context.Context, u *url.URL, ref sources.DeployedRef) ([]sources.DeployedSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("Prometheus at %s: the answer could not be read: %w", s.base.Host, err)
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("Prometheus at %s: the answer to %s is larger than %d MiB: narrow the query", s.base.Host, sources.Quote(ref.Query), maxBodyBytes>>20)
	}
	return Decode(resp.StatusCode, body, ref)
}

// do sends a request with the configured credentials.
func (s *Source) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	switch {
	case s.cfg.User != "":
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
	case s.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("Prometheus at %s unreachable: %w", s.base.Host, err)
	}
	return resp, nil
}

// Decode reads an answer of /api/v1/query or /api/v1/query_range into
// samples: one per time, with the version label of every series that has a
// sample then (samples of series without the label have no versions).
func Decode(status int, body []byte, ref sources.DeployedRef) ([]sources.DeployedSample, error) {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil || (r.Status != "success" && r.Status != "error") {
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return nil, fmt.Errorf("Prometheus refused the request (HTTP %d): check the Prometheus user, password or token in the datasource settings", status)
		case status != http.StatusOK:
			return nil, fmt.Errorf("Prometheus answered HTTP %d without an API answer: is the Prometheus URL right?", status)
		}
		return nil, errors.New("Prometheus answered with something that is not a Prometheus API answer: is the Prometheus URL right?")
	}
	if r.Status == "error" {
		msg := r.Error
		if len(msg) > maxQuotedErrors {
			msg = msg[:maxQuotedErrors] + "…"
		}
		if r.ErrorType == "bad_data" {
			return nil, fmt.Errorf("Prometheus rejected the query %s: %s", sources.Quote(ref.Query), msg)
		}
		return nil, fmt.Errorf("Prometheus could not run the query %s (%s): %s", sources.Quote(ref.Query), r.ErrorType, msg)
	}
	var d queryData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return nil, errors.New("Prometheus answer: data is not a query result")
	}
	var list []series
	switch d.ResultType {
	case "vector", "matrix":
		if err := json.Unmarshal(d.Result, &list); err != nil {
			return nil, fmt.Errorf("Prometheus answer: the %s result is not a list of series", d.ResultType)
		}
	default:
		return nil, fmt.Errorf("the query %s gives a %s, not series with labels: give an expression that returns series, such as prometheus_build_info", sources.Quote(ref.Query), quoteType(d.ResultType))
	}
	if len(list) > maxSeries {
		return nil, fmt.Errorf("the query %s returns %d series, more than the limit of %d: narrow it with label matchers", sources.Quote(ref.Query), len(list), maxSeries)
	}
	byTime := map[int64][]string{}
	for _, sr := range list {
		points := sr.Values
		if d.ResultType == "vector" {
			points = [][]json.RawMessage{sr.Value}
		}
		version, ok := sr.Metric[ref.Label]
		for _, p := range points {
			ms, err := sampleTime(p)
			if err != nil {
				return nil, err
			}
			vs := byTime[ms]
			if ok && version != "" {
				vs = append(vs, version)
			}
			byTime[ms] = vs
		}
	}
	out := make([]sources.DeployedSample, 0, len(byTime))
	for ms, vs := range byTime {
		out = append(out, sources.DeployedSample{At: time.UnixMilli(ms).UTC(), Versions: vs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

func quoteType(t string) string {
	if t == "" {
		return "no result"
	}
	return sources.Quote(t)
}

// sampleTime reads the time of a [time, "value"] pair, in milliseconds.
func sampleTime(p []json.RawMessage) (int64, error) {
	if len(p) != 2 {
		return 0, errors.New("Prometheus answer: a sample is not a [time, value] pair")
	}
	var sec float64
	if err := json.Unmarshal(p[0], &sec); err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1e11 {
		return 0, fmt.Errorf("Prometheus answer: sample time %s is not a Unix time", sources.Quote(string(p[0])))
	}
	return int64(math.Round(sec * 1000)), nil
}

// redact removes the password and token from an error's text.
func (s *Source) redact(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(s.redactText(err.Error()))
}

func (s *Source) redactText(t string) string {
	secrets := []string{s.cfg.Password, s.cfg.Token}
	if s.cfg.User != "" {
		// What a proxy echoing the Authorization header shows.
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(s.cfg.User+":"+s.cfg.Password)))
	}
	for _, secret := range secrets {
		if len(secret) >= 4 {
			t = strings.ReplaceAll(t, secret, "[redacted]")
		}
	}
	return t
}

// Check asks Prometheus for its build information (GET
// /api/v1/status/buildinfo), for the health check: its version, or why it
// cannot be reached.
func (s *Source) Check(ctx context.Context) (string, error) {
	u := *s.base
	u.Path += "/api/v1/status/buildinfo"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := s.do(req)
	if err != nil {
		return "", s.redact(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		if _, derr := Decode(resp.StatusCode, body, sources.DeployedRef{}); derr != nil {
			return "", s.redact(derr)
		}
		return "", errors.New("Prometheus answered with something that is not a Prometheus API answer: is the Prometheus URL right?")
	}
	return r.Data.Version, nil
}
