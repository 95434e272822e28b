package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// lagwatch serve: the same source flags as report, metrics once the first
// refresh is done, and a clean stop when its context ends.
func TestServe(t *testing.T) {
	s := newServers(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var stderr fakes.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--catalog", s.catalog, "--github-url", s.gh.URL(), "--listen", "127.0.0.1:0", "--oci-budget", "500", "--services", "ollama,chromadb"}, &stderr, withToken, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	var body string
	for range 100 { // until the first refresh has finished
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if body = string(b); strings.Contains(body, "lagwatch_exporter_refreshes_total 1") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{`lagwatch_versions_behind{chart="chromadb"`, `lagwatch_service_up{chart="ollama"`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in:\n%s", want, body)
		}
	}
	if strings.Contains(body, `service="vllm-stack"`) {
		t.Error("--services was not applied")
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after the context ended: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "lagwatch serve: 2 services of") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestServeFlags(t *testing.T) {
	s := newServers(t)
	for args, want := range map[string]string{
		"--refresh 10s":          "--refresh",
		"--oci-budget 0":         "--oci-budget 0 must be 1 or more",
		"--listen 127.0.0.1:bad": "--listen",
	} {
		code, _, errOut := runCLI(t, env(nil), append([]string{"serve", "--catalog", s.catalog, "--github-url", s.gh.URL()}, strings.Fields(args)...)...)
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q", args, code, errOut)
		}
	}
}
