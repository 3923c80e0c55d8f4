package verify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip   string
		want bool
	}{
		// public unicast (Azure Storage front ends live in ranges like these)
		{"20.60.1.1", true},
		{"52.239.1.1", true},
		{"8.8.8.8", true},
		{"2603:1000::1", true},
		{"::ffff:20.60.1.1", true}, // IPv4-mapped: judged as IPv4

		// loopback
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		// private
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"::ffff:10.1.2.3", false},
		// link-local, incl. the instance metadata service
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		// IPv6 unique local (ULA)
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		// unspecified, multicast, broadcast, reserved
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		// CGNAT, documentation, benchmarking, Azure's platform address
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"192.0.2.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"198.18.0.1", false},
		{"168.63.129.16", false},
		{"2001:db8::1", false},
		// IPv6 forms that embed an IPv4 address
		{"64:ff9b::a00:1", false},                       // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", false},                      // NAT64 of 127.0.0.1
		{"2002:7f00:1::1", false},                       // 6to4 of 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo
		{"fec0::1", false},                              // deprecated site-local
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			t.Parallel()
			ip, err := netip.ParseAddr(tt.ip)
			if err != nil {
				t.Fatal(err)
			}
			if got := publicAddr(ip); got != tt.want {
				t.Errorf("publicAddr(%s) = %v, want %v", tt.ip, got, tt.want)
			}
			// the dialer Control makes the same decision on "ip:port"
			err = control("tcp", netip.AddrPortFrom(ip, 443).String(), nil)
			if tt.want && err != nil {
				t.Errorf("control(%s) = %v, want nil", tt.ip, err)
			}
			if !tt.want && !errors.Is(err, errRefusedAddress) {
				t.Errorf("control(%s) = %v, want errRefusedAddress", tt.ip, err)
			}
		})
	}
	if err := control("tcp", "not-an-address", nil); !errors.Is(err, errRefusedAddress) {
		t.Errorf("control(not-an-address) = %v, want errRefusedAddress", err)
	}
}

// fakeResolver answers every name with fixed addresses and counts lookups.
type fakeResolver struct {
	addrs []netip.Addr
	err   error
	calls atomic.Int32
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	f.calls.Add(1)
	return f.addrs, f.err
}

func addrs(t *testing.T, ss ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// listen starts a loopback listener that counts accepted connections: the
// proof that a refused dial never connected.
func listen(t *testing.T) (port int, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// TestDialerRefusesNonPublic: DNS (faked, nothing leaves the machine)
// answers an allow-listed name with addresses a probe must never reach; the
// dialer refuses every one, and a listener on loopback sees no connection.
func TestDialerRefusesNonPublic(t *testing.T) {
	t.Parallel()
	port, accepted := listen(t)
	tests := []struct {
		name  string
		addrs []string
	}{
		{"loopback", []string{"127.0.0.1"}},
		{"loopback-v6", []string{"::1"}},
		{"private", []string{"10.0.0.7", "192.168.0.1", "172.20.0.1"}},
		{"link-local-imds", []string{"169.254.169.254"}},
		{"ipv6-ula", []string{"fd00::1"}},
		{"ipv6-link-local", []string{"fe80::1"}},
		{"mapped-loopback", []string{"::ffff:127.0.0.1"}},
		{"unspecified", []string{"0.0.0.0"}},
		{"multicast", []string{"224.0.0.251"}},
		{"cgnat", []string{"100.64.1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{addrs: addrs(t, tt.addrs...)}
			d := newDialer(r, false, time.Second)
			c, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort("contoso.blob.core.windows.net", strconv.Itoa(port)))
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, errRefusedAddress) {
				t.Fatalf("err = %v, want errRefusedAddress", err)
			}
			if r.calls.Load() != 1 {
				t.Errorf("resolver calls = %d, want 1", r.calls.Load())
			}
		})
	}
	// an IP literal is judged the same way, with no lookup
	r := &fakeResolver{}
	d := newDialer(r, false, time.Second)
	if _, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port)); !errors.Is(err, errRefusedAddress) {
		t.Errorf("dial 127.0.0.1: err = %v, want errRefusedAddress", err)
	}
	// the Control hook alone refuses too: it is wired into the net.Dialer,
	// which calls it after resolution, before connect(2)
	if d.d.Control == nil {
		t.Fatal("net.Dialer.Control is not set")
	}
	if _, err := d.d.DialContext(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port)); !errors.Is(err, errRefusedAddress) {
		t.Errorf("net.Dialer with Control, dial 127.0.0.1: err = %v, want errRefusedAddress", err)
	}
	if _, err := d.d.DialContext(context.Background(), "tcp", "localhost:"+strconv.Itoa(port)); err == nil {
		t.Errorf("net.Dialer with Control, dial localhost: connected")
	}
	if r.calls.Load() != 0 {
		t.Errorf("resolver called for an IP literal")
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("loopback listener accepted %d connections, want 0", n)
	}
}

// TestDialerOpenForEndpoint: with Config.Endpoint the user named the
// address, so loopback is allowed (an emulator).
func TestDialerOpenForEndpoint(t *testing.T) {
	t.Parallel()
	port, accepted := listen(t)
	d := newDialer(&fakeResolver{addrs: addrs(t, "127.0.0.1")}, true, time.Second)
	c, err := d.DialContext(context.Background(), "tcp", "emulator.test:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for accepted.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if accepted.Load() != 1 {
		t.Errorf("accepted = %d, want 1", accepted.Load())
	}
}

func TestDialerDNSNotFound(t *testing.T) {
	t.Parallel()
	nx := &net.DNSError{Err: "no such host", Name: "gone.blob.core.windows.net", IsNotFound: true}
	d := newDialer(&fakeResolver{err: nx}, false, time.Second)
	_, err := d.DialContext(context.Background(), "tcp", "gone.blob.core.windows.net:443")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Errorf("err = %v, want a not-found *net.DNSError", err)
	}
}
