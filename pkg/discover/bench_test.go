package discover_test

import (
	"context"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// BenchmarkDiscoverDefaultCatalog discovers every chart of the default
// catalog that the fixtures serve (four HTTP charts and Redis over OCI),
// from cold sources each time, with the security inputs looked up on the
// fake endoflife.date: requests/op are what lagwatch discover costs.
func BenchmarkDiscoverDefaultCatalog(b *testing.B) {
	st := fakes.NewStack(b)
	cat := defaultCatalog(b)
	var in discover.Input
	for _, name := range []string{"ollama", "chromadb", "vllm-stack", "gpu-operator"} {
		s := cat.Filter([]string{name}, "")[0]
		in.Repos = append(in.Repos, discover.RepoInput{URL: s.Chart.Repository, Charts: []string{s.Chart.Name}})
	}
	in.OCI = []string{"oci://registry-1.docker.io/bitnamicharts/redis"}
	e := fakes.NewEOL(b, fakes.FixturesDir())
	newDiscoverer(b, st) // puts the Redis chart
	st.GitHub.ResetCounters()
	st.Helm.ResetCounters()
	st.OCI.ResetCounters()
	e.ResetCounters()
	var gh, eol int
	b.ReportAllocs()
	for b.Loop() {
		res := newDiscovererEOL(b, st, e.URL()).Run(context.Background(), in)
		if len(res.Proposals) != 5 {
			b.Fatalf("%d proposals", len(res.Proposals))
		}
		gh += res.Requests.GitHub
		eol += res.Requests.EOL
	}
	if eol != e.Requests() {
		b.Errorf("the discovery counted %d endoflife.date requests, the fake served %d", eol, e.Requests())
	}
	if gh != st.GitHub.Requests() {
		b.Errorf("the discovery counted %d GitHub requests, the fake served %d", gh, st.GitHub.Requests())
	}
	b.ReportMetric(float64(st.GitHub.Requests())/float64(b.N), "github-requests/op")
	b.ReportMetric(float64(st.Helm.Requests())/float64(b.N), "helm-requests/op")
	b.ReportMetric(float64(st.OCI.Requests())/float64(b.N), "oci-requests/op")
	b.ReportMetric(float64(e.Requests())/float64(b.N), "eol-requests/op")
}
