package discover

import (
	"net/http"
	"strings"
	"sync"
)

// Counter is an http.RoundTripper that counts requests by destination: the
// GitHub API (and its web host), Prometheus, endoflife.date, and chart repositories (every
// other host). The discovery's budget reads it.
type Counter struct {
	Next           http.RoundTripper // http.DefaultTransport when nil
	GitHubHosts    []string
	PrometheusHost string
	EOLHost        string // endoflife.date

	mu sync.Mutex
	n  Requests
}

// RoundTrip implements http.RoundTripper.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	switch host := req.URL.Host; {
	case c.PrometheusHost != "" && strings.EqualFold(host, c.PrometheusHost):
		c.n.Prometheus++
	case c.EOLHost != "" && strings.EqualFold(host, c.EOLHost):
		c.n.EOL++
	case c.isGitHub(host):
		c.n.GitHub++
	default:
		c.n.Charts++
	}
	c.mu.Unlock()
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

func (c *Counter) isGitHub(host string) bool {
	for _, h := range c.GitHubHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// Requests returns the counts so far.
func (c *Counter) Requests() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
