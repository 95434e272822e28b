package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/engine"
)

// The fake /advisories paginates by cursor like GitHub: a Link rel="next"
// with after=, no page numbers; a bad cursor is a 400; ecosystem and
// affects filter.
func TestFakeAdvisoriesPagination(t *testing.T) {
	g := NewGitHub(t, FixturesDir())
	next := g.URL() + "/advisories?ecosystem=go&affects=github.com/ollama/ollama&per_page=4"
	var ids []string
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		resp, err := http.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		var page []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, a := range page {
			ids = append(ids, a["ghsa_id"].(string))
		}
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			target := strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
			u, _ := url.Parse(target)
			if u.Query().Get("after") == "" || u.Query().Get("page") != "" || !strings.Contains(link, `rel="next"`) {
				t.Errorf("Link %q is not a cursor link", link)
			}
			next = target
		}
	}
	if len(ids) != 16 { // GitHub files all 16 under github.com/ollama/ollama
		t.Errorf("%d advisories: %v", len(ids), ids)
	}
	// The older module path: GitHub's records name none (vulndb named it
	// for GHSA-5jx5-hqx5-2vrj); an advisory added on it is found by it.
	g.AddAdvisory(map[string]any{"ghsa_id": "GHSA-jmor-0000-0000", "severity": "low", "published_at": "2024-01-01T00:00:00Z", "vulnerabilities": []any{
		map[string]any{"package": map[string]any{"ecosystem": "go", "name": "github.com/jmorganca/ollama"}, "vulnerable_version_range": "< 0.1.0", "first_patched_version": "0.1.0"}}})
	for query, want := range map[string]int{"?ecosystem=npm&affects=github.com/ollama/ollama": 0, "?ecosystem=go&affects=github.com/jmorganca/ollama": 1, "?ecosystem=go&affects=github.com/ollama/ollama,github.com/jmorganca/ollama&per_page=100": 17} {
		resp, err := http.Get(g.URL() + "/advisories" + query)
		if err != nil {
			t.Fatal(err)
		}
		var page []any
		_ = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if len(page) != want {
			t.Errorf("%s: %d advisories, want %d", query, len(page), want)
		}
	}
	resp, err := http.Get(g.URL() + "/advisories?after=garbage")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: HTTP %d", resp.StatusCode)
	}
}

func TestFakeEOL(t *testing.T) {
	e := NewEOL(t, FixturesDir())
	resp, err := http.Get(e.URL() + "/api/v1/products/redis")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Result struct {
			Name     string `json:"name"`
			Releases []any  `json:"releases"`
		} `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || body.Result.Name != "redis" || len(body.Result.Releases) != 12 || e.RequestsTo("/api/v1/products/redis") != 1 {
		t.Errorf("redis: %v %+v", err, body.Result.Name)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL()+"/api/v1/products/redis/", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: HTTP %d", resp.StatusCode)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// SeverityOf reads the fixture's ratings and refuses an id it does not
// hold, rather than reading it as "none".
func TestSeverityOf(t *testing.T) {
	if got := SeverityOf(t, "GHSA-8hqg-whrw-pv92"); got != engine.SeverityMedium { // Probllama: moderate
		t.Errorf("Probllama: %s, want medium", got)
	}
	if got := SeverityOf(t, "GHSA-8hqg-whrw-pv92", "GHSA-846m-99qv-67mg"); got != engine.SeverityHigh {
		t.Errorf("Probllama and GHSA-846m: %s, want high", got)
	}
	if got := SeverityOf(t); got != engine.SeverityNone {
		t.Errorf("no advisory: %s, want none", got)
	}
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		SeverityOf(rec, "GHSA-8hqg-whrw-pv92", "GHSA-typo-0000-0000")
	}()
	<-done
	if !strings.Contains(rec.msg, "GHSA-typo-0000-0000") {
		t.Errorf("an id not in the fixture: failure %q, want one naming it", rec.msg)
	}
}
