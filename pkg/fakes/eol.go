package fakes

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EOLFixtures is where the fake endoflife.date finds its products, below the
// fixtures directory: products/<name>.json, API v1 ProductResponse answers
// built from endoflife-date/endoflife.date.
const EOLFixtures = "endoflife-date__endoflife.date/products"

// EOL is a fake endoflife.date API v1. It serves GET
// /api/v1/products/<name>/ from the fixtures with an ETag and a
// Last-Modified (its last_modified), answers 304 to If-None-Match, redirects
// the path without the trailing slash to the one with it (301, as the static
// host does), and answers 404 for unknown products.
type EOL struct {
	srv *httptest.Server
	counters

	mu       sync.Mutex
	products map[string][]byte
}

// NewEOL starts a fake endoflife.date serving every product of fixturesDir.
// The server is closed when the test ends.
func NewEOL(t testing.TB, fixturesDir string) *EOL {
	t.Helper()
	e := &EOL{products: map[string][]byte{}}
	dir := filepath.Join(fixturesDir, EOLFixtures)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("fakes.NewEOL: %v", err)
	}
	for _, f := range files {
		if name, ok := strings.CutSuffix(f.Name(), ".json"); ok {
			body, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatalf("fakes.NewEOL: %v", err)
			}
			e.products[name] = body
		}
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

// URL is the base URL (what jsonData.eolUrl holds).
func (e *EOL) URL() string { return e.srv.URL }

// SetProduct replaces (or adds) the answer for a product; nil removes it.
func (e *EOL) SetProduct(name string, body []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if body == nil {
		delete(e.products, name)
		return
	}
	e.products[name] = body
}

func (e *EOL) serve(w http.ResponseWriter, r *http.Request) {
	e.count(r.URL.Path)
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/products/")
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	name, slash := strings.CutSuffix(rest, "/")
	if !slash {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
		return
	}
	e.mu.Lock()
	body, ok := e.products[name]
	e.mu.Unlock()
	if !ok || strings.Contains(name, "/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Product not found"}`))
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", time.Date(2026, 8, 22, 8, 52, 34, 0, time.UTC).Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "max-age=600")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		e.countNotModified()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}
