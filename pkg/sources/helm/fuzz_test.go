package helm

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// FuzzParseIndex holds the streaming reader to the full decode: whenever the
// full decode reads a document, the streaming reader reads the same charts
// and versions. (The streaming reader may accept a document the full decode
// refuses for a problem inside a chart nobody watches: it never parses
// those.) Seeds: testdata/fuzz/FuzzParseIndex, cut from the real indexes.
func FuzzParseIndex(f *testing.F) {
	for _, doc := range []string{
		"entries:\n  app:\n  - version: 1.0.0\n    appVersion: \"1.0\"\n    created: \"2025-01-02T03:04:05Z\"\n",
		`{"entries":{"app":[{"version":"1.0.0"}]}}`,
		" 0: \nentries:\n app:\n - 0:",
		"entries:\n  b:\n  - &e\n    version: 1.0.0\n  app:\n  - *e\n",
	} {
		f.Add([]byte(doc))
	}
	names := []string{"app", "ollama", "chromadb", "gpu-operator", "vllm-stack"}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 1<<16 {
			return
		}
		stream, errS := ParseIndex(strings.NewReader(string(doc)), names)
		if errors.Is(errS, ErrNeedFullDecode) {
			stream, errS = DecodeIndex(strings.NewReader(string(doc)), names)
		}
		full, errF := DecodeIndex(strings.NewReader(string(doc)), names)
		for _, err := range []error{errS, errF} {
			if err == nil {
				continue
			}
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			if len(err.Error()) > 2000 {
				t.Errorf("a %d-byte message", len(err.Error()))
			}
		}
		if errF != nil {
			return
		}
		if errS != nil {
			t.Fatalf("the full decode reads it, the streaming reader says %v", errS)
		}
		if !reflect.DeepEqual(stream, full) {
			t.Fatalf("streaming reader %+v\nfull decode      %+v", stream, full)
		}
	})
}
