package sources

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// HostNotAllowedError is returned for a request to a host outside the allow-list.
type HostNotAllowedError struct {
	Host    string   // host of the refused request, as in the URL
	Allowed []string // the allow-list, sorted
}

func (e *HostNotAllowedError) Error() string {
	return fmt.Sprintf("host %q is not allowed (allowed hosts: %s)", e.Host, strings.Join(e.Allowed, ", "))
}

// AllowHosts is an http.RoundTripper that only lets requests through to the
// listed hosts. An http.Client sends every redirect through its transport, so
// a redirect to a foreign host is refused as well.
//
// A host with a port ("example.com:8443") allows exactly that host and port; a
// host without a port allows that host on the scheme's default port. Hosts are
// compared case-insensitively.
type AllowHosts struct {
	next    http.RoundTripper
	mu      sync.RWMutex
	allowed map[string]bool
	realms  map[string]bool // token realm hosts: reached only by confined requests (AllowRealm)
	list    []string

	followed map[string]int // public-content redirects followed, by host (under mu)

	guardMu  sync.Mutex
	guards   map[addrClass]*http.Transport // by the class of a chain's origin
	resolver *net.Resolver                 // of the guarded dialers; nil: the system's (tests set one)
}

// NewAllowHosts wraps next (http.DefaultTransport when nil) so that only
// requests to hosts are sent. Empty host strings are ignored.
func NewAllowHosts(next http.RoundTripper, hosts ...string) *AllowHosts {
	if next == nil {
		next = http.DefaultTransport
	}
	a := &AllowHosts{next: next, allowed: map[string]bool{}}
	for _, h := range hosts {
		a.Allow(h)
	}
	return a
}

// Allow adds a host to the list (an OCI registry's token realm, named by a
// registry of the catalog). Safe while requests are sent.
func (a *AllowHosts) Allow(host string) {
	host = strings.ToLower(strings.TrimSpace(host))
	a.mu.Lock()
	defer a.mu.Unlock()
	if host == "" || a.allowed[host] {
		return
	}
	a.allowed[host] = true
	a.list = append(a.list, host)
	sort.Strings(a.list)
}

// AllowRealm lets requests marked by Confine (an OCI registry's token
// request) reach host. It does not join the list: any other request to it,
// a redirect of public content included, is treated as one to a host
// outside the list, so a hostile registry cannot name a realm host and then
// redirect there past the address checks. Safe while requests are sent.
func (a *AllowHosts) AllowRealm(host string) {
	host = strings.ToLower(strings.TrimSpace(host))
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.realms == nil {
		a.realms = map[string]bool{}
	}
	if host != "" {
		a.realms[host] = true
	}
}

// Allowed reports whether a request with this scheme and URL host may be sent.
func (a *AllowHosts) Allowed(scheme, host string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return listed(a.allowed, scheme, host)
}

// realm reports whether a confined request may reach this host.
func (a *AllowHosts) realm(scheme, host string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return listed(a.allowed, scheme, host) || listed(a.realms, scheme, host)
}

// listed matches a URL host against a set of hosts: as written, or without
// the scheme's default port.
func listed(set map[string]bool, scheme, host string) bool {
	host = strings.ToLower(host)
	if set[host] {
		return true
	}
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		return false // no port, and not listed as is
	}
	defaultPort := map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
	return port == defaultPort && set[name]
}

// RoundTrip implements http.RoundTripper.
//
// A request whose context is marked by Confine is dialled only to addresses
// its origin may reach. A redirect of public content (a context marked by
// PublicContent) to a host outside the list is followed when the target is
// https (http only when the chain started over http on loopback), and is
// dialled only to an address of the origin's class or a less trusted one:
// never link-local, never from a public address into a private network or
// loopback. Every other request to a host outside the list is refused.
func (a *AllowHosts) RoundTrip(req *http.Request) (*http.Response, error) {
	t, _ := req.Context().Value(trailKey{}).(*trail)
	if o, ok := req.Context().Value(confineKey{}).(Origin); ok && a.realm(req.URL.Scheme, req.URL.Host) {
		class := o.class()
		if err := checkLiteral(class, hostPort(req.URL)); err != nil {
			return nil, err
		}
		return a.guarded(class).RoundTrip(req)
	}
	if t != nil && t.public && req.Response != nil && !a.Allowed(req.URL.Scheme, req.URL.Host) {
		return a.followPublic(req, t)
	}
	if t != nil {
		req = t.traced(req)
	}
	if !a.Allowed(req.URL.Scheme, req.URL.Host) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		a.mu.RLock()
		list := append([]string(nil), a.list...)
		a.mu.RUnlock()
		return nil, &HostNotAllowedError{Host: req.URL.Host, Allowed: list}
	}
	return a.next.RoundTrip(req)
}

// CheckRedirect is the redirect policy of Lagwatch's HTTP clients: at most 10
// redirects, and the Authorization header only to the origin (scheme, host
// and port) of the original request. Go's own policy keeps the header for
// the same host name on another port or scheme, so an https → http downgrade
// or another service on the same host would receive the token.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after 10 redirects")
	}
	if !SameOrigin(req.URL, via[0].URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// SameOrigin reports whether two URLs have the same scheme, host and port.
func SameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}
