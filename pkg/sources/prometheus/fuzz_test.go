package prometheus

import (
	"slices"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// FuzzDecode: any answer decodes to samples in time order, or to an error
// that names no Go type. Seeds: the vector, matrix and error answers of the
// Prometheus HTTP API (as the fake writes them) and testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"version":"3.5.0","job":"prometheus"},"value":[1759190400,"1"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"version":"v25.3.1"},"values":[[1756684800,"1"],[1756685400.5,"1"]]},{"metric":{"version":"v25.3.3"},"values":[[1757635200,"1"]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:20: parse error: unclosed left parenthesis"}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1759190400,"1"]}}`,
		`{"status":"success","warnings":["PromQL info: metric might not be a counter"],"data":{"resultType":"vector","result":[]}}`,
	} {
		f.Add(200, []byte(seed))
	}
	f.Add(502, []byte("<html>Bad Gateway</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		a, err := Decode(status, body, sources.DeployedRef{Query: "q", Label: "version"}, "the login")
		samples := a.Samples
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		for i := 1; i < len(samples); i++ {
			if !samples[i-1].At.Before(samples[i].At) {
				t.Fatalf("samples not in strict time order at %d: %v", i, samples)
			}
			if slices.Equal(samples[i-1].Versions, samples[i].Versions) {
				t.Fatalf("samples %d and %d say the same: %v", i-1, i, samples)
			}
		}
	})
}
