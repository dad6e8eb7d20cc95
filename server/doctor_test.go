package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/testenv"
	"golang.org/x/net/dns/dnsmessage"
)

// doctorRow is one line of the doctor's table: its status, finding and fix.
type doctorRow struct{ status, line string }

// runDoctor runs `parley doctor` in this process against the configuration in env (plus
// overrides) and returns its error and its table by check name.
func runDoctor(t *testing.T, env []string, overrides map[string]string, args ...string) (error, map[string]doctorRow, string) {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return envValue(env, k)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, append([]string{"doctor"}, args...), getenv, &out)
	rows := map[string]doctorRow{}
	for _, line := range strings.Split(out.String(), "\n") {
		for _, st := range []string{"  PASS  ", "  WARN  ", "  FAIL  "} {
			if i := strings.Index(line, st); i > 0 {
				rows[strings.TrimSpace(line[:i])] = doctorRow{strings.TrimSpace(st), line}
			}
		}
	}
	return err, rows, out.String()
}

func wantRow(t *testing.T, rows map[string]doctorRow, out, check, status string, words ...string) {
	t.Helper()
	r, ok := rows[check]
	if !ok {
		t.Errorf("no %q row in:\n%s", check, out)
		return
	}
	if r.status != status {
		t.Errorf("%s: got %s, want %s:\n%s", check, r.status, status, r.line)
	}
	for _, w := range words {
		if !strings.Contains(r.line, w) {
			t.Errorf("%s: %q missing from:\n%s", check, w, r.line)
		}
	}
}

// fakeDNS answers A queries on loopback UDP from names (fully qualified: "meet.test.")
// and NXDOMAIN for anything else: the resolver is real, only the zone is the test's.
func fakeDNS(t *testing.T, names map[string]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess})
			ip, known := names[strings.ToLower(q.Name.String())]
			if !known {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError})
			}
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if known && q.Type == dnsmessage.TypeA {
				var a [4]byte
				copy(a[:], net.ParseIP(ip).To4())
				_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, dnsmessage.AResource{A: a})
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// TestDoctorAgainstRunningParley runs the doctor against a real Parley with embedded
// LiveKit and TURN/UDP: every check passes or warns, then each broken setup gives its FAIL
// and its fix.
func TestDoctorAgainstRunningParley(t *testing.T) {
	turnPort := testenv.FreeUDPRange(t, 1)
	env := testEnv(t, "PARLEY_LIVEKIT_TURN_ENABLED=true", fmt.Sprintf("PARLEY_LIVEKIT_TURN_UDP_PORT=%d", turnPort))
	p := startParley(t, env)
	waitOwnLiveKit(t, env)

	t.Run("healthy", func(t *testing.T) {
		err, rows, out := runDoctor(t, env, nil)
		if err != nil {
			t.Fatalf("doctor on a healthy Parley: %v\n%s", err, out)
		}
		wantRow(t, rows, out, "DNS public name", "WARN", "only browsers on this machine")
		wantRow(t, rows, out, "certificate", "PASS", "plain HTTP")
		wantRow(t, rows, out, "port server.listen", "PASS", "Parley answers on "+p.addr)
		wantRow(t, rows, out, "node_ip", "PASS")
		wantRow(t, rows, out, "LiveKit API", "PASS", "accepts the API key")
		wantRow(t, rows, out, "LiveKit signalling", "PASS", "token validated")
		wantRow(t, rows, out, "webhooks", "PASS", "arrived after")
		wantRow(t, rows, out, "port livekit.port", "PASS", "LiveKit answers")
		wantRow(t, rows, out, "port livekit.rtc.tcpPort", "PASS")
		wantRow(t, rows, out, "UDP livekit.rtc range", "PASS")
		wantRow(t, rows, out, "TURN/UDP allocation", "PASS", "allocated relay", fmt.Sprint(turnPort))
		t.Logf("\n%s", out)
	})

	t.Run("admin route", func(t *testing.T) {
		items := adminDoctor(t, p.addr)
		if len(items) < 11 {
			t.Fatalf("got %d items: %+v", len(items), items)
		}
		for _, it := range items {
			if it.Status == "FAIL" {
				t.Errorf("%s FAIL on a healthy Parley: %s (fix: %s)", it.Check, it.Detail, it.Fix)
			}
			if it.Check == "TURN/UDP allocation" && it.Status != "PASS" {
				t.Errorf("TURN/UDP: %+v", it)
			}
		}
	})

	t.Run("wrong API secret", func(t *testing.T) {
		err, rows, out := runDoctor(t, env, map[string]string{"PARLEY_LIVEKIT_API_SECRET": strings.Repeat("w", 40)})
		if err == nil {
			t.Error("doctor succeeded with a wrong API secret")
		}
		wantRow(t, rows, out, "LiveKit API", "FAIL", "LiveKit rejected the API key", "livekit.apiSecret")
		wantRow(t, rows, out, "TURN/UDP allocation", "FAIL", "refused Parley's credentials")
	})

	t.Run("port taken", func(t *testing.T) {
		other := httptest.NewServer(http.NotFoundHandler())
		defer other.Close()
		err, rows, out := runDoctor(t, env, map[string]string{"PARLEY_SERVER_LISTEN": other.Listener.Addr().String()})
		if err == nil {
			t.Error("doctor succeeded with another program on server.listen")
		}
		wantRow(t, rows, out, "port server.listen", "FAIL", "taken by another program", "server.listen (PARLEY_SERVER_LISTEN)", "ss -ltnp")

		_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
		_, rows, out = runDoctor(t, env, map[string]string{"PARLEY_LIVEKIT_PORT": otherPort})
		wantRow(t, rows, out, "port livekit.port", "FAIL", "is not LiveKit", "livekit.port (PARLEY_LIVEKIT_PORT)", "ss -ltnp")
	})

	t.Run("Parley not running", func(t *testing.T) {
		free := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		err, rows, out := runDoctor(t, env, map[string]string{"PARLEY_SERVER_LISTEN": free})
		if err == nil {
			t.Error("doctor succeeded with nothing on server.listen")
		}
		wantRow(t, rows, out, "port server.listen", "FAIL", "nothing listens on "+free, "start Parley")
	})

	_, port, _ := net.SplitHostPort(p.addr)
	t.Run("DNS points here", func(t *testing.T) {
		ip := hostIPv4(t)
		dns := fakeDNS(t, map[string]string{"meet.test.": ip})
		_, rows, out := runDoctor(t, env, map[string]string{"PARLEY_SERVER_PUBLIC_URL": "http://meet.test:" + port}, "--resolver", dns)
		wantRow(t, rows, out, "DNS public name", "PASS", "meet.test resolves to "+ip+", this host")
		wantRow(t, rows, out, "DNS TURN name", "PASS", "meet.test resolves to "+ip)
		// A name that is not this machine's own over plain HTTP gets no camera in any browser.
		wantRow(t, rows, out, "certificate", "FAIL", "https pages only", "server.tls.acme.enabled")
	})

	t.Run("wrong DNS answer", func(t *testing.T) {
		dns := fakeDNS(t, map[string]string{"meet.test.": "192.0.2.10"})
		err, rows, out := runDoctor(t, env, map[string]string{"PARLEY_SERVER_PUBLIC_URL": "http://meet.test:" + port}, "--resolver", dns)
		if err == nil {
			t.Error("doctor succeeded with a DNS record pointing elsewhere")
		}
		wantRow(t, rows, out, "DNS public name", "FAIL", "meet.test resolves to 192.0.2.10, not to this host", "point the A/AAAA records of meet.test")
	})

	t.Run("no DNS record", func(t *testing.T) {
		dns := fakeDNS(t, nil)
		_, rows, out := runDoctor(t, env, map[string]string{"PARLEY_SERVER_PUBLIC_URL": "http://meet.test:" + port}, "--resolver", dns)
		wantRow(t, rows, out, "DNS public name", "FAIL", "has no DNS record", "create an A")
	})

	t.Run("private node_ip behind a public name", func(t *testing.T) {
		dns := fakeDNS(t, map[string]string{"meet.example.test.": "198.51.100.7"})
		err, rows, out := runDoctor(t, env, map[string]string{
			"PARLEY_SERVER_PUBLIC_URL": "http://meet.example.test:" + port, "PARLEY_LIVEKIT_NODE_IP": "10.11.12.13"}, "--resolver", dns)
		if err == nil {
			t.Error("doctor succeeded with a private node_ip behind a public name")
		}
		wantRow(t, rows, out, "node_ip", "FAIL", "node_ip 10.11.12.13 (livekit.nodeIP) is private", "set livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP) to 198.51.100.7")
	})
}

// waitOwnLiveKit waits until the LiveKit on livekit.port accepts this Parley's key. A free
// port picked by a test can be taken by another process on a busy machine before LiveKit
// binds it; the supervisor then retries, and meanwhile the foreign LiveKit answers its probe.
func waitOwnLiveKit(t *testing.T, env []string) {
	t.Helper()
	cfg, _, err := config.Load("", func(k string) string { return envValue(env, k) })
	if err == nil {
		_, err = config.EnsureSecrets(&cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	rc := livekit.NewRoomClient(cfg.LiveKit.InternalHost, cfg.LiveKit.APIKey, cfg.LiveKit.APISecret, nil, 2*time.Second)
	eventually(t, 30*time.Second, "Parley's own LiveKit answers with its key", func() bool {
		_, err := rc.ListRooms(context.Background(), &lkp.ListRoomsRequest{})
		return err == nil
	})
}

// hostIPv4 is this machine's first IPv4 address other than loopback.
func hostIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no IPv4 address but loopback")
	return ""
}

type doctorItem struct{ Check, Status, Detail, Fix string }

// adminDoctor reads GET /api/admin/doctor as the bootstrap admin.
func adminDoctor(t *testing.T, addr string) []doctorItem {
	t.Helper()
	var body struct{ Items []doctorItem }
	adminGet(t, addr, "/api/admin/doctor", &body)
	return body.Items
}

// writeCert writes a self-signed certificate for names, valid from notBefore to notAfter.
func writeCert(t *testing.T, dir string, notBefore, notAfter time.Time, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: names, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestDoctorExpiredCertificate serves an expired certificate from a real Parley (HTTPS,
// TURN/TLS with the same certificate): the doctor names the expiry and the renewal fix.
func TestDoctorExpiredCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, time.Now().Add(-60*24*time.Hour), time.Now().Add(-3*24*time.Hour), "meet.test")
	port, httpPort := testenv.FreePort(t), testenv.FreePort(t)
	env := testEnv(t,
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=https://meet.test:%d", port),
		"PARLEY_SERVER_TLS_CERT="+cert, "PARLEY_SERVER_TLS_KEY="+key,
		fmt.Sprintf("PARLEY_LIVEKIT_TURN_UDP_PORT=%d", testenv.FreeUDPRange(t, 1)),
		fmt.Sprintf("PARLEY_LIVEKIT_TURN_TLS_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_SERVER_HTTP_LISTEN=127.0.0.1:%d", httpPort),
	)
	p := startParley(t, env)
	waitOwnLiveKit(t, env)
	dns := fakeDNS(t, map[string]string{"meet.test.": "127.0.0.1"})
	err, rows, out := runDoctor(t, env, nil, "--resolver", dns)
	if err == nil {
		t.Error("doctor succeeded with an expired certificate")
	}
	wantRow(t, rows, out, "certificate", "FAIL", "expired on", "(3 days ago)", "server.tls.acme.enabled")
	wantRow(t, rows, out, "port server.listen", "PASS", "(https)")
	wantRow(t, rows, out, "port server.httpListen", "PASS", "redirect to https://meet.test", "HTTP-01")
	// LiveKit posts webhooks to a loopback listener: the certificate does not stop them.
	wantRow(t, rows, out, "webhooks", "PASS", "arrived after")
	// TURN/TLS comes through Parley's own port; LiveKit advertises 443, which this test's
	// port is not.
	wantRow(t, rows, out, "TURN/TLS allocation", "WARN", "allocated relay", "through TURN/TLS "+p.addr, "turns:meet.test:443", fmt.Sprintf("forward TCP 443 to Parley's TLS port %d", port))
	// Browsers are sent to Parley's own wss:// origin, under the same expired certificate.
	wantRow(t, rows, out, "LiveKit signalling", "FAIL", fmt.Sprintf("the certificate of livekit.host wss://meet.test:%d", port), "expired on")
	t.Logf("\n%s", out)
}

func TestDoctorBadArguments(t *testing.T) {
	env := testEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--resolver", "1.1.1.1"}, `--resolver "1.1.1.1" must be host:port`},
		{[]string{"now"}, `unexpected argument "now"`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
	} {
		err, _, _ := runDoctor(t, env, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parley doctor %v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
