package httpx

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Proxies are the trusted reverse proxies (server.trustedProxies). Behind them, the client
// is the right-most X-Forwarded-For address that is not one of them: every trusted proxy
// appends the address it received the request from, so that entry was written by a proxy
// we trust, while everything to its left is whatever the client chose to send.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads IP addresses and CIDR ranges.
func ParseProxies(list []string) (*Proxies, error) {
	p := &Proxies{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if pre, err := netip.ParsePrefix(s); err == nil {
			p.prefixes = append(p.prefixes, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR range", s)
		}
		a = a.Unmap()
		p.prefixes = append(p.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

func (p *Proxies) trusted(a netip.Addr) bool {
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the caller's address given the connection's peer and the X-Forwarded-For
// header values, in order. A peer that is not a trusted proxy is the client, whatever it
// sent; an entry that is not an address ends the walk at the last trusted hop.
func (p *Proxies) ClientIP(peer netip.Addr, forwardedFor []string) string {
	peer = peer.Unmap()
	if p == nil || len(p.prefixes) == 0 || !p.trusted(peer) {
		return peer.String()
	}
	client := peer
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		entries := strings.Split(forwardedFor[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := parseHop(entries[j])
			if !ok {
				return client.String()
			}
			if !p.trusted(a) {
				return a.String()
			}
			client = a
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

const clientIPKey = "parley.clientip"

// ResolveClientIP is the middleware that stores the caller's address for ClientIP.
func (p *Proxies) ResolveClientIP() fiber.Handler {
	return func(c *fiber.Ctx) error {
		peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
		var xff []string
		if p != nil && len(p.prefixes) > 0 {
			for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
				xff = append(xff, string(v))
			}
		}
		c.Locals(clientIPKey, p.ClientIP(peer, xff))
		return c.Next()
	}
}

// ClientIP is the caller's address resolved by ResolveClientIP (the peer without it).
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(clientIPKey).(string); ok {
		return ip
	}
	return net.IP(c.Context().RemoteIP()).String()
}
