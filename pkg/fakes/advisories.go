package fakes

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/engine"
)

// AdvisoriesFixture is where the fake GitHub finds its global advisories,
// below the fixtures directory (GitHub's REST shape, built from golang/vulndb).
const AdvisoriesFixture = "golang__vulndb/advisories.json"

// loadAdvisories reads the advisories fixture of dir, if there is one.
func loadAdvisories(t testing.TB, dir string) []map[string]any {
	body, err := os.ReadFile(filepath.Join(dir, AdvisoriesFixture))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("fakes: %v", err)
	}
	var out []map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("fakes: %s: %v", AdvisoriesFixture, err)
	}
	return out
}

// AddAdvisory adds a global advisory (a JSON object in GitHub's REST shape)
// to those served at /advisories, first in the list, as the newest.
func (g *GitHub) AddAdvisory(advisory map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.advisories = append([]map[string]any{advisory}, g.advisories...)
}

// serveAdvisories answers GET /advisories like GitHub's global advisory
// database: filtered by ecosystem and affects (package names, comma
// separated; "name@version" is read as the name), withdrawn advisories
// included (withdrawn_at set), per_page 30 by default and at most 100,
// cursor pagination through after= and a Link header, an ETag and 304 on
// If-None-Match. Called with g.mu held.
func (g *GitHub) serveAdvisories(w http.ResponseWriter, r *http.Request, limit int) {
	q := r.URL.Query()
	eco := strings.ToLower(q.Get("ecosystem"))
	affects := map[string]bool{}
	for _, a := range strings.Split(q.Get("affects"), ",") {
		if name, _, _ := strings.Cut(strings.TrimSpace(a), "@"); name != "" {
			affects[name] = true
		}
	}
	var matched []map[string]any
	for _, a := range g.advisories {
		vulns, _ := a["vulnerabilities"].([]any)
		for _, v := range vulns {
			pkg, _ := v.(map[string]any)["package"].(map[string]any)
			name, _ := pkg["name"].(string)
			e, _ := pkg["ecosystem"].(string)
			if (eco == "" || strings.EqualFold(e, eco)) && (len(affects) == 0 || affects[name]) {
				matched = append(matched, a)
				break
			}
		}
	}
	perPage := min(max(atoiDefault(q.Get("per_page"), 30), 1), 100)
	start := 0
	if after := q.Get("after"); after != "" {
		raw, err := base64.StdEncoding.DecodeString(after)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "cursor:v2:"))
		if err != nil || err2 != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid cursor"})
			return
		}
		start = min(n, len(matched))
	}
	end := min(start+perPage, len(matched))
	page := matched[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	body, _ := json.Marshal(page)
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if end < len(matched) {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		nq := u.Query()
		nq.Set("after", base64.StdEncoding.EncodeToString([]byte("cursor:v2:"+strconv.Itoa(end))))
		nq.Del("before")
		u.RawQuery = nq.Encode()
		h.Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
	}
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		g.countNotModified()
		g.used["core"]--
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-g.used["core"])))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// AdvisoriesNaming counts the advisories of the fixture that name pkg and
// are not withdrawn: what GitHub's database answers for affects=pkg.
func AdvisoriesNaming(t testing.TB, pkg string) int {
	t.Helper()
	n := 0
	for _, a := range loadAdvisories(t, FixturesDir()) {
		if a["withdrawn_at"] != nil {
			continue
		}
		vulns, _ := a["vulnerabilities"].([]any)
		for _, v := range vulns {
			p, _ := v.(map[string]any)["package"].(map[string]any)
			if name, _ := p["name"].(string); name == pkg {
				n++
				break
			}
		}
	}
	return n
}

// SeverityOf is the highest severity of the advisories ids in the fixture,
// as the engine reads GitHub's words: what security_severity is when
// exactly those count. An id the fixture does not hold fails the test (a
// typo must not read as "none").
func SeverityOf(t testing.TB, ids ...string) engine.Severity {
	t.Helper()
	sev := engine.SeverityNone
	found := map[string]bool{}
	for _, a := range loadAdvisories(t, FixturesDir()) {
		if id, _ := a["ghsa_id"].(string); slices.Contains(ids, id) {
			found[id] = true
			word, _ := a["severity"].(string)
			s, ok := engine.ParseSeverity(word)
			if !ok {
				t.Fatalf("fakes: advisory %s: severity %q", id, word)
			}
			sev = max(sev, s)
		}
	}
	for _, id := range ids {
		if !found[id] {
			t.Fatalf("fakes: no advisory %s in %s", id, AdvisoriesFixture)
		}
	}
	return sev
}
