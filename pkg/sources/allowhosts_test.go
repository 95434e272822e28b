package sources_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

func TestAllowHosts(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int64
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
	}))
	defer foreign.Close()
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusOK)
		case "/redirect-home":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/redirect-away":
			http.Redirect(w, r, foreign.URL+"/index.yaml", http.StatusFound)
		}
	}))
	defer allowed.Close()
	allowedHost := strings.TrimPrefix(allowed.URL, "http://")
	foreignHost := strings.TrimPrefix(foreign.URL, "http://")

	client := &http.Client{Transport: sources.NewAllowHosts(nil, strings.ToUpper(allowedHost), "", "example.com")}
	for _, tc := range []struct {
		url       string
		wantHost  string // refused host, "" when the request must succeed
		foreignOK bool
	}{
		{allowed.URL + "/ok", "", false},
		{allowed.URL + "/redirect-home", "", false},
		{allowed.URL + "/redirect-away", foreignHost, false},
		{foreign.URL + "/index.yaml", foreignHost, false},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.url, nil)
		resp, err := client.Do(req)
		if tc.wantHost == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.url, err)
				continue
			}
			resp.Body.Close()
			continue
		}
		var hna *sources.HostNotAllowedError
		if !errors.As(err, &hna) || hna.Host != tc.wantHost || !strings.Contains(err.Error(), `host "`+tc.wantHost+`" is not allowed`) {
			t.Errorf("%s: err = %v, want refusal of %s", tc.url, err, tc.wantHost)
		}
	}
	if foreignHits.Load() != 0 {
		t.Fatalf("the foreign host received %d requests", foreignHits.Load())
	}
}

func TestAllowHostsPorts(t *testing.T) {
	t.Parallel()
	a := sources.NewAllowHosts(nil, "example.com", "api.github.com", "ghe.local:8443")
	for _, tc := range []struct {
		rawURL string
		want   bool
	}{
		{"https://example.com/x", true},
		{"https://EXAMPLE.com:443/x", true},
		{"http://example.com:80/x", true},
		{"https://example.com:8443/x", false},
		{"https://sub.example.com/x", false},
		{"https://ghe.local:8443/api/v3", true},
		{"https://ghe.local/api/v3", false},
		{"https://api.github.com/graphql", true},
		{"https://evil.com/?h=api.github.com", false},
	} {
		u, _ := url.Parse(tc.rawURL)
		if got := a.Allowed(u.Scheme, u.Host); got != tc.want {
			t.Errorf("Allowed(%s) = %v, want %v", tc.rawURL, got, tc.want)
		}
	}
}
