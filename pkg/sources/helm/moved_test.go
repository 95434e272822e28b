package helm

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// A repository whose index.yaml redirects to another host (a moved GitHub
// Pages site, a CDN) is read there, as Helm reads it, with the same
// versions; the host is counted. Only the catalog's host is allow-listed.
func TestMovedRepository(t *testing.T) {
	h := fakes.NewHelm(t, fakes.FixturesDir())
	moved := h.Moved(t)
	allow := sources.NewAllowHosts(nil, strings.TrimPrefix(moved, "http://"))
	src := New(Config{HTTPClient: &http.Client{Transport: allow, CheckRedirect: sources.CheckRedirect}})
	got, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: moved + "/otwld__ollama-helm", Name: "ollama"})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := New(Config{HTTPClient: h.Client()}).ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL("otwld__ollama-helm"), Name: "ollama"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d versions through the redirect, %d direct", len(got), len(want))
	}
	if f := allow.Followed()[strings.TrimPrefix(h.URL(), "http://")]; f != 1 || h.RequestsTo("moved /otwld__ollama-helm/index.yaml") != 1 {
		t.Fatalf("followed %v, moved-host requests %d", allow.Followed(), h.RequestsTo("moved /otwld__ollama-helm/index.yaml"))
	}
}
