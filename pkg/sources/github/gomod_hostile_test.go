package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// go.mod reads: the token never reaches an error, and answers that are not
// GitHub's file object say so in words, without Go type names.
func TestGoModuleHostile(t *testing.T) {
	rec := fakes.NewRecorder(t)
	src := hostileSource(t, rec, fakes.NewClock(t0))
	rec.Handle(fakes.EchoHeaders)
	if _, _, err := src.GoModule(context.Background(), "acme/app"); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("echoed headers: %v", err)
	}
	for body, want := range map[string]string{
		`<html>`: "the answer is not the JSON file object GitHub sends",
		`{"type":"dir","encoding":"","content":""}`:                `expected a base64 file, got type "dir"`,
		`{"type":"file","encoding":"base64","content":"%%%"}`:      "the content is not base64",
		`{"type":"file","encoding":"base64","content":"Z28gMQ=="}`: "go.mod has no module directive",
	} {
		rec.Handle(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		_, ok, err := src.GoModule(context.Background(), "acme/app")
		if err == nil || ok || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "base64.") {
			t.Errorf("%s: %v", body, err)
		}
	}
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"type":"file","encoding":"base64","content":"`)
		chunk := strings.Repeat("A", 1<<20)
		for range 3 {
			fmt.Fprint(w, chunk)
		}
		fmt.Fprint(w, `"}`)
	})
	if _, _, err := src.GoModule(context.Background(), "acme/app"); err == nil || !strings.Contains(err.Error(), "larger than 2 MB") {
		t.Errorf("huge: %v", err)
	}
}
