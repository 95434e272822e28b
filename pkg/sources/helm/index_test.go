package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"go.yaml.in/yaml/v3"
)

// fixtureIndexes returns every index*.yaml of the fixtures by relative path.
func fixtureIndexes(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fakes.FixturesDir(), "*", "index*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixture indexes: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)] = b
	}
	return out
}

// variants re-encodes an index in other layouts than Helm's: every fixture
// chart merged into one document, with 2- and 4-space indentation (yaml.v3
// indents list items below their key, unlike Helm), CRLF line ends, quoted
// keys, and as JSON.
func variants(t *testing.T, docs map[string][]byte) map[string][]byte {
	t.Helper()
	merged := &yaml.Node{Kind: yaml.MappingNode}
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, k := range keys {
		var doc yaml.Node
		if err := yaml.Unmarshal(docs[k], &doc); err != nil {
			t.Fatal(err)
		}
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != "entries" {
				continue
			}
			ents := root.Content[i+1]
			for j := 0; j+1 < len(ents.Content); j += 2 {
				if name := ents.Content[j].Value; !seen[name] {
					seen[name] = true
					merged.Content = append(merged.Content, ents.Content[j], ents.Content[j+1])
				}
			}
		}
	}
	top := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "apiVersion"}, {Kind: yaml.ScalarNode, Value: "v1"},
		{Kind: yaml.ScalarNode, Value: "entries"}, merged,
		{Kind: yaml.ScalarNode, Value: "generated"}, {Kind: yaml.ScalarNode, Value: "2026-08-22T00:00:00Z"},
	}}
	enc := func(indent int) []byte {
		var b bytes.Buffer
		e := yaml.NewEncoder(&b)
		e.SetIndent(indent)
		if err := e.Encode(top); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	out := map[string][]byte{
		"merged-indent2": enc(2),
		"merged-indent4": enc(4),
		"merged-crlf":    bytes.ReplaceAll(enc(2), []byte("\n"), []byte("\r\n")),
		"merged-comments": bytes.ReplaceAll(enc(2), []byte("\n    - apiVersion"),
			[]byte("\n# a comment at column 0\n\n      # an indented comment\n    - apiVersion")),
	}
	quoted := enc(2)
	for name := range seen {
		quoted = bytes.ReplaceAll(quoted, []byte("\n  "+name+":\n"), []byte("\n  \""+name+"\":\n"))
	}
	out["merged-quoted"] = quoted
	var generic any
	if err := yaml.Unmarshal(enc(2), &generic); err != nil {
		t.Fatal(err)
	}
	j, err := json.MarshalIndent(generic, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out["merged-json"] = j
	out["synthetic"] = syntheticIndex(6, 10)
	return out
}

// TestStreamEqualsFull is the property check: for every fixture index and
// layout variant, and every chart in it, the streamed subset equals the full decode.
func TestStreamEqualsFull(t *testing.T) {
	t.Parallel()
	docs := fixtureIndexes(t)
	for k, v := range variants(t, docs) {
		docs[k] = v
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full, err := DecodeIndex(bytes.NewReader(doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(full) == 0 {
				t.Fatal("no charts in full decode")
			}
			var all []string
			for chart, want := range full {
				all = append(all, chart)
				got, err := ParseIndex(bytes.NewReader(doc), []string{chart})
				if err != nil {
					t.Fatalf("chart %s: %v", chart, err)
				}
				if len(got) != 1 || !reflect.DeepEqual(got[chart], want) {
					t.Fatalf("chart %s: streamed %d versions, full decode %d; first streamed %+v, first full %+v",
						chart, len(got[chart]), len(want), first(got[chart]), first(want))
				}
			}
			got, err := ParseIndex(bytes.NewReader(doc), append(all, "not-there"))
			if err != nil || !reflect.DeepEqual(got, full) {
				t.Fatalf("all charts at once differ (err %v)", err)
			}
		})
	}
}

func first(v []sources.ChartVersion) any {
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

func TestFixtureFacts(t *testing.T) {
	t.Parallel()
	docs := fixtureIndexes(t)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		file, chart string
		count       int
		version     string
		want        sources.ChartVersion
	}{
		{"otwld__ollama-helm/index.yaml", "ollama", 164, "1.77.0", sources.ChartVersion{Version: "1.77.0", AppVersion: "0.32.15", Created: at("2026-08-21T23:33:42.818290675Z"),
			Home: "https://ollama.ai/", Sources: "https://github.com/ollama/ollama\nhttps://github.com/otwld/ollama-helm"}},
		{"otwld__ollama-helm/index-2025-09-17.yaml", "ollama", 115, "1.29.0", sources.ChartVersion{Version: "1.29.0", AppVersion: "0.11.11", Created: at("2025-09-17T13:48:49.896782422Z"),
			Home: "https://ollama.ai/", Sources: "https://github.com/ollama/ollama\nhttps://github.com/otwld/ollama-helm"}},
		{"NVIDIA__gpu-operator/index.yaml", "gpu-operator", 59, "v26.7.0", sources.ChartVersion{Version: "v26.7.0", AppVersion: "v26.7.0", Created: at("2026-08-21T20:53:00Z"),
			Home: "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/overview.html", Sources: "https://github.com/NVIDIA/gpu-operator"}},
		{"amikos-tech__chromadb-chart/index.yaml", "chromadb", 23, "0.2.2", sources.ChartVersion{Version: "0.2.2", AppVersion: "1.5.3", Created: at("2026-03-08T17:00:51.267922727Z"),
			Home: "https://github.com/amikos-tech/chromadb-chart", Sources: "https://github.com/amikos-tech/chromadb-chart"}},
		{"vllm-project__production-stack/index.yaml", "vllm-stack", 23, "0.1.12", sources.ChartVersion{Version: "0.1.12", Created: at("2026-07-24T20:08:01.521174733Z")}},
		{"vllm-project__production-stack/index-2026-01-28.yaml", "vllm-stack", 20, "0.1.9", sources.ChartVersion{Version: "0.1.9", Created: at("2026-01-28T23:42:25.775976235Z")}},
	} {
		got, err := ParseIndex(bytes.NewReader(docs[tc.file]), []string{tc.chart})
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		vs := got[tc.chart]
		if len(vs) != tc.count {
			t.Errorf("%s: %d versions, want %d", tc.file, len(vs), tc.count)
		}
		found := false
		for _, v := range vs {
			if v.Version == tc.version {
				found = true
				if raw, err := time.Parse(time.RFC3339Nano, v.CreatedRaw); err != nil || !raw.Equal(v.Created) {
					t.Errorf("%s %s: created %q kept as written does not give %s", tc.file, tc.version, v.CreatedRaw, v.Created)
				}
				v.CreatedRaw = "" // checked above; the table holds parsed times
				if v != tc.want {
					t.Errorf("%s %s: %+v, want %+v", tc.file, tc.version, v, tc.want)
				}
			}
			if v.Created.IsZero() {
				t.Errorf("%s %s: no created", tc.file, v.Version)
			}
		}
		if !found {
			t.Errorf("%s: version %s missing", tc.file, tc.version)
		}
	}
}

func TestEntryScalars(t *testing.T) {
	t.Parallel()
	doc := `apiVersion: v1
entries:
  demo:
  - version: 1.10
    appVersion: 0.11.11
    created: "2020-10-28T14:19:09-07:00"
  - version: "2.0"
    appVersion: 1.10
    created: 2024-01-02T03:04:05Z
    deprecated: true
  - version: 010
    appVersion: ~
    created: "2025-02-17T09:30:00.1234+08:00"
  - version: 3.0.0
    appVersion: v3
    created: "2025-02-17 09:30:00"
  - version: 4.0.0
    created: "2025-09-17T13:48:49Z"
  - version: 5.0.0
    appVersion: "1.2"
    created: "2025-09-17T13:48:49.1Z"
    deprecated: false
generated: "2026-01-01T00:00:00Z"
`
	want := []sources.ChartVersion{
		{Version: "1.10", AppVersion: "0.11.11", Created: time.Date(2020, 10, 28, 21, 19, 9, 0, time.UTC)},
		{Version: "2.0", AppVersion: "1.10", Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Deprecated: true},
		{Version: "010", Created: time.Date(2025, 2, 17, 1, 30, 0, 123400000, time.UTC)},
		{Version: "3.0.0", AppVersion: "v3"}, // unparsable created: zero
		{Version: "4.0.0", Created: time.Date(2025, 9, 17, 13, 48, 49, 0, time.UTC)},
		{Version: "5.0.0", AppVersion: "1.2", Created: time.Date(2025, 9, 17, 13, 48, 49, 100000000, time.UTC)},
	}
	for name, parse := range map[string]func() (Charts, error){
		"stream": func() (Charts, error) { return ParseIndex(strings.NewReader(doc), []string{"demo"}) },
		"full":   func() (Charts, error) { return DecodeIndex(strings.NewReader(doc), []string{"demo"}) },
	} {
		got, err := parse()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range got["demo"] {
			got["demo"][i].CreatedRaw = "" // raw text is checked in TestFixtureFacts
		}
		if !reflect.DeepEqual(got["demo"], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got["demo"], want)
		}
	}
}

func TestLayouts(t *testing.T) {
	t.Parallel()
	want := Charts{"a": {{Version: "1.0.0", AppVersion: "2.0"}}}
	for name, doc := range map[string]string{
		"helm":           "apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    appVersion: \"2.0\"\n  b:\n  - version: 9.9.9\ngenerated: x\n",
		"bom and ---":    "\xef\xbb\xbf---\napiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    appVersion: \"2.0\"\n",
		"indent 3":       "entries:\n   b:\n   - version: 9\n   a:\n      - version: 1.0.0\n        appVersion: \"2.0\"\n",
		"json":           `{"apiVersion":"v1","entries":{"a":[{"version":"1.0.0","appVersion":"2.0"}],"b":[]}}`,
		"flow entries":   "apiVersion: v1\nentries: {a: [{version: 1.0.0, appVersion: \"2.0\"}]}\n",
		"no entries":     "{apiVersion: v1,\nentries: {a: [{version: 1.0.0, appVersion: \"2.0\"}]}}\n",
		"quoted keys":    "entries:\n  'b': []\n  \"a\": # comment\n  - version: 1.0.0\n    appVersion: \"2.0\"\n",
		"comment lines":  "# header\nentries:\n# c\n  a:\n\n  # c\n  - version: 1.0.0 # c\n    appVersion: \"2.0\"\n",
		"long line":      "entries:\n  z:\n  - description: " + strings.Repeat("x", 200_000) + "\n  a:\n  - version: 1.0.0\n    appVersion: \"2.0\"\n",
		"entries at end": "apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    appVersion: \"2.0\"",
	} {
		got, err := ParseIndex(strings.NewReader(doc), []string{"a"})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", name, got)
		}
	}
	// An empty or chart-less document has no charts.
	for _, doc := range []string{"", "apiVersion: v1\nentries: {}\n", "entries:\ngenerated: x\n"} {
		got, err := ParseIndex(strings.NewReader(doc), []string{"a"})
		if err != nil || len(got) != 0 {
			t.Errorf("%q: %+v, %v", doc, got, err)
		}
	}
}

func TestNeedFullDecode(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"cross-chart alias": "entries:\n  b:\n  - &e\n    version: 1.0.0\n  a:\n  - *e\n",
		"odd indentation":   "entries:\n    b:\n    - version: 1\n  a:\n  - version: 2\n",
		"item before key":   "entries:\n  - version: 1\n",
	} {
		_, err := ParseIndex(strings.NewReader(doc), []string{"a"})
		if !errors.Is(err, ErrNeedFullDecode) {
			t.Errorf("%s: err = %v, want ErrNeedFullDecode", name, err)
		}
	}
}

// Alias bombs are an error, quickly, in the streamed entries and in the full
// decode: aliases are never expanded, merge keys are refused, and a chart
// that is an alias of a huge list is read one level deep only.
func aliasBombs() map[string]string {
	merge := "entries:\n  bomb:\n  - &l0 {version: \"1\", appVersion: \"1\"}\n"
	list := "x: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	for i := 1; i < 10; i++ {
		refs := strings.TrimSuffix(strings.Repeat("*l"+itoa(i-1)+",", 10), ",")
		merge += "  - &l" + itoa(i) + " {<<: [" + refs + "]}\n"
		list += "l" + itoa(i) + ": &l" + itoa(i) + " [" + refs + "]\n"
	}
	list += "entries:\n  bomb: *l9\n"
	return map[string]string{"merge keys in the chart": merge, "nested lists across the document": list}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestAliasBomb(t *testing.T) {
	t.Parallel()
	for name, doc := range aliasBombs() {
		if _, err := DecodeIndex(strings.NewReader(doc), nil); err == nil {
			t.Errorf("%s: full decode accepted an alias bomb", name)
		}
		_, err := ParseIndex(strings.NewReader(doc), []string{"bomb"})
		if errors.Is(err, ErrNeedFullDecode) {
			_, err = DecodeIndex(strings.NewReader(doc), []string{"bomb"})
		}
		if err == nil {
			t.Errorf("%s: accepted an alias bomb", name)
		}
	}
}

// Discovery metadata: home, sources and the images annotation are read, in
// both readers; a value of another shape is ignored, never an error; nil
// names read every chart.
func TestMetadataAndAllCharts(t *testing.T) {
	doc := `apiVersion: v1
entries:
  app:
  - version: 1.0.0
    home: https://example.org/
    sources:
    - https://github.com/acme/app
    - https://github.com/acme/app-chart
    annotations:
      artifacthub.io/images: |
        - name: app
          image: ghcr.io/acme/app:1.0.0
  other:
  - version: 2.0.0
    sources: not-a-list
    annotations: [1, 2]
    home: {a: b}
`
	want := Charts{
		"app": {{Version: "1.0.0", Home: "https://example.org/", Sources: "https://github.com/acme/app\nhttps://github.com/acme/app-chart",
			Images: "- name: app\n  image: ghcr.io/acme/app:1.0.0\n"}},
		"other": {{Version: "2.0.0"}},
	}
	stream, err := ParseIndex(strings.NewReader(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := DecodeIndex(strings.NewReader(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]Charts{"stream": stream, "full": full} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v\nwant %+v", name, got, want)
		}
	}
}
