package livekit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// NodeIP is the address LiveKit advertises in its ICE candidates, and how it was found.
type NodeIP struct {
	IP     string
	Source string // "livekit.nodeIP" | "public host" | "default route (eth0)" | "fallback"
	// Warning is set when only clients on this machine will be able to connect.
	Warning string
}

// ResolveNodeIP picks rtc.node_ip: the configured override, else the public host when it is
// a non-loopback IP literal, else the address of the interface carrying the default route
// (read from the routing table: no packet is sent), else 127.0.0.1 with a warning. It never
// fails, so Parley starts offline.
func ResolveNodeIP(override, publicHost string) NodeIP {
	if override != "" {
		return NodeIP{IP: override, Source: "livekit.nodeIP"}
	}
	if ip := net.ParseIP(strings.Trim(publicHost, "[]")); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
		return NodeIP{IP: ip.String(), Source: "public host"}
	}
	if ip, iface, err := defaultRouteIP(); err == nil {
		return NodeIP{IP: ip, Source: "default route (" + iface + ")"}
	}
	return NodeIP{IP: "127.0.0.1", Source: "fallback",
		Warning: "no default route and no livekit.nodeIP: LiveKit advertises 127.0.0.1, so only clients on this machine can connect; set livekit.nodeIP to this machine's reachable address"}
}

// defaultRouteIP finds the IPv4 address of the default-route interface, from
// /proc/net/route on Linux, else from a UDP "connect" (which only consults the routing
// table and sends nothing).
func defaultRouteIP() (ip, iface string, err error) {
	if f, ferr := os.Open("/proc/net/route"); ferr == nil {
		name, perr := parseDefaultRoute(f)
		f.Close()
		if perr == nil {
			if ip, err := interfaceIPv4(name); err == nil {
				return ip, name, nil
			}
		}
	}
	c, err := net.Dial("udp4", "192.0.2.1:9") // TEST-NET-1: never contacted, connect() sends nothing
	if err != nil {
		return "", "", fmt.Errorf("no default route: %w", err)
	}
	defer c.Close()
	a, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok || a.IP.IsLoopback() || a.IP.IsUnspecified() {
		return "", "", errors.New("no default route")
	}
	return a.IP.String(), "udp route lookup", nil
}

// parseDefaultRoute returns the interface of the lowest-metric default route in the
// /proc/net/route format.
func parseDefaultRoute(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	best, bestMetric := "", -1
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		flags, _ := strconv.ParseUint(f[3], 16, 32)
		metric, _ := strconv.Atoi(f[6])
		const rtfUp = 0x1
		if f[1] != "00000000" || f[7] != "00000000" || flags&rtfUp == 0 {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	if best == "" {
		return "", errors.New("no default route in routing table")
	}
	return best, sc.Err()
}

func interfaceIPv4(name string) (string, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("interface %s has no IPv4 address", name)
}
