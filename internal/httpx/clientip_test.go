package httpx

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	p, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer ignores the header", "198.51.100.1", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer without header", "10.0.0.1", nil, "10.0.0.1"},
		{"one proxy", "10.0.0.1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client prefixes are skipped", "10.0.0.1", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of proxies", "10.0.0.1", []string{"1.1.1.1, 203.0.113.9, 192.0.2.1, 10.3.3.3"}, "203.0.113.9"},
		{"several header lines", "10.0.0.1", []string{"1.1.1.1", "203.0.113.9, 10.2.2.2"}, "203.0.113.9"},
		{"with a port", "10.0.0.1", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"IPv6", "10.0.0.1", []string{"[2001:db9::1]:80, 2001:db8::5"}, "2001:db9::1"},
		{"mapped IPv4 peer", "::ffff:10.0.0.1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"junk next to the proxy ends at the proxy", "10.0.0.1", []string{"203.0.113.9, junk"}, "10.0.0.1"},
		{"only proxies", "10.0.0.1", []string{"10.1.1.1, 192.0.2.1"}, "10.1.1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.ClientIP(netip.MustParseAddr(tc.peer), tc.xff); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := ParseProxies([]string{"not-an-ip"}); err == nil {
		t.Error("a bad proxy entry was accepted")
	}
	var none *Proxies
	if got := none.ClientIP(netip.MustParseAddr("10.0.0.1"), []string{"1.1.1.1"}); got != "10.0.0.1" {
		t.Errorf("no proxies: %s", got)
	}
}
