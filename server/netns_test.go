package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
	"github.com/pion/webrtc/v4"
)

// netnsPair is two network namespaces joined by a veth pair on a private /24 that exists
// only between them: nothing they send can leave this machine.
type netnsPair struct {
	server, client     string
	serverIP, clientIP string
}

// sh runs a command and fails the test with its output.
func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetnsPair(t *testing.T) netnsPair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("!!! the network-namespace test needs root (ip netns, nftables): SKIPPING")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("!!! %s is not installed (apt-get install iproute2 nftables): SKIPPING", tool)
		}
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(200))
	x := int(n.Int64()) + 20
	id := fmt.Sprintf("%d-%d", os.Getpid(), x)
	p := netnsPair{server: "plsrv-" + id, client: "plcli-" + id,
		serverIP: fmt.Sprintf("10.231.%d.1", x), clientIP: fmt.Sprintf("10.231.%d.2", x)}
	vs, vc := fmt.Sprintf("pls%d", x), fmt.Sprintf("plc%d", x)
	sh(t, "ip", "netns", "add", p.server)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.server).Run() })
	sh(t, "ip", "netns", "add", p.client)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.client).Run() })
	sh(t, "ip", "link", "add", vs, "netns", p.server, "type", "veth", "peer", "name", vc, "netns", p.client)
	for _, c := range [][]string{
		{"ip", "-n", p.server, "addr", "add", p.serverIP + "/24", "dev", vs},
		{"ip", "-n", p.client, "addr", "add", p.clientIP + "/24", "dev", vc},
		{"ip", "-n", p.server, "link", "set", vs, "up"},
		{"ip", "-n", p.client, "link", "set", vc, "up"},
		{"ip", "-n", p.server, "link", "set", "lo", "up"},
		{"ip", "-n", p.client, "link", "set", "lo", "up"},
	} {
		sh(t, c...)
	}
	return p
}

// firewallClient lets the client namespace reach only TCP port on the server: every UDP
// packet and every other TCP port is dropped, both ways.
func firewallClient(t *testing.T, p netnsPair, port int) {
	t.Helper()
	rules := fmt.Sprintf(`table inet parleytest {
	chain out {
		type filter hook output priority 0; policy drop;
		oif "lo" accept
		ip daddr %[1]s tcp dport %[2]d accept
	}
	chain in {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
		ip saddr %[1]s tcp sport %[2]d ct state established accept
	}
}
`, p.serverIP, port)
	cmd := exec.Command("ip", "netns", "exec", p.client, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

// hostsFor makes name resolve to ip inside ns (ip netns exec mounts /etc/netns/<ns>/hosts
// over /etc/hosts).
func hostsFor(t *testing.T, ns, name, ip string) {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte("127.0.0.1 localhost\n"+ip+" "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRelayOnlyClientThroughTLSPort: a client network that lets through nothing but TCP to
// Parley's TLS port (443) still holds a meeting: signalling over wss through the proxy,
// media relay-only through TURN/TLS on that same port, told from HTTPS by its first bytes
// (one name, meet.test, serves both) and forwarded to LiveKit's TURN listener.
func TestRelayOnlyClientThroughTLSPort(t *testing.T) {
	ns := newNetnsPair(t)
	cert := testenv.SelfSignedCert(t, "meet.test")
	rtcTCP := testenv.FreePort(t)
	env := testEnv(t, "PARLEY_SERVER_LISTEN=0.0.0.0:443", "PARLEY_SERVER_PUBLIC_URL=https://meet.test",
		"PARLEY_SERVER_TLS_CERT="+cert.CertFile, "PARLEY_SERVER_TLS_KEY="+cert.KeyFile,
		"PARLEY_LIVEKIT_NODE_IP="+ns.serverIP, fmt.Sprintf("PARLEY_LIVEKIT_RTC_TCP_PORT=%d", rtcTCP))
	p := startParleyIn(t, ns.server, env)
	cfg, _ := os.ReadFile(filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "run", "livekit.yaml"))
	for _, want := range []string{"external_tls: true", "allow_restricted_peer_cidrs:\n    - " + ns.serverIP + "/32", "domain: meet.test"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("LiveKit config lacks %q:\n%s", want, cfg)
		}
	}
	firewallClient(t, ns, 443)
	hostsFor(t, ns.client, "meet.test", ns.serverIP)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.client, os.Args[0], "-test.run=^TestRelayOnlyClientHelper$", "-test.v")
	// SSL_CERT_FILE is the client's whole trust store: the SDK's signalling dialer and pion's
	// TURN/TLS client take no TLS settings, and both use the system pool.
	cmd.Env = append(os.Environ(), "PARLEY_NETNS_CLIENT=1", "SSL_CERT_FILE="+cert.CertFile,
		"PARLEY_NETNS_BLOCKED="+net.JoinHostPort(ns.serverIP, fmt.Sprint(rtcTCP)))
	out, err := cmd.CombinedOutput()
	t.Logf("client namespace:\n%s", lastLines(string(out), 30))
	if err != nil || !strings.Contains(string(out), "RELAY-OK") {
		t.Fatalf("the relay-only client did not get media through the TLS port: %v\nparley:\n%s", err, lastLines(p.Output(), 40))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestRelayOnlyClientHelper is the client side of TestRelayOnlyClientThroughTLSPort, run in
// the client namespace: it signs in through https://meet.test, checks that the firewall is
// real, then a publisher and a subscriber, both relay-only, meet and video flows.
func TestRelayOnlyClientHelper(t *testing.T) {
	if os.Getenv("PARLEY_NETNS_CLIENT") != "1" {
		t.Skip("helper of TestRelayOnlyClientThroughTLSPort")
	}
	if c, err := net.DialTimeout("tcp", os.Getenv("PARLEY_NETNS_BLOCKED"), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("the firewall lets TCP to %s through; the test would prove nothing", os.Getenv("PARLEY_NETNS_BLOCKED"))
	}
	c := client{t: t, base: "https://meet.test"}
	code, login := c.do("POST", "/api/auth/login", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	c.token = login["accessToken"].(string)
	host, guest := meeting(t, c, "relay-only")
	if host["url"] != "wss://meet.test" {
		t.Fatalf("join url %v, want wss://meet.test", host["url"])
	}
	relay := lksdk.WithICETransportPolicy(webrtc.ICETransportPolicyRelay)
	m, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Seconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lktest.Publish(host["url"].(string), host["token"].(string), m, lktest.PublishOptions{Quiet: true, Connect: []lksdk.ConnectOption{relay}})
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	defer pub.Close()
	got := receiveVideo(t, guest["url"].(string), guest["token"].(string), relay)
	took := eventually(t, 60*time.Second, "video packets relayed through TURN/TLS", func() bool { return got.packets.Load() >= 50 })
	fmt.Printf("RELAY-OK packets=%d after %s\n", got.packets.Load(), took)
}
