package doctor

import (
	"context"
	"errors"
	"fmt"
	"github.com/parley/parley/internal/netaddr"
	"net"
	"net/url"
	"slices"
	"strings"
)

const nodeIPFix = "set livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP)"

// publicHost is the host of server.publicURL.
func (d *doctor) publicHost() (string, error) {
	u, err := url.Parse(d.t.PublicURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("server.publicURL %q is not a URL with a host", d.t.PublicURL)
	}
	return u.Hostname(), nil
}

// publicPort is the port of server.publicURL, its scheme's default when it names none.
func publicPort(publicURL string) string {
	u, err := url.Parse(publicURL)
	switch {
	case err != nil:
		return ""
	case u.Port() != "":
		return u.Port()
	case u.Scheme == "https":
		return "443"
	}
	return "80"
}

// hostIPs are this host's own addresses: its interfaces' and node_ip, which is the
// public address when the host sits behind NAT and says so in livekit.nodeIP.
func (d *doctor) hostIPs() []net.IP {
	var ips []net.IP
	if addrs, err := d.e.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			switch v := a.(type) {
			case *net.IPNet:
				ips = append(ips, v.IP)
			case *net.IPAddr:
				ips = append(ips, v.IP)
			}
		}
	}
	if ip := net.ParseIP(d.t.NodeIP); ip != nil {
		ips = append(ips, ip)
	}
	return ips
}

func containsIP(ips []net.IP, ip net.IP) bool {
	return slices.ContainsFunc(ips, func(x net.IP) bool { return x.Equal(ip) })
}

func joinIPs(ips []net.IP) string {
	s := make([]string, 0, len(ips))
	for _, ip := range ips {
		if !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !slices.Contains(s, ip.String()) {
			s = append(s, ip.String())
		}
	}
	if len(s) == 0 {
		return "none but loopback"
	}
	return strings.Join(s, ", ")
}

func (d *doctor) checkPublicDNS(ctx context.Context) Result {
	host, err := d.publicHost()
	if err != nil {
		return fail("set server.publicURL (PARLEY_SERVER_PUBLIC_URL) to the URL browsers use, e.g. https://meet.example.com", "%v", err)
	}
	if netaddr.IsLocalHost(host) {
		return warn("set server.publicURL (PARLEY_SERVER_PUBLIC_URL) to the name browsers use, e.g. https://meet.example.com",
			"server.publicURL is %s: only browsers on this machine can join", host)
	}
	return d.checkName(ctx, host, "server.publicURL")
}

func (d *doctor) checkTURNDNS(ctx context.Context) Result {
	return d.checkName(ctx, d.t.TURN.Domain, "livekit.turn.domain")
}

// checkName resolves a name clients use and compares the answer with this host's addresses.
func (d *doctor) checkName(ctx context.Context, name, key string) Result {
	hostIPs := d.hostIPs()
	if ip := net.ParseIP(name); ip != nil {
		if containsIP(hostIPs, ip) {
			return pass("%s is the address %s, one of this host's: no DNS record needed", key, ip)
		}
		return fail(fmt.Sprintf("put one of this host's addresses (%s) in %s; behind NAT, %s to %s", joinIPs(hostIPs), key, nodeIPFix, ip),
			"%s is the address %s, which is not this host's", key, ip)
	}
	addrs, err := d.e.LookupHost(ctx, name)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return fail(fmt.Sprintf("create an A (and AAAA) record for %s with this server's public address", name), "%s (%s) has no DNS record", name, key)
		}
		return fail(fmt.Sprintf("check this host's DNS resolver and the records of %s", name), "%s (%s): lookup failed: %v", name, key, err)
	}
	var mine, others []net.IP
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil {
			continue
		}
		if containsIP(hostIPs, ip) {
			mine = append(mine, ip)
		} else {
			others = append(others, ip)
		}
	}
	answer := strings.Join(addrs, ", ")
	pointAt := fmt.Sprintf("point the A/AAAA records of %s at this server (%s); behind NAT, %s to the public address the record holds and forward the ports to this host",
		name, joinIPs(hostIPs), nodeIPFix)
	switch {
	case len(mine) == 0:
		return fail(pointAt, "%s resolves to %s, not to this host (%s)", name, answer, joinIPs(hostIPs))
	case len(others) > 0:
		return warn(pointAt, "%s resolves to %s: %s is not this host, so some clients go elsewhere", name, answer, joinIPs(others))
	case !slices.ContainsFunc(mine, func(ip net.IP) bool { return !ip.IsLoopback() }):
		return warn(pointAt, "%s resolves to loopback (%s): only this machine reaches it", name, answer)
	}
	return pass("%s resolves to %s, this host", name, answer)
}

// checkNodeIP: LiveKit puts node_ip in every ICE candidate. A private one behind a public
// name means clients outside the network find no media path except TURN.
func (d *doctor) checkNodeIP(ctx context.Context) Result {
	ip := net.ParseIP(d.t.NodeIP)
	if d.t.External {
		return pass("external LiveKit: its rtc.node_ip is set on its own host")
	}
	if ip == nil {
		return fail(nodeIPFix+" to this server's reachable IP address", "node_ip %q is not an IP address", d.t.NodeIP)
	}
	if d.t.UseExternalIP {
		return pass("livekit.useExternalIP: LiveKit asks STUN for its public address at start (%s is only its fallback); this host must reach STUN servers", d.t.NodeIP)
	}
	from := d.t.NodeIP + " (" + d.t.NodeIPSource + ")"
	host, err := d.publicHost()
	if err != nil {
		return fail("set server.publicURL (PARLEY_SERVER_PUBLIC_URL)", "%v", err)
	}
	publicLocal := netaddr.IsLocalHost(host)
	var public []net.IP
	if pip := net.ParseIP(host); pip != nil {
		if netaddr.IsPublic(pip) {
			public = []net.IP{pip}
		}
	} else if !publicLocal {
		addrs, _ := d.e.LookupHost(ctx, host) // a failed lookup is the DNS check's finding
		for _, a := range addrs {
			if p := net.ParseIP(a); p != nil && netaddr.IsPublic(p) {
				public = append(public, p)
			}
		}
	}
	switch {
	case ip.IsLoopback() && publicLocal:
		return pass("node_ip %s: media for this machine's browsers only, as server.publicURL is local", from)
	case ip.IsLoopback() || ip.IsUnspecified():
		return fail(nodeIPFix+" to this server's reachable address", "node_ip %s: LiveKit offers media on loopback only, so no other machine gets audio or video", from)
	case netaddr.IsPrivate(ip) && len(public) > 0:
		return fail(fmt.Sprintf("%s to %s (the public address of %s) and forward the UDP range and livekit.rtc.tcpPort to this host, or livekit.useExternalIP: true when the host can reach STUN", nodeIPFix, public[0], host),
			"node_ip %s is private while %s is public (%s): clients outside this network get no media except through TURN", from, host, public[0])
	case netaddr.IsPrivate(ip):
		return pass("node_ip %s is private, as is %s: clients on this network connect directly, others need TURN", from, host)
	case len(public) > 0 && !containsIP(public, ip):
		return warn(fmt.Sprintf("make livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP) and the DNS record of %s agree", host),
			"node_ip %s is public but %s resolves to %s", from, host, public[0])
	}
	return pass("node_ip %s is public", from)
}
