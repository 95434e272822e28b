package helm

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// hostileIndexes are chart-host answers that crashed, hung or misled the
// landed reader. Each must fail that chart with a clear message, with bounded
// memory, while other repositories still answer.
func hostileIndexes() map[string]struct {
	body string
	want string
} {
	jsonDistinct := &strings.Builder{}
	jsonDistinct.WriteString(`{"entries":{"app":[{"version":"1.0.0"}]`)
	for i := range 100_000 {
		fmt.Fprintf(jsonDistinct, `,"c%d":[]`, i)
	}
	jsonDistinct.WriteString("}}")
	return map[string]struct {
		body string
		want string
	}{
		"6000 repeated keys in a version entry": {
			"entries:\n  app:\n  - version: 1.0.0\n" + strings.Repeat("    a: 1\n", 6000),
			"a mapping has 6001 keys, more than the limit of 1000"},
		"a repeated key in a version entry": {
			"entries:\n  app:\n  - version: 1.0.0\n    a: 1\n    a: 2\n",
			`line 5: key "a" is repeated (first at line 4)`},
		"6000 repeated keys in a JSON index": {
			`{"entries":{"app":[{"version":"1.0.0",` + strings.Repeat(`"a":1,`, 6000) + `"b":1}]}}`,
			`key "a" is repeated`},
		"100000 distinct chart keys in a JSON index": {jsonDistinct.String(), "more than the limit of 10000"},
		"a JSON index of empty lists over the full-decode limit": {
			`{"entries":{"app":[` + strings.Repeat("[],", (MaxFullDecode/3)+1) + `[]]}}`,
			"larger than 8 MB, the most Lagwatch decodes at once"},
		"a JSON index of empty lists": {
			`{"entries":{"app":[` + strings.Repeat("[],", 1_000_000) + `[]]}}`,
			"a list has 1000001 items, more than the limit of 500000"},
		"a JSON index of a few empty lists": {`{"entries":{"app":[[],[]]}}`, "a version entry is a list, expected a mapping"},
		"an HTML page":                      {"<!DOCTYPE html>\n<html><body><h1>Welcome</h1></body></html>\n", "an HTML page, not a Helm repository index"},
		"an HTML page with an entries line": {"<html>\nentries:\n  app:\n  - version: 1\n", "an HTML page"},
		"a 2 MB line (streaming only)":      {"entries:\n  app:\n  - version: " + strings.Repeat("9", 2<<20) + "\n", "a line is longer than 1 MB"},
		"a tab-indented index":              {"entries:\n  app:\n  - version: 1.0.0\n\tappVersion: 1.0.0\n", "line 4: a tab indents this line"},
		"a repeated entries key":            {"entries:\n  app:\n  - version: 1.0.0\nentries:\n  app:\n  - version: 2.0.0\n", `line 4: key "entries" is repeated (first at line 1)`},
		"a repeated chart":                  {"entries:\n  app:\n  - version: 1.0.0\n  app:\n  - version: 2.0.0\n", `line 4: chart "app" is listed twice under entries (first at line 2)`},
		"a version entry that is a list":    {"entries:\n  app:\n  - [1, 2]\n", "a version entry is a list, expected a mapping"},
		"a version that is a mapping":       {"entries:\n  app:\n  - version: {a: 1}\n", "version is a mapping, expected a plain value"},
		"a 2 MB version entry":              {"entries:\n  app:\n  - version: 1.0.0\n" + strings.Repeat("    description: "+strings.Repeat("x", 1000)+"\n", 2100), "a version entry of chart \"app\" is larger than 1 MB"},
		"a chart that is a mapping":         {"entries:\n  app:\n    version: 1.0.0\n", "expected a list of versions, found a mapping"},
	}
}

func TestHostileIndexes(t *testing.T) {
	h := fakes.NewHelm(t, fakes.FixturesDir())
	src := New(Config{HTTPClient: h.Client()})
	good := sources.ChartRef{Repository: h.RepoURL("otwld__ollama-helm"), Name: "ollama"}
	i := 0
	for name, tc := range hostileIndexes() {
		folder := fmt.Sprintf("hostile%d", i)
		i++
		h.Replace(folder, []byte(tc.body))
		var err error
		alloc := fakes.PeakHeap(func() {
			_, _, err = src.ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL(folder), Name: "app"})
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), folder+"/index.yaml") {
			t.Errorf("%s: err = %v, want it to name the index and say %q", name, err, tc.want)
		}
		if err != nil && len(err.Error()) > 600 {
			t.Errorf("%s: a %d-byte message", name, len(err.Error()))
		}
		if err != nil && fakes.GoTypeIn(err.Error()) != "" {
			t.Errorf("%s: the message shows %q", name, fakes.GoTypeIn(err.Error()))
		}
		// The full decode of an 8 MB document is the most expensive case
		// allowed (about 45 bytes per input byte); everything else is far below.
		if limit := uint64(512 << 20); alloc > limit {
			t.Errorf("%s: the heap grew by %d MB, want at most %d MB", name, alloc>>20, limit>>20)
		}
		if vs, _, err := src.ChartVersions(context.Background(), good); err != nil || len(vs) == 0 {
			t.Errorf("%s: the other repository failed too: %v", name, err)
		}
	}
}

// Streaming reader and full decode agree on the inputs above: both refuse.
func TestHostileIndexesBothDecoders(t *testing.T) {
	for name, tc := range hostileIndexes() {
		if len(tc.body) > MaxFullDecode || strings.Contains(name, "streaming only") {
			continue // limits of the streaming reader alone
		}
		_, errStream := ParseIndex(strings.NewReader(tc.body), []string{"app"})
		if errors.Is(errStream, ErrNeedFullDecode) {
			errStream = nil // the caller decodes it whole: that answer counts
		}
		_, errFull := DecodeIndex(strings.NewReader(tc.body), []string{"app"})
		if errFull == nil {
			t.Errorf("%s: the full decode accepted it", name)
		}
		if errStream == nil {
			_, errStream = DecodeIndex(strings.NewReader(tc.body), []string{"app"})
		}
		if errStream == nil {
			t.Errorf("%s: the streaming reader accepted it", name)
		}
	}
}

// A differential fuzz run of the landed reader found a document whose first
// key is indented: the streaming reader returned a chart, the YAML decoder
// none. Both now read it alike.
func TestIndentedFirstKey(t *testing.T) {
	doc := " 0: \nentries:\n app:\n - 0:"
	stream, errS := ParseIndex(strings.NewReader(doc), []string{"app"})
	full, errF := DecodeIndex(strings.NewReader(doc), []string{"app"})
	if errS != nil || errF != nil || len(stream) != len(full) || len(full) != 0 {
		t.Errorf("stream %v, %v; full %v, %v", stream, errS, full, errF)
	}
}

// Inputs the reader already handled, kept as regressions.
func TestBehavingFaults(t *testing.T) {
	crlf := "apiVersion: v1\r\nentries:\r\n  app:\r\n  - version: 1.0.0\r\n    appVersion: \"2.0\"\r\n    created: \"2025-01-02T03:04:05Z\"\r\n"
	vs, err := ParseIndex(strings.NewReader(crlf), []string{"app"})
	if err != nil || len(vs["app"]) != 1 || vs["app"][0].AppVersion != "2.0" || vs["app"][0].Created.IsZero() {
		t.Errorf("CRLF: %+v, %v", vs, err)
	}
	nullDates := "entries:\n  app:\n  - version: 1.0.0\n    created: null\n  - version: 1.0.0\n    created: ~\n"
	vs, err = ParseIndex(strings.NewReader(nullDates), []string{"app"})
	if err != nil || len(vs["app"]) != 2 || !vs["app"][0].Created.IsZero() || vs["app"][1].CreatedRaw != "" {
		t.Errorf("null dates and duplicate versions: %+v, %v", vs, err)
	}
	if _, err := DecodeIndex(strings.NewReader(`{"entries": {"app": [`), []string{"app"}); err == nil || !strings.Contains(err.Error(), "not a valid index") {
		t.Errorf("malformed JSON: %v", err)
	}
}

// A gzip-encoded answer is decompressed by the HTTP client and counted against
// the size limit after decompression: a gzip bomb is cut off.
func TestGzipBomb(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = io.WriteString(zw, "entries:\n  app:\n")
	line := []byte("  - version: 1.0.0\n")
	for range (64 << 20) / len(line) {
		_, _ = zw.Write(line)
	}
	_ = zw.Close()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, _ := gzip.NewReader(bytes.NewReader(zipped.Bytes())) // what net/http's transparent decompression does
		return &http.Response{StatusCode: 200, ContentLength: -1, Header: http.Header{}, Body: io.NopCloser(body), Uncompressed: true}, nil
	})
	src := New(Config{HTTPClient: &http.Client{Transport: rt}, MaxIndexBytes: 1 << 20})
	var err error
	alloc := fakes.PeakHeap(func() {
		_, _, err = src.ChartVersions(context.Background(), sources.ChartRef{Repository: "https://charts.example.com", Name: "app"})
	})
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("gzip bomb: err = %v", err)
	}
	if alloc > 64<<20 {
		t.Errorf("gzip bomb: the heap grew by %d MB", alloc>>20)
	}
}

// A body that trickles in forever is cut by the source's time limit, and
// parsing stops with it.
func TestEndlessTrickle(t *testing.T) {
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, "entries:\n  app:\n")
			for r.Context().Err() == nil {
				if _, err := io.WriteString(pw, "  - version: 1.0.0\n"); err != nil {
					return
				}
			}
			pw.CloseWithError(r.Context().Err())
		}()
		return &http.Response{StatusCode: 200, ContentLength: -1, Header: http.Header{}, Body: pr}, nil
	})
	src := New(Config{HTTPClient: &http.Client{Transport: rt}, Timeout: 100 * time.Millisecond, MaxIndexBytes: 1 << 40})
	_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "https://charts.example.com", Name: "app"})
	if err == nil || !strings.Contains(err.Error(), "took longer than the request timeout") {
		t.Errorf("err = %v", err)
	}
}

// A chart host that redirects in a circle, or drops the connection, fails
// that repository with a message; the shared client stops after 10 redirects.
func TestRedirectLoopAndReset(t *testing.T) {
	loop := fakes.NewRecorder(t)
	loop.Handle(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) })
	reset := fakes.NewRecorder(t)
	reset.Handle(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nentries:\n  app:\n"))
			_ = conn.Close()
		}
	})
	h := fakes.NewHelm(t, fakes.FixturesDir())
	hosts := []string{strings.TrimPrefix(loop.URL(), "http://"), strings.TrimPrefix(reset.URL(), "http://"), strings.TrimPrefix(h.URL(), "http://")}
	client := &http.Client{Transport: sources.NewAllowHosts(nil, hosts...), CheckRedirect: sources.CheckRedirect}
	src := New(Config{HTTPClient: client})
	for name, tc := range map[string]struct{ repo, want string }{
		"redirect loop": {loop.URL(), "stopped after 10 redirects"},
		"reset":         {reset.URL(), "the connection closed before the whole index arrived"},
	} {
		_, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: tc.repo, Name: "app"})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/index.yaml") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if vs, _, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL("otwld__ollama-helm"), Name: "ollama"}); err != nil || len(vs) == 0 {
		t.Errorf("the other repository: %v", err)
	}
}
