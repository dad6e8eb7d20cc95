package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/parley/parley/internal/livekit"
)

func TestNATWarning(t *testing.T) {
	resolve := func(ips ...string) func(context.Context, string) ([]net.IPAddr, error) {
		return func(context.Context, string) ([]net.IPAddr, error) {
			if len(ips) == 0 {
				return nil, errors.New("no such host")
			}
			var out []net.IPAddr
			for _, ip := range ips {
				out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
			}
			return out, nil
		}
	}
	private := livekit.NodeIP{IP: "10.0.0.5", Source: "default route (eth0)"}
	tests := []struct {
		name   string
		node   livekit.NodeIP
		host   string
		lookup func(context.Context, string) ([]net.IPAddr, error)
		want   string // "" = no warning
	}{
		{"private node behind a public name", private, "meet.example.com", resolve("203.0.113.9"), "set livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP) to 203.0.113.9"},
		{"private node behind a public IP", private, "203.0.113.9", resolve(), "livekit.useExternalIP: true"},
		{"name resolves to the private address", private, "meet.lan", resolve("10.0.0.5"), ""},
		{"name does not resolve", private, "meet.example.com", resolve(), ""},
		{"public node", livekit.NodeIP{IP: "203.0.113.9", Source: "public host"}, "meet.example.com", resolve("203.0.113.9"), ""},
		{"node ip set by the user", livekit.NodeIP{IP: "10.0.0.5", Source: "livekit.nodeIP"}, "meet.example.com", resolve("203.0.113.9"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := natWarning(tc.node, tc.host, tc.lookup)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("natWarning = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
