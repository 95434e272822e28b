package eol

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

var t0 = time.Date(2026, 8, 22, 12, 0, 0, 0, time.UTC)

func newSource(t *testing.T, base string, client *http.Client, clock *fakes.Clock) *Source {
	t.Helper()
	s, err := New(Config{BaseURL: base, HTTPClient: client, Now: clock.Now, URLHint: "jsonData.eolUrl in the datasource settings"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Redis from the fake endoflife.date (built from products/redis.md): every
// cycle with its date; cached for hours, then revalidated with a 304.
func TestCyclesFromFake(t *testing.T) {
	fake := fakes.NewEOL(t, fakes.FixturesDir())
	clock := fakes.NewClock(t0)
	s := newSource(t, fake.URL(), nil, clock)
	cycles, notices, err := s.Cycles(context.Background(), "redis")
	if err != nil || len(notices) > 0 {
		t.Fatal(err, notices)
	}
	got := map[string]sources.EOLCycle{}
	for _, c := range cycles {
		got[c.Name] = c
	}
	if len(cycles) != 12 || !got["7.2"].EOL.Equal(time.Date(2029, 12, 1, 0, 0, 0, 0, time.UTC)) || !got["6.0"].IsEOL ||
		!got["8.10"].EOL.IsZero() || got["8.10"].IsEOL {
		t.Errorf("redis cycles: %+v", cycles)
	}
	fake.ResetCounters()
	if _, _, err := s.Cycles(context.Background(), "redis"); err != nil || fake.Requests() != 0 {
		t.Errorf("cached: %v, %d requests", err, fake.Requests())
	}
	clock.Advance(DefaultCacheTTL + time.Minute)
	if _, _, err := s.Cycles(context.Background(), "redis"); err != nil || fake.NotModified() != 1 {
		t.Errorf("revalidation: %v, %d answered 304", err, fake.NotModified())
	}
	// The path without the slash is redirected; this source asks the one with it.
	resp, err := http.Get(fake.URL() + "/api/v1/products/redis")
	if err != nil || resp.Request.URL.Path != "/api/v1/products/redis/" {
		t.Errorf("redirect: %v", err)
	} else {
		resp.Body.Close()
	}
}

func TestCyclesErrors(t *testing.T) {
	fake := fakes.NewEOL(t, fakes.FixturesDir())
	clock := fakes.NewClock(t0)
	s := newSource(t, fake.URL(), nil, clock)
	if _, _, err := s.Cycles(context.Background(), "ollama"); err == nil || !strings.Contains(err.Error(), `endoflife.date product "ollama": not found`) {
		t.Errorf("unknown product: %v", err)
	}
	if _, _, err := s.Cycles(context.Background(), "../secrets"); err == nil || !strings.Contains(err.Error(), "is not a product name") {
		t.Errorf("bad product: %v", err)
	}
	if _, err := New(Config{BaseURL: "ftp://x", URLHint: "--eol-url"}); err == nil || !strings.HasPrefix(err.Error(), `--eol-url: "ftp://x" is not an http(s) URL`) {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := New(Config{BaseURL: "https://u:p@endoflife.date"}); err == nil {
		t.Error("a URL with credentials was accepted")
	}
	for name, tc := range map[string]struct{ body, want string }{
		"too large": {`{"result":{"releases":[` + strings.Repeat(" ", MaxBytes) + `]}}`, "larger than 4 MB"},
		"not json":  {`<html>maintenance</html>`, "not an endoflife.date API v1 product"},
		"bad date":  {`{"result":{"name":"p","releases":[{"name":"7.2","isEol":false,"eolFrom":"2029-13-01"},{"name":"7.0","isEol":true,"eolFrom":"2024-07-29"}]}}`, `cycle "7.2": eolFrom "2029-13-01" is not a date (YYYY-MM-DD)`},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) }))
		defer srv.Close()
		cycles, notices, err := newSource(t, srv.URL, srv.Client(), clock).Cycles(context.Background(), "p")
		if text := fmt.Sprint(err, notices); !strings.Contains(text, tc.want) {
			t.Errorf("%s: %s", name, text)
		}
		if name == "bad date" && (len(cycles) != 2 || !cycles[0].EOL.IsZero() || cycles[1].EOL.IsZero()) {
			t.Errorf("a bad date must cost its cycle's date only: %+v", cycles)
		}
	}
}
