package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// resolver is the part of *net.Resolver the dialer uses; tests pass a fake.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// errRefusedAddress is wrapped by the error of a dial to an address that is
// not a public unicast address.
var errRefusedAddress = errors.New("refused: not a public unicast address")

// refusedError names the refused address (an IP, never a secret).
type refusedError struct{ addr netip.Addr }

func (e *refusedError) Error() string {
	return "dial " + e.addr.String() + ": " + errRefusedAddress.Error()
}
func (e *refusedError) Unwrap() error { return errRefusedAddress }

// nonPublic are ranges that are not reachable public unicast space, beyond
// what netip's predicates (loopback, private, link-local, multicast,
// unspecified) cover. A probe never connects to them.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT
	netip.MustParsePrefix("168.63.129.16/32"),   // Azure platform (WireServer, DNS) endpoint
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),     // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),     // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved, and 255.255.255.255
	netip.MustParsePrefix("64:ff9b::/96"),       // NAT64: embeds an IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),     // local-use NAT64
	netip.MustParsePrefix("100::/64"),           // discard-only
	netip.MustParsePrefix("2001::/32"),          // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),      // documentation
	netip.MustParsePrefix("2002::/16"),          // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),          // deprecated site-local
	netip.MustParsePrefix("::/128"),             // unspecified (also IsUnspecified)
	netip.MustParsePrefix("::ffff:0:0:0/96"),    // IPv4-translated
	netip.MustParsePrefix("5f00::/16"),          // SRv6 SIDs
	netip.MustParsePrefix("3fff::/20"),          // documentation (2024)
	netip.MustParsePrefix("2001:2::/48"),        // benchmarking
	netip.MustParsePrefix("2001:10::/28"),       // deprecated ORCHID
	netip.MustParsePrefix("2001:20::/28"),       // ORCHIDv2
	netip.MustParsePrefix("ff00::/8"),           // multicast (also IsMulticast)
	netip.MustParsePrefix("fc00::/7"),           // unique local (also IsPrivate)
	netip.MustParsePrefix("fe80::/10"),          // link-local (also IsLinkLocalUnicast)
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local, incl. 169.254.169.254 IMDS
	netip.MustParsePrefix("127.0.0.0/8"),        // loopback
	netip.MustParsePrefix("::1/128"),            // loopback
	netip.MustParsePrefix("10.0.0.0/8"),         // private
	netip.MustParsePrefix("172.16.0.0/12"),      // private
	netip.MustParsePrefix("192.168.0.0/16"),     // private
	netip.MustParsePrefix("224.0.0.0/4"),        // multicast
	netip.MustParsePrefix("255.255.255.255/32"), // broadcast
}

// publicAddr reports whether a probe may connect to ip: a valid, global
// unicast address outside every loopback, private (RFC 1918, IPv6 ULA),
// link-local, multicast, unspecified, CGNAT, documentation, reserved and
// address-embedding range. IPv4-mapped IPv6 addresses are judged as IPv4.
func publicAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// control is the net.Dialer.Control of the probe dialer. The dialer calls it
// after resolution, with the exact IP:port it is about to connect to and
// before connect(2), so nothing is sent to a refused address, whatever DNS
// answered (this closes the DNS-rebinding gap of resolve-then-dial-by-name).
func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", network, errRefusedAddress)
	}
	if !publicAddr(ap.Addr()) {
		return &refusedError{addr: ap.Addr()}
	}
	return nil
}

// dialer resolves a name itself and connects only to the addresses it
// resolved, each checked twice: before dialing, and by [control] inside the
// net.Dialer. With open set (Config.Endpoint) every address is allowed: the
// user named the endpoint, which may be an emulator on loopback or a private
// endpoint.
type dialer struct {
	resolver resolver
	open     bool
	d        net.Dialer
}

func newDialer(r resolver, open bool, timeout time.Duration) *dialer {
	if r == nil {
		r = net.DefaultResolver
	}
	g := &dialer{resolver: r, open: open}
	g.d = net.Dialer{Timeout: timeout, KeepAlive: -1}
	if !open {
		g.d.Control = control
	}
	return g
}

// DialContext is the Transport's DialContext.
func (g *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port", network)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err // a *net.DNSError: IsNotFound tells account-gone
		}
	}
	var first error
	for _, ip := range ips {
		ip = ip.Unmap()
		if !g.open && !publicAddr(ip) {
			if first == nil {
				first = &refusedError{addr: ip}
			}
			continue
		}
		c, err := g.d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if first == nil || errors.Is(first, errRefusedAddress) {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if first == nil {
		first = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return nil, first
}
