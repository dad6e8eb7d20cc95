package livekit

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func baseParams() RenderParams {
	return RenderParams{
		Port: 7880, BindAddresses: []string{"127.0.0.1"}, APIKey: "APIkey123", APISecret: "secret-0123456789-0123456789-0123456789",
		RTCTCPPort: 7881, UDPPortStart: 50000, UDPPortEnd: 60000, NodeIP: "127.0.0.1", LoopbackCandidate: true,
		WebhookURL: "http://127.0.0.1:8090/api/livekit/webhook", EmptyTimeout: 5 * time.Minute, DepartureTimeout: 20 * time.Second,
		LogLevel: "info",
	}
}

func TestRenderConfigGolden(t *testing.T) {
	cases := map[string]func(p *RenderParams){
		"default_loopback": func(p *RenderParams) {},
		"public_turn_tls": func(p *RenderParams) {
			p.BindAddresses, p.NodeIP, p.LoopbackCandidate = nil, "203.0.113.7", false
			p.TURN = TURNParams{Enabled: true, Domain: "meet.example.com", UDPPort: 3478, TLSPort: 5349, CertFile: "/etc/parley/cert.pem", KeyFile: "/etc/parley/key.pem"}
			p.WebhookURL = "https://127.0.0.1:443/api/livekit/webhook"
		},
		"edge_turn_tls_private_node": func(p *RenderParams) {
			p.NodeIP, p.LoopbackCandidate = "10.0.0.5", false
			p.TURN = TURNParams{Enabled: true, Domain: "meet.example.com", UDPPort: 3478, TLSPort: 5349, ExternalTLS: true}
		},
		"use_external_ip": func(p *RenderParams) {
			p.BindAddresses, p.NodeIP, p.LoopbackCandidate, p.UseExternalIP = nil, "192.168.1.20", false, true
		},
		"turn_udp_redis_single_port": func(p *RenderParams) {
			p.BindAddresses, p.NodeIP, p.LoopbackCandidate = nil, "10.0.0.5", false
			p.UDPPortStart, p.UDPPortEnd = 7882, 7882
			p.TURN = TURNParams{Enabled: true, UDPPort: 3478}
			p.Redis = RedisParams{Address: "127.0.0.1:6379", Password: "pw", DB: 2}
			p.WebhookURL, p.LogLevel = "", "warn"
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			p := baseParams()
			mod(&p)
			got, err := RenderConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("RenderConfig(%s) differs from %s:\n--- got\n%s\n--- want\n%s", name, golden, got, want)
			}
			if strings.Contains(string(got), "\ntls:") {
				t.Errorf("rendered a top-level tls: block, which LiveKit v1.13 refuses")
			}
		})
	}
}

func TestRenderConfigRefusesWhatLiveKitRefuses(t *testing.T) {
	cases := []struct {
		name string
		mod  func(p *RenderParams)
		want string
	}{
		{"turn tls without domain", func(p *RenderParams) {
			p.TURN = TURNParams{Enabled: true, UDPPort: 3478, TLSPort: 5349, CertFile: "c", KeyFile: "k"}
		}, "livekit.turn.domain: TURN/TLS needs a domain name"},
		{"turn tls with an IP as domain", func(p *RenderParams) {
			p.TURN = TURNParams{Enabled: true, Domain: "10.1.2.3", TLSPort: 5349, CertFile: "c", KeyFile: "k"}
		}, "is not a DNS name"},
		{"turn tls with localhost", func(p *RenderParams) {
			p.TURN = TURNParams{Enabled: true, Domain: "localhost", TLSPort: 5349, CertFile: "c", KeyFile: "k"}
		}, "is not a DNS name"},
		{"turn tls without certificate", func(p *RenderParams) {
			p.TURN = TURNParams{Enabled: true, Domain: "turn.example.com", TLSPort: 5349}
		}, "needs server.tls.cert"},
		{"turn without ports", func(p *RenderParams) { p.TURN = TURNParams{Enabled: true} }, "enabled without a port"},
		{"short secret", func(p *RenderParams) { p.APISecret = "short" }, "at least 32 characters"},
		{"bad node ip", func(p *RenderParams) { p.NodeIP = "eth0" }, `"eth0" is not an IP address`},
		{"inverted udp range", func(p *RenderParams) { p.UDPPortStart, p.UDPPortEnd = 60000, 50000 }, "is not a port range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			tc.mod(&p)
			out, err := RenderConfig(p)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("rendered output despite the error")
			}
		})
	}
}
