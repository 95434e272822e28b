package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// The built plugin over gRPC reads charts that registries and repositories
// serve through redirects (issue 16, item 1): the OCI chart's config blobs
// come from the fake registry's CDN without its token, the Helm indexes
// from the host their repository moved to, and the numbers equal the
// direct ones. A registry whose token realm is the cloud metadata address
// (item 2) gets no request sent there, and its chart fails with the
// refusal while the others answer.
func TestRedirectsAndRealmsOverGRPC(t *testing.T) {
	s := newServers(t)
	pc := start(t)
	from, to := ts("2025-09-01T00:00:00Z"), ts("2025-09-30T00:00:00Z")
	model := `{"metrics":["lag","versions_behind","chart_age"]}`

	direct := pc.query(t, s.pluginContext("test-token"), "lag", model, from, to)
	if direct.Error != nil {
		t.Fatal(direct.Error)
	}
	if n := s.OCI.RequestsTo("GET cdn blob"); n == 0 || s.OCI.CDNAuthorizations() != 0 {
		t.Fatalf("CDN blob requests %d (with Authorization %d), want some and none", n, s.OCI.CDNAuthorizations())
	}
	for _, m := range []string{"lag", "versions_behind", "chart_age"} {
		if !sameValues(direct.Frames, "ollama", "ollama-oci", m) {
			t.Errorf("%s of the OCI chart read through the CDN differs from HTTP", m)
		}
	}

	// Every Helm repository moved: the catalog names a host that answers 301.
	moved := s.Helm.Moved(t)
	catalog := strings.ReplaceAll(s.Catalog, s.Helm.URL(), moved)
	// The registry of the OCI chart names the metadata service as its realm.
	var mu sync.Mutex
	var hostilePaths []string
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hostilePaths = append(hostilePaths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://169.254.169.254/latest/meta-data/iam/security-credentials/ROLE",service="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer hostile.Close()
	catalog = strings.ReplaceAll(catalog, s.OCI.Host(), strings.TrimPrefix(hostile.URL, "http://"))
	pctx := instance(2, s.GitHub.URL(), catalog, "test-token", s.Prometheus.URL())
	dr := pc.query(t, pctx, "lag", model, from, to)
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if s.Helm.RequestsTo("moved /otwld__ollama-helm/index.yaml") == 0 {
		t.Fatal("the moved repository was not asked")
	}
	for _, m := range []string{"lag", "versions_behind", "chart_age"} {
		for _, svc := range []string{"ollama", "chromadb", "gpu-operator"} {
			if !sameFrames(direct.Frames, dr.Frames, svc, m) {
				t.Errorf("%s %s read from the moved repository differs", svc, m)
			}
		}
	}
	var refused bool
	for _, f := range dr.Frames {
		if f.Fields[1].Labels["service"] == "ollama-oci" && f.Meta != nil {
			for _, n := range f.Meta.Notices {
				if n.Severity == data.NoticeSeverityError && strings.Contains(n.Text, "names a token service on \"169.254.169.254\", which is neither its host nor on its domain") {
					refused = true
				}
			}
		}
	}
	if !refused {
		for _, f := range dr.Frames {
			if f.Meta != nil {
				t.Logf("%s: %+v", f.Fields[1].Labels["service"], f.Meta.Notices)
			}
		}
		t.Error("ollama-oci: no error notice naming the refused realm")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range hostilePaths {
		if !strings.HasPrefix(p, "/v2/") {
			t.Errorf("the hostile registry received %s", p)
		}
	}
}

// sameFrames compares one service's metric across two answers.
func sameFrames(a, b data.Frames, svc, metric string) bool {
	find := func(fs data.Frames) *data.Frame {
		for _, f := range fs {
			if f.Fields[1].Labels["service"] == svc && f.Fields[1].Labels["metric"] == metric {
				return f
			}
		}
		return nil
	}
	fa, fb := find(a), find(b)
	if fa == nil || fb == nil || fa.Fields[0].Len() != fb.Fields[0].Len() {
		return false
	}
	for i := 0; i < fa.Fields[0].Len(); i++ {
		x, okX := fa.Fields[1].ConcreteAt(i)
		y, okY := fb.Fields[1].ConcreteAt(i)
		if fa.Fields[0].At(i) != fb.Fields[0].At(i) || okX != okY || x != y {
			return false
		}
	}
	return true
}
