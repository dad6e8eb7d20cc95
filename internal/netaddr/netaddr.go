// Package netaddr classifies addresses the way the server's warnings and the doctor need it:
// which ones the internet routes to this host, and which names mean "this machine only".
package netaddr

import "net"

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// IsPrivate: an address the internet cannot route to this host (RFC 1918, ULA, link-local,
// carrier-grade NAT).
func IsPrivate(ip net.IP) bool {
	return ip.IsPrivate() || ip.IsLinkLocalUnicast() || cgnat.Contains(ip)
}

// IsPublic: a unicast address the internet routes (not private, loopback or unspecified).
func IsPublic(ip net.IP) bool {
	return ip != nil && ip.IsGlobalUnicast() && !IsPrivate(ip)
}

// IsLocalHost: a host name or literal that only this machine's browsers reach.
func IsLocalHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
