package helm

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// syntheticIndex builds a TrueCharts-like index: charts × versions entries
// with the fields Helm writes (annotations, dependencies, maintainers, ...),
// in Helm's layout (list items at the chart key's indentation).
func syntheticIndex(charts, versions int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nentries:\n")
	for c := range charts {
		name := fmt.Sprintf("chart-%04d", c)
		fmt.Fprintf(&b, "  %s:\n", name)
		for v := versions; v > 0; v-- {
			ver := fmt.Sprintf("%d.%d.%d", v/10, v%10, c%7)
			fmt.Fprintf(&b, `  - annotations:
      artifacthub.io/category: integration-delivery
      artifacthub.io/changes: |
        - kind: changed
          description: upgrade %[1]s to %[2]s
      truecharts.org/min_helm_version: "3.11"
      truecharts.org/train: stable
    apiVersion: v2
    appVersion: %[3]d.%[4]d
    created: "2024-%02[5]d-%02[6]dT10:%02[7]d:44.%[8]dZ"
    dependencies:
    - name: common
      repository: oci://tccr.io/truecharts
      version: 25.1.%[4]d
    description: %[1]s is a synthetic chart used to measure index parsing; %[9]s
    digest: %064[10]x
    home: https://truecharts.org/charts/stable/%[1]s
    icon: https://truecharts.org/img/hotlink-ok/chart-icons/%[1]s.webp
    keywords:
    - %[1]s
    - benchmark
    kubeVersion: '>=1.24.0-0'
    maintainers:
    - email: info@truecharts.org
      name: TrueCharts
      url: https://truecharts.org
    name: %[1]s
    sources:
    - https://github.com/truecharts/charts/tree/master/charts/stable/%[1]s
    type: application
    urls:
    - https://github.com/truecharts/chart-releases/releases/download/%[1]s-%[2]s/%[1]s-%[2]s.tgz
    version: %[2]s
`, name, ver, v%5, v, v%12+1, v%28+1, v%60, v*1234567%1000000000, strings.Repeat("lorem ipsum ", 4), c*versions+v)
		}
	}
	b.WriteString("generated: \"2026-08-22T00:00:00Z\"\n")
	return b.Bytes()
}

var (
	bigIndexOnce sync.Once
	bigIndex     []byte
)

// bigIndexData is a ~50 MB synthetic index, built once per process and only
// when a benchmark asks for it.
func bigIndexData(b *testing.B) []byte {
	bigIndexOnce.Do(func() { bigIndex = syntheticIndex(1500, 28) })
	return bigIndex
}

// benchDecode runs decode over data, keeping the chart named want (28 versions).
func benchDecode(b *testing.B, data []byte, want string, decode func(io.Reader, []string) (Charts, error)) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := decode(bytes.NewReader(data), []string{want})
		if err != nil || len(got[want]) != 28 {
			b.Fatalf("got %d versions, %v", len(got[want]), err)
		}
	}
}

// BenchmarkIndexParse streams the index and keeps one chart out of 1500.
func BenchmarkIndexParse(b *testing.B) {
	benchDecode(b, bigIndexData(b), "chart-0750", ParseIndex)
}

// BenchmarkIndexDecodeFull decodes a whole index at once, for comparison:
// the fallback path for documents not in the block layout, which accepts at
// most MaxFullDecode (8 MB), so it runs on 100 of the 1500 charts (≈ 3.5 MB).
func BenchmarkIndexDecodeFull(b *testing.B) {
	benchDecode(b, syntheticIndex(100, 28), "chart-0050", DecodeIndex)
}

// BenchmarkIndexParseSmall streams the same 100-chart index, to set beside
// the full decode.
func BenchmarkIndexParseSmall(b *testing.B) {
	benchDecode(b, syntheticIndex(100, 28), "chart-0050", ParseIndex)
}
