package doctor

import (
	"context"
	"net"
	"strings"
	"testing"
)

// fakeNet is a host with the given interface addresses whose resolver answers from zone.
func fakeNet(zone map[string][]string, ifaces ...string) Env {
	return Env{
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			if a, ok := zone[host]; ok {
				return a, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
		InterfaceAddrs: func() ([]net.Addr, error) {
			out := []net.Addr{&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)}}
			for _, a := range ifaces {
				out = append(out, &net.IPNet{IP: net.ParseIP(a), Mask: net.CIDRMask(24, 32)})
			}
			return out, nil
		},
	}
}

func wantResult(t *testing.T, r Result, status Status, words ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("got %s, want %s: %s (fix: %s)", r.Status, status, r.Detail, r.Fix)
	}
	for _, w := range words {
		if !strings.Contains(r.Detail+" | "+r.Fix, w) {
			t.Errorf("%q missing from %q | %q", w, r.Detail, r.Fix)
		}
	}
}

func TestPublicDNS(t *testing.T) {
	zone := map[string][]string{
		"meet.example.com":  {"203.0.113.7"},
		"elsewhere.example": {"198.51.100.9"},
		"mixed.example":     {"203.0.113.7", "198.51.100.9"},
		"loop.example":      {"127.0.0.1"},
	}
	for _, tc := range []struct {
		name, url, nodeIP string
		ifaces            []string
		status            Status
		words             []string
	}{
		{"points here", "https://meet.example.com", "203.0.113.7", []string{"203.0.113.7"}, Pass, []string{"resolves to 203.0.113.7, this host"}},
		{"points elsewhere", "https://elsewhere.example", "203.0.113.7", []string{"203.0.113.7"}, Fail,
			[]string{"resolves to 198.51.100.9, not to this host (203.0.113.7)", "point the A/AAAA records of elsewhere.example", "livekit.nodeIP"}},
		{"behind NAT, node_ip names the public address", "https://meet.example.com", "203.0.113.7", []string{"10.0.0.5"}, Pass, nil},
		{"behind NAT, node_ip private", "https://meet.example.com", "10.0.0.5", []string{"10.0.0.5"}, Fail, []string{"not to this host (10.0.0.5)"}},
		{"no record", "https://missing.example", "203.0.113.7", []string{"203.0.113.7"}, Fail, []string{"has no DNS record", "create an A"}},
		{"one stale record", "https://mixed.example", "203.0.113.7", []string{"203.0.113.7"}, Warn, []string{"198.51.100.9 is not this host"}},
		{"loopback answer", "https://loop.example", "10.0.0.5", []string{"10.0.0.5"}, Warn, []string{"only this machine"}},
		{"localhost", "http://localhost:8090", "127.0.0.1", nil, Warn, []string{"server.publicURL (PARLEY_SERVER_PUBLIC_URL)"}},
		{"IP literal of this host", "https://203.0.113.7", "203.0.113.7", []string{"203.0.113.7"}, Pass, []string{"no DNS record needed"}},
		{"IP literal of another host", "https://198.51.100.9", "10.0.0.5", []string{"10.0.0.5"}, Fail, []string{"not this host's"}},
		{"no host", "::", "", nil, Fail, []string{"server.publicURL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{PublicURL: tc.url, NodeIP: tc.nodeIP}, e: fakeNet(zone, tc.ifaces...)}
			wantResult(t, d.checkPublicDNS(context.Background()), tc.status, tc.words...)
		})
	}
}

func TestTURNDNSUsesTheTURNName(t *testing.T) {
	d := &doctor{t: Target{PublicURL: "https://meet.example.com", NodeIP: "203.0.113.7", TURN: TURN{Domain: "turn.example.com"}},
		e: fakeNet(map[string][]string{"meet.example.com": {"203.0.113.7"}}, "203.0.113.7")}
	wantResult(t, d.checkTURNDNS(context.Background()), Fail, "turn.example.com (livekit.turn.domain) has no DNS record")
}

func TestNodeIP(t *testing.T) {
	zone := map[string][]string{"meet.example.com": {"203.0.113.7"}, "lan.example": {"192.168.1.10"}}
	for _, tc := range []struct {
		name, url, nodeIP string
		external          bool
		status            Status
		words             []string
	}{
		{"public", "https://meet.example.com", "203.0.113.7", false, Pass, []string{"is public"}},
		{"private behind a public name", "https://meet.example.com", "10.0.0.5", false, Fail,
			[]string{"10.0.0.5 (default route (eth0)) is private while meet.example.com is public (203.0.113.7)", "set livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP) to 203.0.113.7"}},
		{"private behind a public IP literal", "https://203.0.113.7", "10.0.0.5", false, Fail, []string{"to 203.0.113.7"}},
		{"private on a LAN", "https://lan.example", "192.168.1.10", false, Pass, []string{"is private, as is lan.example"}},
		{"carrier-grade NAT", "https://meet.example.com", "100.64.1.2", false, Fail, []string{"private"}},
		{"loopback for a local URL", "http://localhost:8090", "127.0.0.1", false, Pass, []string{"this machine's browsers only"}},
		{"loopback for a public name", "https://meet.example.com", "127.0.0.1", false, Fail, []string{"loopback only", "livekit.nodeIP"}},
		{"public but not the DNS answer", "https://meet.example.com", "198.51.100.1", false, Warn, []string{"resolves to 203.0.113.7"}},
		{"not an IP", "https://meet.example.com", "meet", false, Fail, []string{"not an IP address"}},
		{"external LiveKit", "https://meet.example.com", "10.0.0.5", true, Pass, []string{"external"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{PublicURL: tc.url, NodeIP: tc.nodeIP, NodeIPSource: "default route (eth0)", External: tc.external}, e: fakeNet(zone)}
			wantResult(t, d.checkNodeIP(context.Background()), tc.status, tc.words...)
		})
	}
}

func TestNodeIPByStun(t *testing.T) {
	d := &doctor{t: Target{PublicURL: "https://meet.example.com", NodeIP: "10.0.0.5", NodeIPSource: "default route (eth0)", UseExternalIP: true},
		e: fakeNet(map[string][]string{"meet.example.com": {"203.0.113.7"}})}
	wantResult(t, d.checkNodeIP(context.Background()), Pass, "livekit.useExternalIP", "STUN")
	d.t.UseExternalIP = false
	wantResult(t, d.checkNodeIP(context.Background()), Fail, "livekit.useExternalIP: true")
}
