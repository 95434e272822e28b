package sources

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]addrClass{
		"127.0.0.1": classLoopback, "127.8.9.10": classLoopback, "::1": classLoopback, "::ffff:127.0.0.1": classLoopback,
		"10.1.2.3": classPrivate, "172.16.0.1": classPrivate, "192.168.1.1": classPrivate, "100.64.0.1": classPrivate,
		"fd00:ec2::254": classPrivate, "::ffff:10.0.0.1": classPrivate,
		"169.254.169.254": classNever, "fe80::1": classNever, "0.0.0.0": classNever, "::": classNever, "224.0.0.1": classNever,
		"ff02::1": classNever,
		"8.8.8.8": classPublic, "2001:4860:4860::8888": classPublic, "203.0.113.7": classPublic,
	} {
		if got := classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("classify(%s) = %s, want %s", addr, got, want)
		}
	}
}

// The dial-time check on the resolved address, by the class of the chain's
// origin. Only the check runs: nothing is dialled.
func TestCheckAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		origin addrClass
		addr   string
		ok     bool
	}{
		{classPublic, "8.8.8.8:443", true},
		{classPublic, "127.0.0.1:443", false},
		{classPublic, "10.0.0.1:443", false},
		{classPublic, "[fd00::1]:443", false},
		{classPublic, "169.254.169.254:80", false},
		{classPrivate, "10.0.0.1:443", true},
		{classPrivate, "8.8.8.8:443", true},
		{classPrivate, "127.0.0.1:443", false},
		{classPrivate, "169.254.169.254:80", false},
		{classLoopback, "127.0.0.1:8080", true},
		{classLoopback, "10.0.0.1:443", true},
		{classLoopback, "169.254.169.254:80", false},
		{classLoopback, "[fe80::1%eth0]:80", false},
		{classLoopback, "not-an-address", false},
	} {
		err := control(tc.origin)(context.Background(), "tcp", tc.addr, nil)
		var refused *AddressRefusedError
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &refused)) {
			t.Errorf("from %s to %s: err = %v, want ok=%v", tc.origin, tc.addr, err, tc.ok)
		}
	}
}

// The check is the net.Dialer's Control: a connection it refuses is never
// made (the loopback listener accepts nothing).
func TestControlRefusesBeforeConnecting(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	d := &net.Dialer{ControlContext: control(classPublic)}
	_, err = d.DialContext(context.Background(), "tcp", ln.Addr().String())
	var refused *AddressRefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "a loopback address, reached from a public one") {
		t.Fatalf("dial from a public origin to loopback: %v", err)
	}
	d = &net.Dialer{ControlContext: control(classLoopback)}
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial from loopback to loopback: %v", err)
	}
	c.Close()
}

// seenAs makes a connection look as if it went to addr: the transport of a
// test connects to loopback only, yet the chain believes its origin (or a
// hop) is public or private, as a registry on the internet would be.
type seenAs struct {
	net.Conn
	addr net.Addr
}

func (c seenAs) RemoteAddr() net.Addr { return c.addr }

// transportSeenAs dials every address on loopback: an address in names
// (a fake host name) goes to the loopback address it maps to. Connections
// to the addresses in seen report the address given there.
func transportSeenAs(names, seen map[string]string) *http.Transport {
	d := &net.Dialer{}
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled := addr
		if to, ok := names[addr]; ok {
			dialled = to
		} else if host, _, _ := net.SplitHostPort(addr); net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
			return nil, errors.New("test transport: only loopback is dialled") // never reached: refused before
		}
		c, err := d.DialContext(ctx, network, dialled)
		if err != nil {
			return nil, err
		}
		if ip, ok := seen[addr]; ok {
			return seenAs{c, &net.TCPAddr{IP: net.ParseIP(ip), Port: 443}}, nil
		}
		return c, nil
	}}
}

func publicGet(t *testing.T, client *http.Client, url string, header http.Header) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(PublicContent(context.Background()), http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// Public content (a blob, an index) follows a redirect to a host outside
// the allow-list, without the Authorization header, and the host is
// counted; the same redirect of any other request is refused.
func TestPublicRedirectFollowed(t *testing.T) {
	t.Parallel()
	var withAuth, cdnHits atomic.Int64
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			withAuth.Add(1)
		}
	}))
	defer cdn.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/blob?sig=x", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	allow := NewAllowHosts(nil, strings.TrimPrefix(origin.URL, "http://"))
	client := &http.Client{Transport: allow, CheckRedirect: CheckRedirect}
	resp, err := publicGet(t, client, origin.URL+"/v2/x/blobs/sha256:00", http.Header{"Authorization": {"Bearer registry-token"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("public content through a redirect: %v", err)
	}
	cdnHost := strings.TrimPrefix(cdn.URL, "http://")
	if withAuth.Load() != 0 || cdnHits.Load() != 1 || allow.Followed()[cdnHost] != 1 {
		t.Fatalf("CDN hits %d (with Authorization %d), followed %v", cdnHits.Load(), withAuth.Load(), allow.Followed())
	}
	// The same redirect of a request that is not public content.
	req, _ := http.NewRequest(http.MethodGet, origin.URL+"/api", nil)
	_, err = client.Do(req)
	var hna *HostNotAllowedError
	if !errors.As(err, &hna) || cdnHits.Load() != 1 {
		t.Fatalf("strict request redirected away: %v (CDN hits %d)", err, cdnHits.Load())
	}
}

// Refused redirects of public content: from https to http, from a public
// origin to loopback, a private network or link-local, to a name that
// resolves into a private network. No packet goes to a non-loopback
// address: the public and private addresses are how a test transport
// reports its loopback connections.
func TestPublicRedirectRefused(t *testing.T) {
	t.Parallel()
	var cdnHits atomic.Int64
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cdnHits.Add(1) }))
	defer cdn.Close()
	cdnHost := strings.TrimPrefix(cdn.URL, "http://")
	var target atomic.Value
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Load().(string), http.StatusTemporaryRedirect)
	}
	tlsOrigin := httptest.NewTLSServer(http.HandlerFunc(redirect))
	defer tlsOrigin.Close()
	origin := httptest.NewServer(http.HandlerFunc(redirect))
	defer origin.Close()
	originHost := strings.TrimPrefix(origin.URL, "http://")
	tlsHost := strings.TrimPrefix(tlsOrigin.URL, "https://")

	for _, tc := range []struct {
		name      string
		from      string            // origin URL
		to        string            // redirect target
		seen      map[string]string // dial address -> the address the connection reports
		want      string
		refusedBy any
	}{
		{"https to http from loopback", tlsOrigin.URL, cdn.URL + "/blob", nil, "only over https", &RedirectRefusedError{}},
		{"http from a public origin", origin.URL, cdn.URL + "/blob", map[string]string{originHost: "203.0.113.7"}, "only over https", &RedirectRefusedError{}},
		{"public to 127.0.0.1", tlsOrigin.URL, "https://" + cdnHost + "/blob", map[string]string{tlsHost: "203.0.113.7"}, "a loopback address, reached from a public one", &AddressRefusedError{}},
		{"public to 10.x", tlsOrigin.URL, "https://10.1.2.3/blob", map[string]string{tlsHost: "203.0.113.7"}, "a private network address, reached from a public one", &AddressRefusedError{}},
		{"public to link-local", tlsOrigin.URL, "https://169.254.169.254/latest/meta-data/", map[string]string{tlsHost: "203.0.113.7"}, "link-local", &AddressRefusedError{}},
		{"loopback to link-local", tlsOrigin.URL, "https://169.254.169.254/latest/meta-data/", nil, "link-local", &AddressRefusedError{}},
		{"private to loopback", tlsOrigin.URL, "https://localhost:1/blob", map[string]string{tlsHost: "10.0.0.8"}, "a loopback address, reached from a private network one", &AddressRefusedError{}},
		// a name that resolves into a private network: seen at dial time
		{"public to a name in a private network", tlsOrigin.URL, "https://cdn.internal.test/blob", map[string]string{tlsHost: "203.0.113.7", "cdn.internal.test:443": "10.9.9.9"}, "refused to connect to 10.9.9.9:443: a private network address, reached from a public one", &AddressRefusedError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target.Store(tc.to)
			base := transportSeenAs(map[string]string{"cdn.internal.test:443": cdnHost}, tc.seen)
			base.TLSClientConfig = tlsOrigin.Client().Transport.(*http.Transport).TLSClientConfig
			client := &http.Client{Transport: NewAllowHosts(base, originHost, tlsHost), CheckRedirect: CheckRedirect}
			before := cdnHits.Load()
			_, err := publicGet(t, client, tc.from+"/blob", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			switch tc.refusedBy.(type) {
			case *RedirectRefusedError:
				var e *RedirectRefusedError
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want a RedirectRefusedError", err, err)
				}
			case *AddressRefusedError:
				var e *AddressRefusedError
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want an AddressRefusedError", err, err)
				}
			}
			if cdnHits.Load() != before {
				t.Fatalf("the refused target received a request")
			}
		})
	}
}

// A public origin may redirect to a public https host (a CDN); the chain
// is dialled through the transport of its class. The CDN's name is mapped
// to a loopback listener that reports a public address.
func TestPublicRedirectToPublicCDN(t *testing.T) {
	t.Parallel()
	var withAuth, hits atomic.Int64
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			withAuth.Add(1)
		}
	}))
	defer cdn.Close()
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/blob", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	originHost := strings.TrimPrefix(origin.URL, "https://")
	base := transportSeenAs(map[string]string{"example.com:443": cdn.Listener.Addr().String()},
		map[string]string{originHost: "203.0.113.7", "example.com:443": "198.51.100.9"})
	base.TLSClientConfig = cdn.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	allow := NewAllowHosts(base, originHost)
	client := &http.Client{Transport: allow, CheckRedirect: CheckRedirect}
	resp, err := publicGet(t, client, origin.URL+"/blob", http.Header{"Authorization": {"Bearer t"}})
	if err != nil || resp.StatusCode != http.StatusOK || hits.Load() != 1 || withAuth.Load() != 0 || allow.Followed()["example.com"] != 1 {
		t.Fatalf("err %v, CDN hits %d (with Authorization %d), followed %v", err, hits.Load(), withAuth.Load(), allow.Followed())
	}
}

// fakeDNS answers every A query with 127.0.0.1 and every other query with
// no records, on a loopback UDP port: names resolve without a packet
// leaving loopback.
func fakeDNS(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if q.Type == dnsmessage.TypeA {
				_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
			}
			out, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// The transports of the plugin and the CLI (over http.DefaultTransport)
// check the resolved address in the dialer's Control: a refused address
// is never connected to. The listener's first connection is the one made after the
// refusal.
func TestGuardedDefaultTransportDialsNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, next := range []http.RoundTripper{nil, http.DefaultTransport, struct{ http.RoundTripper }{http.DefaultTransport}} {
		a := NewAllowHosts(next)
		a.resolver = fakeDNS(t)
		tr := a.guarded(classPublic).(*http.Transport)
		// a name, not an address: only the dial-time check on the resolved
		// address can refuse it
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		_, err := tr.DialContext(context.Background(), "tcp", net.JoinHostPort("cdn.rebinding.test", port))
		var refused *AddressRefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("dial from a public origin to loopback: %v", err)
		}
		ok, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		first, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if first.RemoteAddr().String() != ok.LocalAddr().String() {
			t.Fatalf("the refused dial connected (first connection from %s, not %s)", first.RemoteAddr(), ok.LocalAddr())
		}
		first.Close()
		ok.Close()
	}
}

// A confined request (an OCI token request made while a blob is fetched)
// does not inherit the public redirect rule: its redirect off the
// allow-list is refused.
func TestConfinedIsNotPublic(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			http.Redirect(w, r, other.URL+"/token", http.StatusFound)
		}
	}))
	defer realm.Close()
	client := &http.Client{Transport: NewAllowHosts(nil, strings.TrimPrefix(realm.URL, "http://")), CheckRedirect: CheckRedirect}
	ctx, origin := Track(PublicContent(context.Background()))
	first, _ := http.NewRequestWithContext(ctx, http.MethodGet, realm.URL+"/v2/", nil) // the registry's answer: a loopback origin
	if resp, err := client.Do(first); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	req, _ := http.NewRequestWithContext(Confine(ctx, origin), http.MethodGet, realm.URL+"/token", nil)
	_, err := client.Do(req)
	var hna *HostNotAllowedError
	if !errors.As(err, &hna) || hits.Load() != 0 {
		t.Fatalf("confined request redirected off the allow-list: %v (hits %d)", err, hits.Load())
	}
}

// A token realm host (AllowRealm) is reached by confined requests only: a
// hostile registry that named it as its realm cannot then redirect public
// content there past the scheme and address checks, nor reach it with any
// other request (review of issue 16: the realm used to join the list).
func TestRealmHostIsNotListed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer realm.Close()
	realmAddr := strings.TrimPrefix(realm.URL, "http://")
	var target atomic.Value
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Load().(string), http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	originHost := strings.TrimPrefix(origin.URL, "https://")
	base := transportSeenAs(map[string]string{"auth.evil.test:443": realmAddr, "auth.evil.test:80": realmAddr},
		map[string]string{originHost: "203.0.113.7", "auth.evil.test:443": "169.254.169.254", "auth.evil.test:80": "169.254.169.254"})
	base.TLSClientConfig = origin.Client().Transport.(*http.Transport).TLSClientConfig
	allow := NewAllowHosts(base, originHost)
	allow.AllowRealm("auth.evil.test")
	client := &http.Client{Transport: allow, CheckRedirect: CheckRedirect}
	for _, tc := range []struct{ to, want string }{
		{"http://auth.evil.test/latest/meta-data/", "only over https"},
		{"https://auth.evil.test/latest/meta-data/", "link-local"},
	} {
		target.Store(tc.to)
		if _, err := publicGet(t, client, origin.URL+"/blob", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("redirect to %s: err = %v, want %q", tc.to, err, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://auth.evil.test/", nil)
	if _, err := client.Do(req); err == nil || !strings.Contains(err.Error(), "is not allowed") {
		t.Errorf("a plain request to the realm host: err = %v, want it refused", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the realm host received %d requests", hits.Load())
	}
}
