package check_test

import (
	"context"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// BenchmarkCheckDefaultCatalog checks the default catalog on the fixtures
// from cold sources each time (what lagwatch check costs): requests/op are
// the HTTP requests to the fake GitHub, Helm and OCI servers (services
// without fixture data fail at their first request).
func BenchmarkCheckDefaultCatalog(b *testing.B) {
	st := fakes.NewStack(b)
	cat := provisioningOnFixtures(b, st)
	at := mustTime(b, "2025-09-30T00:00:00Z")
	st.GitHub.ResetCounters()
	st.Helm.ResetCounters()
	st.OCI.ResetCounters()
	b.ReportAllocs()
	for b.Loop() {
		src, err := collector.NewSources(collector.SourcesConfig{GitHubURL: st.GitHub.URL(), GitHubToken: "test", Catalog: cat, OCIBudget: 600})
		if err != nil {
			b.Fatal(err)
		}
		rep := check.Runner{Upstreams: src.GitHub, Charts: src.Charts()}.Run(context.Background(), cat.Services, at)
		if rep.Problems != 0 {
			b.Fatalf("%d problems", rep.Problems)
		}
		src.Close()
	}
	b.ReportMetric(float64(st.GitHub.Requests())/float64(b.N), "github-requests/op")
	b.ReportMetric(float64(st.Helm.Requests())/float64(b.N), "helm-requests/op")
	b.ReportMetric(float64(st.OCI.Requests())/float64(b.N), "oci-requests/op")
}

// BenchmarkCheckOllama is the pure check of one service with the largest
// fixture history (635 tags, 164 chart versions) and the worst entry
// (versionFrom: version): every candidate pattern and field is tried.
func BenchmarkCheckOllama(b *testing.B) {
	st := fakes.NewStack(b)
	cat := parse(b, mistakesCatalog(st))
	r := runner(b, st, cat)
	svc := cat.Services[0]
	d, err := r.Fetch(context.Background(), svc)
	if err != nil {
		b.Fatal(err)
	}
	at := mustTime(b, "2026-08-22T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		if res := check.Check(svc, d, at); len(res.Fixes) != 1 {
			b.Fatalf("%+v", res.Fixes)
		}
	}
}
