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
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Limits.
const (
	MaxSteps        = 500 // points of a range query (Prometheus' own limit is 11 000)
	MinStep         = time.Minute
	MaxCacheTTL     = time.Minute // answers move with time: they are kept at most this long
	maxBodyBytes    = 4 << 20
	maxSeries       = 100     // a deployed query names one service: a handful of series
	maxPoints       = 100_000 // samples of one answer
	keysPerQuery    = 8       // cached answers kept per query (older time ranges are dropped)
	maxQuotedErrors = 200     // characters of an error message of Prometheus in a message
	maxVersion      = 80      // characters of the build version the health check shows
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
	// AuthHint says where the login is set, in the words of the user's
	// surface ("the Prometheus user, password or token in the datasource
	// settings"), for a refused request and a URL with credentials.
	AuthHint string
}

// Source is a sources.DeployedSource backed by the Prometheus HTTP API.
type Source struct {
	cfg   Config
	base  *url.URL
	cache *cache.Cache[Answer]

	// secrets are the login as it could come back in an answer: in clear
	// and as the basic-auth header a proxy might echo.
	secrets []string

	mu   sync.Mutex
	keys map[string][]string // query -> its cached keys, oldest first
}

var _ sources.DeployedSource = (*Source)(nil)

// New checks the URL and returns a Source.
func New(cfg Config) (*Source, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("Prometheus URL %s is not an http(s) URL", quote.Value(cfg.URL))
	}
	cfg.AuthHint = cmp.Or(cfg.AuthHint, "the Prometheus user, password or token")
	if u.User != nil {
		return nil, fmt.Errorf("Prometheus URL %q holds credentials: give them as %s instead", u.Redacted(), cfg.AuthHint)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var secrets []string
	for _, secret := range []string{cfg.Password, cfg.Token} {
		if len(secret) >= 4 {
			secrets = append(secrets, secret)
		}
	}
	if cfg.User != "" {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(cfg.User+":"+cfg.Password)))
	}
	ttl := min(cfg.CacheTTL, MaxCacheTTL)
	return &Source{cfg: cfg, base: u, keys: map[string][]string{}, secrets: secrets,
		cache: cache.New[Answer](cache.Options{TTL: ttl, FetchTimeout: cfg.Timeout, Now: cfg.Now})}, nil
}

// SetClient sets the HTTP client (the shared allow-listed one, made after
// the Source since the Source names the host it needs).
func (s *Source) SetClient(c *http.Client) { s.cfg.HTTPClient = c }

// Host is the host:port requests go to (for the allow-list).
func (s *Source) Host() string { return s.base.Host }

// Step is the resolution of a range query over [from, to].
func Step(from, to time.Time) time.Duration {
	span := to.Sub(from) // rounded up below, without adding to it: it may be math.MaxInt64
	step := span / MaxSteps
	if span%MaxSteps != 0 {
		step++
	}
	if r := step % time.Minute; r != 0 {
		step += time.Minute - r
	}
	return max(step, MinStep)
}

// Deployed implements sources.DeployedSource: the samples of a range query
// over [from, at] and of an instant query at at, where at is the range's
// end (never after now) rounded down to the minute. Both answers, so that
// the value at the end is the newest sample at or before it within the
// range, whatever the query type: a lag panel's last point and an alert
// read the same version. When one of the two fails, the other is used
// with a notice.
func (s *Source) Deployed(ctx context.Context, ref sources.DeployedRef, from, to time.Time) ([]sources.DeployedSample, []sources.Notice, error) {
	at := to
	if now := s.cfg.Now(); now.Before(at) {
		at = now // a range ending in the future (forecast dashboards)
	}
	at = at.Truncate(time.Minute)
	instant := url.Values{"query": {ref.Query}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	var (
		out     []sources.DeployedSample
		notices []sources.Notice
		failed  []error
	)
	if from.Before(at) {
		step := Step(from, at)
		rp := url.Values{"query": {ref.Query},
			"start": {strconv.FormatInt(from.Truncate(step).Unix(), 10)},
			"end":   {strconv.FormatInt(at.Truncate(step).Unix(), 10)},
			"step":  {strconv.FormatInt(int64(step/time.Second), 10)}}
		samples, n, err := s.get(ctx, ref, "/api/v1/query_range", rp)
		if err != nil {
			failed = append(failed, err)
		}
		out, notices = append(out, samples...), append(notices, n...)
	}
	samples, n, err := s.get(ctx, ref, "/api/v1/query", instant)
	if err != nil {
		failed = append(failed, err)
	}
	out, notices = append(out, samples...), append(notices, n...)
	switch {
	case len(failed) == 0:
	case len(out) == 0 && (len(failed) == 2 || !from.Before(at)):
		return nil, nil, failed[0]
	case err != nil:
		notices = append(notices, sources.Notice(fmt.Sprintf("the deployed version at the end of the range could not be read, the newest before it counts: %v", err)))
	default:
		notices = append(notices, sources.Notice(fmt.Sprintf("the history of the deployed version could not be read, only its value at the end: %v", failed[0])))
	}
	if len(out) == 0 && len(failed) == 0 {
		notices = append(notices, sources.Notice(fmt.Sprintf("Prometheus query %s returned no series in the time range: deployed version unknown", quote.Value(ref.Query))))
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
	res, err := s.cache.Get(ctx, key, func(ctx context.Context, _ *cache.Entry[Answer]) (cache.Entry[Answer], error) {
		v, err := s.fetch(ctx, &u, ref)
		return cache.Entry[Answer]{Value: v}, err
	})
	// After the answer (or the failure) is stored: older keys go.
	s.remember(ref.Query, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("Prometheus at %s did not answer within the query's time limit", s.base.Host)
		}
		return nil, nil, s.redact(err)
	}
	var notices []sources.Notice
	if res.Notice != "" {
		notices = append(notices, sources.Notice(s.redactText(res.Notice)))
	}
	if n := sources.SummarizeCount(fmt.Sprintf("series of Prometheus query %s left out (no label %q)", quote.Value(ref.Query), ref.Label), res.Value.Unlabeled, res.Value.UnlabeledExamples); n != "" {
		notices = append(notices, sources.Notice(s.redactText(string(n))))
	}
	return res.Value.Samples, notices, nil
}

// remember keeps the cache's key space bounded: the newest keysPerQuery keys
// of each query stay, older ones (and their remembered failures) are
// dropped. Called after the key's answer is stored, so a fetch in flight
// cannot put back a key already dropped.
func (s *Source) remember(query, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.DeleteFunc(s.keys[query], func(k string) bool { return k == key })
	keys = append(keys, key)
	for len(keys) > keysPerQuery {
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

func (s *Source) fetch(ctx context.Context, u *url.URL, ref sources.DeployedRef) (Answer, error) {
	status, body, err := s.read(ctx, u, "the answer to "+quote.Value(ref.Query), "narrow the query")
	if err != nil {
		return Answer{}, err
	}
	return decode(status, body, ref, s.cfg.AuthHint, s.secrets)
}

// read GETs u and returns the status and the body of the answer (what, at
// most maxBodyBytes, else an error ending in narrow), with the login's
// secrets replaced before anything of it is decoded, cut short or quoted: a
// secret cut short would no longer be found. The one way in for every answer,
// the queries' and the health check's. The body is copied only when a secret
// is in it.
func (s *Source) read(ctx context.Context, u *url.URL, what, narrow string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.do(req)
	if err != nil {
		return 0, nil, s.redact(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return 0, nil, s.redact(fmt.Errorf("Prometheus at %s: the answer could not be read: %w", s.base.Host, err))
	}
	if len(body) > maxBodyBytes {
		return 0, nil, fmt.Errorf("Prometheus at %s: %s is larger than %d MiB: %s", s.base.Host, what, maxBodyBytes>>20, narrow)
	}
	for _, secret := range s.secrets {
		if bytes.Contains(body, []byte(secret)) {
			body = bytes.ReplaceAll(body, []byte(secret), []byte(redacted))
		}
	}
	return resp.StatusCode, body, nil
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
		return nil, fmt.Errorf("Prometheus at %s unreachable: %w", s.base.Host, sources.StripURL(err))
	}
	return resp, nil
}

// Answer is what one Prometheus answer says ran: one sample per time at
// which the running versions changed, and how many series lacked the label.
type Answer struct {
	Samples   []sources.DeployedSample
	Unlabeled int
	// UnlabeledExamples are the label sets of the first series without the
	// label (at most sources.MaxExamples), for the notice.
	UnlabeledExamples []string
}

// Decode reads an answer of /api/v1/query or /api/v1/query_range: one
// sample per time, with the version label of every series that has a sample
// then; a sample whose versions equal the previous one's is left out (the
// version at t is that of the newest sample at or before t, so nothing
// changes). authHint says where the Prometheus login is set.
func Decode(status int, body []byte, ref sources.DeployedRef, authHint string) (Answer, error) {
	return decode(status, body, ref, authHint, nil)
}

// decode is Decode with every text of the answer that reaches a message or
// a sample passed through say or quote with the login's secrets: a secret
// the body held escaped (JSON's "\/" or "\u0041") is found once decoded.
func decode(status int, body []byte, ref sources.DeployedRef, authHint string, secrets []string) (Answer, error) {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil || (r.Status != "success" && r.Status != "error") {
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return Answer{}, fmt.Errorf("Prometheus refused the request (HTTP %d): check %s", status, authHint)
		case status != http.StatusOK:
			return Answer{}, fmt.Errorf("Prometheus answered HTTP %d without an API answer: is the Prometheus URL right?", status)
		}
		return Answer{}, errors.New("Prometheus answered with something that is not a Prometheus API answer: is the Prometheus URL right?")
	}
	if r.Status == "error" {
		msg := say(secrets, r.Error, maxQuotedErrors)
		if r.ErrorType == "bad_data" {
			return Answer{}, fmt.Errorf("Prometheus rejected the query %s: %s", quote.Value(ref.Query), msg)
		}
		return Answer{}, fmt.Errorf("Prometheus could not run the query %s (%s): %s", quote.Value(ref.Query), quoteRedacted(secrets, r.ErrorType), msg)
	}
	var d queryData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return Answer{}, errors.New("Prometheus answer: data is not a query result")
	}
	var list []series
	switch d.ResultType {
	case "vector", "matrix":
		if err := json.Unmarshal(d.Result, &list); err != nil {
			return Answer{}, fmt.Errorf("Prometheus answer: the %s result is not a list of series", d.ResultType)
		}
	default:
		return Answer{}, fmt.Errorf("the query %s gives a %s, not series with labels: give an expression that returns series, such as prometheus_build_info", quote.Value(ref.Query), quoteType(secrets, d.ResultType))
	}
	if len(list) > maxSeries {
		return Answer{}, fmt.Errorf("the query %s returns %d series, more than the limit of %d: narrow it with label matchers or max by (%s)", quote.Value(ref.Query), len(list), maxSeries, ref.Label)
	}
	var a Answer
	byTime := map[int64][]string{}
	points := 0
	for _, sr := range list {
		ps := sr.Values
		if d.ResultType == "vector" {
			ps = [][]json.RawMessage{sr.Value}
		}
		if points += len(ps); points > maxPoints {
			return Answer{}, fmt.Errorf("the query %s returns more than %d samples: narrow it with label matchers or max by (%s)", quote.Value(ref.Query), maxPoints, ref.Label)
		}
		version, ok := sr.Metric[ref.Label]
		if !ok || version == "" {
			a.Unlabeled++
			if len(a.UnlabeledExamples) < sources.MaxExamples {
				a.UnlabeledExamples = append(a.UnlabeledExamples, redactText(secrets, labelSet(sr.Metric)))
			}
		}
		version = redactText(secrets, version)
		for _, p := range ps {
			ms, err := sampleTime(secrets, p)
			if err != nil {
				return Answer{}, err
			}
			vs := byTime[ms]
			if ok && version != "" {
				vs = append(vs, version)
			}
			byTime[ms] = vs
		}
	}
	times := slices.Sorted(maps.Keys(byTime))
	var last []string
	for k, ms := range times {
		vs := byTime[ms]
		slices.Sort(vs)
		if k > 0 && slices.Equal(vs, last) {
			continue
		}
		last = vs
		a.Samples = append(a.Samples, sources.DeployedSample{At: time.UnixMilli(ms).UTC(), Versions: vs})
	}
	return a, nil
}

// labelSet writes a series' labels as PromQL does: {a="1", b="2"}, sorted.
func labelSet(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func quoteType(secrets []string, t string) string {
	if t == "" {
		return "no result"
	}
	return quoteRedacted(secrets, t)
}

// sampleTime reads the time of a [time, "value"] pair, in milliseconds.
func sampleTime(secrets []string, p []json.RawMessage) (int64, error) {
	if len(p) != 2 {
		return 0, errors.New("Prometheus answer: a sample is not a [time, value] pair")
	}
	var sec float64
	if err := json.Unmarshal(p[0], &sec); err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1e11 {
		shown := string(p[0])
		_ = json.Unmarshal(p[0], &shown) // a JSON string: its text, unescaped, is what redaction finds
		return 0, fmt.Errorf("Prometheus answer: sample time %s is not a Unix time", quoteRedacted(secrets, shown))
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

// redacted stands where a secret was.
const redacted = "[redacted]"

func (s *Source) redactText(t string) string { return redactText(s.secrets, t) }

func redactText(secrets []string, t string) string {
	for _, secret := range secrets {
		if strings.Contains(t, secret) {
			t = strings.ReplaceAll(t, secret, redacted)
		}
	}
	return t
}

// say puts a text Prometheus sent into a message: the secrets redacted from
// the whole text first (cut first, a secret cut short would no longer be
// found and its start would show), then runs of white space and unprintable
// characters folded into one space, then cut to n characters with "…". The
// query errors and the health check alike.
func say(secrets []string, text string, n int) string {
	text = redactText(secrets, text)
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }), " ")
	if r := []rune(text); len(r) > n {
		return string(r[:n]) + "…"
	}
	return text
}

// quoteRedacted is quote.Value of a text Prometheus sent, redacted first.
func quoteRedacted(secrets []string, text string) string {
	return quote.Value(redactText(secrets, text))
}

// Check asks Prometheus for its build information (GET
// /api/v1/status/buildinfo), for the health check: its version, or why it
// cannot be reached. A server without that endpoint is asked a query
// instead; its version is then "". Everything of the answer goes the
// queries' way (read, then decode or say): redacted, then cut, the version
// to maxVersion characters.
func (s *Source) Check(ctx context.Context) (string, error) {
	u := *s.base
	u.Path += "/api/v1/status/buildinfo"
	status, body, err := s.read(ctx, &u, "the build information", "is the Prometheus URL right?")
	if err != nil {
		return "", err
	}
	if status == http.StatusNotFound {
		// A Prometheus-compatible server (or a proxy) without the build
		// information endpoint: a query that always answers tells enough.
		q := *s.base
		q.Path += "/api/v1/query"
		q.RawQuery = url.Values{"query": {"vector(1)"}}.Encode()
		if _, err := s.fetch(ctx, &q, sources.DeployedRef{Query: "vector(1)"}); err != nil && !strings.Contains(err.Error(), "not series with labels") {
			return "", err
		}
		return "", nil
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		if _, derr := decode(status, body, sources.DeployedRef{}, s.cfg.AuthHint, s.secrets); derr != nil {
			return "", derr
		}
		return "", errors.New("Prometheus answered with something that is not a Prometheus API answer: is the Prometheus URL right?")
	}
	return say(s.secrets, r.Data.Version, maxVersion), nil
}
