package sources

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Address classes, from the most to the least trusted. A request chain may
// go from an address to one of the same or a later class, never back: a
// registry on a private network may redirect within it or to the internet,
// a public one only to the internet.
type addrClass int

const (
	classLoopback addrClass = iota // 127.0.0.0/8, ::1
	classPrivate                   // RFC 1918, RFC 6598 (carrier-grade NAT), fc00::/7
	classPublic                    // everything else that is unicast
	classNever                     // link-local (cloud metadata), multicast, unspecified: never a target
)

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func (c addrClass) String() string {
	return [...]string{"loopback", "private network", "public", "link-local or non-unicast"}[c]
}

// classify puts an IP address in its class.
func classify(ip netip.Addr) addrClass {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsMulticast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return classNever
	case ip.IsLoopback():
		return classLoopback
	case ip.IsPrivate() || cgnat.Contains(ip):
		return classPrivate
	}
	return classPublic
}

// AddressRefusedError is a connection refused before it was made: its
// address is of a class the request chain may not reach.
type AddressRefusedError struct {
	Addr   string // the resolved address, ip:port
	Class  string // its class ("private network", …)
	Origin string // the class of the chain's origin
}

func (e *AddressRefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: a %s address, reached from a %s one", e.Addr, e.Class, e.Origin)
}

// control is the dial-time check of a chain whose origin is of class
// origin: it sees the address actually dialled, after name resolution, so a
// name that resolves into a forbidden range cannot bypass it.
func control(origin addrClass) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(_ context.Context, _, address string, _ syscall.RawConn) error {
		return checkAddr(origin, address)
	}
}

func checkAddr(origin addrClass, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressRefusedError{Addr: address, Class: "unparsable", Origin: origin.String()}
	}
	if c := classify(ap.Addr()); c == classNever || c < origin {
		return &AddressRefusedError{Addr: address, Class: c.String(), Origin: origin.String()}
	}
	return nil
}

// checkLiteral refuses a host written as an address (or localhost) that
// the chain may not reach, before any connection. hostport is HOST:PORT.
func checkLiteral(origin addrClass, hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		host = "127.0.0.1"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(origin, net.JoinHostPort(ip.String(), port))
	}
	return nil // a name: checked when it is dialled
}

// hostPort is a URL's HOST:PORT, with the scheme's default port.
func hostPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return net.JoinHostPort(u.Hostname(), p)
	}
	return net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)])
}

// trail is what AllowHosts learns of one request chain: the scheme of its
// first request and the least trusted address class it has connected to.
type trail struct {
	public bool // redirects follow the public-content rule
	mu     sync.Mutex
	seen   bool
	scheme string
	class  addrClass
}

type trailKey struct{}
type confineKey struct{}

// PublicContent marks the requests made with the returned context as
// reading public content without credentials (an OCI blob or manifest, a
// Helm index.yaml): their redirects to hosts outside the allow-list are
// followed under the public redirect rule (see AllowHosts). Make one per
// request: the context records where its chain went.
func PublicContent(ctx context.Context) context.Context {
	return context.WithValue(ctx, trailKey{}, &trail{public: true})
}

// Origin is the address class a request reached, learnt by AllowHosts
// while the request ran (see Track).
type Origin struct{ t *trail }

// Track returns a context whose requests record the class of the address
// they connect to, for Confine.
func Track(ctx context.Context) (context.Context, Origin) {
	if t, _ := ctx.Value(trailKey{}).(*trail); t != nil {
		return ctx, Origin{t}
	}
	t := &trail{}
	return context.WithValue(ctx, trailKey{}, t), Origin{t}
}

// Confine makes every request of the returned context (an OCI token
// request) connect only to addresses its origin may reach: never
// link-local, never loopback or a private network unless the origin is
// there too. An origin that connected nowhere counts as public. A
// PublicContent mark of ctx does not carry over: the confined requests
// never follow a redirect off the allow-list.
func Confine(ctx context.Context, o Origin) context.Context {
	return context.WithValue(context.WithValue(ctx, trailKey{}, (*trail)(nil)), confineKey{}, o)
}

func (t *trail) record(scheme string, addr net.Addr) {
	class := classPublic
	if tcp, ok := addr.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			class = classify(ip)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.seen {
		t.seen, t.scheme, t.class = true, scheme, class
		return
	}
	t.class = max(t.class, class)
}

// class is the least trusted address class the origin connected to
// (public when it connected nowhere).
func (o Origin) class() addrClass {
	if o.t == nil {
		return classPublic
	}
	_, c := o.t.origin()
	return c
}

// origin returns the first scheme and the least trusted class of the chain
// (public when it connected nowhere yet).
func (t *trail) origin() (string, addrClass) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.seen {
		return "", classPublic
	}
	return t.scheme, t.class
}

// traced attaches a trace that records where req connects.
func (t *trail) traced(req *http.Request) *http.Request {
	scheme := strings.ToLower(req.URL.Scheme)
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if info.Conn != nil {
			t.record(scheme, info.Conn.RemoteAddr())
		}
	}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
}

// RedirectRefusedError is a redirect of public content that the public
// redirect rule does not follow.
type RedirectRefusedError struct {
	Host   string
	Reason string
}

func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("redirect to %q refused: %s", e.Host, e.Reason)
}

// Rebaser is a transport that wraps another (a request counter). The
// guarded transports of AllowHosts are wrapped by the same wrapper as the
// allow-listed requests (the next transport, when it is a Rebaser), so that
// the requests of followed redirects are counted too.
type Rebaser interface {
	// Rebase returns the same wrapper around base.
	Rebase(base http.RoundTripper) http.RoundTripper
}

// guarded returns the transport for chains whose origin is of class c: its
// own connection pool (a connection made for a more trusted origin is never
// reused), its dials checked by control; wrapped as next is (Rebaser).
func (a *AllowHosts) guarded(c addrClass) http.RoundTripper {
	t := a.guardedTransport(c)
	if w, ok := a.next.(Rebaser); ok {
		return w.Rebase(t)
	}
	return t
}

func (a *AllowHosts) guardedTransport(c addrClass) *http.Transport {
	a.guardMu.Lock()
	defer a.guardMu.Unlock()
	if a.guards == nil {
		a.guards = map[addrClass]*http.Transport{}
	}
	if t := a.guards[c]; t != nil {
		return t
	}
	def, _ := http.DefaultTransport.(*http.Transport)
	base, custom := a.next.(*http.Transport)
	if !custom || base == def || base.DialContext == nil {
		base, custom = def, false
	}
	t := base.Clone()
	// No proxy: through one, the dial check would see the proxy's address,
	// not the target's, and a name resolving into a private network or to
	// link-local would pass (as would a private proxy make every origin look
	// private). Guarded requests are dialled directly.
	t.Proxy = nil
	if dial := base.DialContext; custom {
		// A transport with its own dialer (tests map names to loopback
		// listeners): literal addresses are checked before dialling, the
		// address it connected to after.
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := checkLiteral(c, addr); err != nil {
				return nil, err
			}
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if err := checkAddr(c, conn.RemoteAddr().String()); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		}
	} else {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, ControlContext: control(c), Resolver: a.resolver}
		t.DialContext = d.DialContext
	}
	t.DialTLSContext, t.DialTLS = nil, nil // TLS over the checked connection
	a.guards[c] = t
	return t
}

// followPublic sends a redirected request of public content, or refuses it.
func (a *AllowHosts) followPublic(req *http.Request, t *trail) (*http.Response, error) {
	scheme, class := t.origin()
	switch target := strings.ToLower(req.URL.Scheme); {
	case target == "https":
	case target == "http" && scheme == "http" && class == classLoopback:
		// a registry or repository on loopback reached over http (tests, a local mirror)
	default:
		return nil, &RedirectRefusedError{Host: req.URL.Host, Reason: "public content follows redirects to other hosts only over https"}
	}
	if err := checkLiteral(class, hostPort(req.URL)); err != nil {
		return nil, err // through a proxy the dial check sees the proxy: refuse literal addresses here
	}
	resp, err := a.guarded(class).RoundTrip(t.traced(req))
	if err == nil {
		a.mu.Lock()
		if a.followed == nil {
			a.followed = map[string]int{}
		}
		a.followed[strings.ToLower(req.URL.Host)]++
		a.mu.Unlock()
	}
	return resp, err
}

// Followed returns how many redirects of public content to hosts outside
// the allow-list were followed, by target host.
func (a *AllowHosts) Followed() map[string]int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make(map[string]int, len(a.followed))
	for h, n := range a.followed {
		out[h] = n
	}
	return out
}

// CloseIdleConnections closes the idle connections of every transport.
func (a *AllowHosts) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := a.next.(closeIdler); ok {
		c.CloseIdleConnections()
	}
	a.guardMu.Lock()
	defer a.guardMu.Unlock()
	for _, t := range a.guards {
		t.CloseIdleConnections()
	}
}
