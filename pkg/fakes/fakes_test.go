package fakes

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestFixturesDir(t *testing.T) {
	t.Parallel()
	dir := FixturesDir()
	if !filepath.IsAbs(dir) {
		t.Fatalf("%s is not absolute", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "ollama__ollama", "tags.tsv")); err != nil {
		t.Fatal(err)
	}
	tags, err := fixtures.ReadTags(filepath.Join(dir, "ollama__ollama", "tags.tsv"))
	if err != nil || len(tags) != 635 {
		t.Fatalf("%d tags, %v", len(tags), err)
	}
}

func TestGitHubReleases(t *testing.T) {
	t.Parallel()
	g := NewGitHub(t, FixturesDir())
	if got := strings.Join(g.Repos(), " "); got != "NVIDIA/gpu-operator chroma-core/chroma ollama/ollama vllm-project/production-stack" {
		t.Fatalf("repos: %s", got)
	}
	c := g.Client()
	var all []map[string]any
	next := g.GHEURL() + "/repos/ollama/ollama/releases?per_page=100"
	var firstETag string
	for next != "" {
		resp, body := get(t, c, next)
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") == "" {
			t.Fatalf("%s: %d %v", next, resp.StatusCode, resp.Header)
		}
		if firstETag == "" {
			firstETag = resp.Header.Get("ETag")
		}
		var page []map[string]any
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		next = ""
		for _, l := range strings.Split(resp.Header.Get("Link"), ",") {
			if strings.Contains(l, `rel="next"`) {
				next = strings.Trim(strings.TrimSpace(strings.Split(l, ";")[0]), "<>")
			}
		}
		if next != "" && !strings.Contains(next, "/api/v3/") {
			t.Fatalf("Link leaves the GHE layout: %s", next)
		}
	}
	if len(all) != 636 || all[0]["draft"] != true || all[0]["published_at"] != nil {
		t.Fatalf("%d releases, first %v", len(all), all[0])
	}
	if g.RequestsTo("/repos/ollama/ollama/releases") != 7 {
		t.Fatalf("counted %d", g.RequestsTo("/repos/ollama/ollama/releases"))
	}
	resp, _ := get(t, c, g.URL()+"/repos/ollama/ollama/releases?per_page=100", "If-None-Match", firstETag)
	if resp.StatusCode != http.StatusNotModified || g.NotModified() != 1 {
		t.Fatalf("conditional: %d", resp.StatusCode)
	}
	g.AddRelease("ollama/ollama", "v9.9.9", time.Now(), false)
	resp, _ = get(t, c, g.URL()+"/repos/ollama/ollama/releases?per_page=100", "If-None-Match", firstETag)
	if resp.StatusCode != 200 {
		t.Fatalf("after AddRelease: %d", resp.StatusCode)
	}
	g.FailRepo("ollama/ollama", 500)
	if resp, _ := get(t, c, g.URL()+"/repos/ollama/ollama/releases"); resp.StatusCode != 500 {
		t.Fatalf("FailRepo: %d", resp.StatusCode)
	}
	g.ResetCounters()
	if g.Requests() != 0 {
		t.Fatal("ResetCounters")
	}
}

func TestGitHubGraphQLAndLimits(t *testing.T) {
	t.Parallel()
	g := NewGitHub(t, FixturesDir())
	clock := NewClock(time.Date(2026, 8, 22, 0, 0, 0, 0, time.UTC))
	g.SetClock(clock.Now)
	post := func(auth bool, vars string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, g.URL()+"/api/graphql", bytes.NewBufferString(`{"query":"query { repository { refs(first: 100) { nodes { name } } } }","variables":`+vars+`}`))
		if auth {
			req.Header.Set("Authorization", "Bearer x")
		}
		resp, err := g.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	if resp, _ := post(false, `{"owner":"ollama","name":"ollama"}`); resp.StatusCode != 401 {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	resp, out := post(true, `{"owner":"chroma-core","name":"chroma"}`)
	refs := out["data"].(map[string]any)["repository"].(map[string]any)["refs"].(map[string]any)
	if resp.StatusCode != 200 || len(refs["nodes"].([]any)) != 100 || refs["pageInfo"].(map[string]any)["hasNextPage"] != true {
		t.Fatalf("page 1: %d %v", resp.StatusCode, refs["pageInfo"])
	}
	if _, out := post(true, `{"owner":"nobody","name":"x"}`); out["errors"] == nil {
		t.Fatalf("unknown repo: %v", out)
	}
	if g.RequestsTo("/graphql") != 3 {
		t.Fatalf("counted %d", g.RequestsTo("/graphql"))
	}

	reset := clock.Now().Add(time.Hour)
	g.SetRateLimited(reset)
	r, _ := get(t, g.Client(), g.URL()+"/repos/chroma-core/chroma/releases")
	if r.StatusCode != 403 || r.Header.Get("X-RateLimit-Remaining") != "0" || r.Header.Get("X-RateLimit-Reset") != strconv.FormatInt(reset.Unix(), 10) {
		t.Fatalf("rate limited: %d %v", r.StatusCode, r.Header)
	}
	if r, body := get(t, g.Client(), g.URL()+"/rate_limit"); r.StatusCode != 200 || !strings.Contains(string(body), `"remaining":0`) {
		t.Fatalf("/rate_limit while limited: %d %s", r.StatusCode, body)
	}
	clock.Set(reset)
	if r, _ := get(t, g.Client(), g.URL()+"/repos/chroma-core/chroma/releases"); r.StatusCode != 200 {
		t.Fatalf("after reset: %d", r.StatusCode)
	}
}

func TestHelm(t *testing.T) {
	t.Parallel()
	h := NewHelm(t, FixturesDir())
	c := h.Client()
	want := "NVIDIA__gpu-operator amikos-tech__chromadb-chart otwld__ollama-helm otwld__ollama-helm@2025-09-17 vllm-project__production-stack vllm-project__production-stack@2026-01-28"
	if got := strings.Join(h.Repos(), " "); got != want {
		t.Fatalf("repos: %s", got)
	}
	snap, err := os.ReadFile(filepath.Join(FixturesDir(), "vllm-project__production-stack", "index-2026-01-28.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		h.RepoURL("vllm-project__production-stack@2026-01-28") + "/index.yaml",
		h.URL() + "/vllm-project__production-stack/index-2026-01-28.yaml",
	} {
		resp, body := get(t, c, u)
		if resp.StatusCode != 200 || !bytes.Equal(body, snap) {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
	}
	u := h.RepoURL("otwld__ollama-helm") + "/index.yaml"
	resp, _ := get(t, c, u)
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if r, _ := get(t, c, u, "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r, _ := get(t, c, u, "If-Modified-Since", lm); r.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", r.StatusCode)
	}
	h.Replace("otwld__ollama-helm", []byte("entries: {}\n"))
	if r, body := get(t, c, u, "If-None-Match", etag); r.StatusCode != 200 || string(body) != "entries: {}\n" {
		t.Fatalf("after Replace: %d", r.StatusCode)
	}
	if r, _ := get(t, c, u, "If-Modified-Since", lm); r.StatusCode != 200 {
		t.Fatalf("after Replace, If-Modified-Since: %d", r.StatusCode)
	}
	h.Fail("otwld__ollama-helm", 503)
	if r, _ := get(t, c, u); r.StatusCode != 503 {
		t.Fatalf("Fail: %d", r.StatusCode)
	}
	if h.RequestsTo("/otwld__ollama-helm/index.yaml") != 6 || h.NotModified() != 2 || h.Requests() != 8 {
		t.Fatalf("counters: %d %d %d", h.RequestsTo("/otwld__ollama-helm/index.yaml"), h.NotModified(), h.Requests())
	}
}

func TestStackAndBurst(t *testing.T) {
	t.Parallel()
	s := NewStack(t)
	if strings.Contains(s.Catalog, "HELM_URL") || !strings.Contains(s.Catalog, s.Helm.RepoURL("otwld__ollama-helm")) {
		t.Fatalf("catalog not pointed at the fake Helm server:\n%s", s.Catalog)
	}
	c := s.Helm.Client()
	u := s.Helm.RepoURL("otwld__ollama-helm") + "/index.yaml"
	call := func() error {
		resp, err := c.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	if err := s.Helm.Hold().Burst(4, call); err != nil {
		t.Fatal(err)
	}
	if got := s.Helm.Requests(); got != 4 {
		t.Fatalf("%d requests after a burst of 4", got)
	}
	s.Helm.Fail("otwld__ollama-helm", http.StatusServiceUnavailable)
	if err := s.Helm.Hold().Burst(3, call); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("burst against a failing repository: %v", err)
	}
	if got := s.Helm.RequestsTo("/otwld__ollama-helm/index.yaml"); got != 7 {
		t.Fatalf("%d requests to the index, want 7", got)
	}
	s.Helm.ResetCounters()
	if s.Helm.Requests() != 0 || s.Helm.RequestsTo("/otwld__ollama-helm/index.yaml") != 0 || s.GitHub.Requests() != 0 {
		t.Fatal("counters not reset")
	}
}

func TestGoTypeIn(t *testing.T) {
	for msg, want := range map[string]string{
		"json: cannot unmarshal string into Go struct field Settings.indexLimitMb of type int": "unmarshal",
		`yaml: unmarshal errors: line 2: cannot unmarshal !!seq into helm.entry`:               "unmarshal",
		"GET x: *url.Error":                               "*url.Error",
		"expected map[string][]entry":                     "map[",
		`chart "a.B" not found in https://x/index.yaml`:   "",
		"line 3: key \"a\" is repeated (first at line 1)": "",
	} {
		if got := GoTypeIn(msg); got != want {
			t.Errorf("%q: %q, want %q", msg, got, want)
		}
	}
}
