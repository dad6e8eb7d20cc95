package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/parley/parley/internal/certs/certstest"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestACMERenewalDuringMeeting: with a short-lived certificate from a real ACME CA (pebble's
// "short" profile), Parley renews it in the background while a meeting runs through its one
// port: the participants' signalling (wss through the proxy) and a TURN/TLS connection
// opened before the renewal keep working, new handshakes (HTTPS and TURN/TLS alike) get the
// new certificate, media keeps flowing, and LiveKit is never restarted.
func TestACMERenewalDuringMeeting(t *testing.T) {
	port := testenv.FreePort(t)
	// A minute's validity: certmagic renews with a third of it left, so the certificate
	// in service never expires while the renewal order runs on a loaded machine.
	pb := certstest.Start(t, certstest.Options{TLSPort: port, Names: []string{"meet.test"},
		Profiles: map[string]int{"default": 7776000, "short": 60}})
	env := testEnv(t,
		"PARLEY_SERVER_TLS_ACME_ENABLED=true",
		"PARLEY_SERVER_TLS_ACME_DIRECTORY_URL="+pb.DirectoryURL,
		"PARLEY_SERVER_TLS_ACME_CA_ROOT="+pb.CARootFile,
		"PARLEY_SERVER_TLS_ACME_PROFILE=short",
		"PARLEY_SERVER_TLS_ACME_RENEW_CHECK_INTERVAL=1s",
		"PARLEY_LIVEKIT_NODE_IP=127.0.0.1",
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=https://meet.test:%d", port),
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port))
	p := startParley(t, env)
	trustForSignalling(t, pb.Roots, p.addr)
	c := client{t: t, base: fmt.Sprintf("https://meet.test:%d", port), http: httpsClient(pb.Roots, p.addr)}
	code, login := c.do("POST", "/api/auth/login", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	c.token = login["accessToken"].(string)
	first := servedCert(t, p.addr, pb.Roots)
	if life := first.NotAfter.Sub(first.NotBefore); life > 2*time.Minute {
		t.Fatalf("certificate lifetime %v: server.tls.acme.profile did not reach the CA", life)
	}
	startedAt := liveKitStartedAt(t, c)

	host, guest := meeting(t, c, "renewal")
	if want := fmt.Sprintf("wss://meet.test:%d", port); host["url"] != want {
		t.Fatalf("join url %v, want %s", host["url"], want)
	}
	m, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Seconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lktest.Publish(host["url"].(string), host["token"].(string), m, lktest.PublishOptions{Quiet: true})
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	defer pub.Close()
	sub := receiveVideo(t, guest["url"].(string), guest["token"].(string))
	eventually(t, 30*time.Second, "video packets before the renewal", func() bool { return sub.packets.Load() >= 50 })
	turn := dialTURNTLS(t, p.addr, pb.Roots)
	stunBinding(t, turn)
	// The certificate in use when the meeting is under way: the renewal to watch for is
	// the one that replaces it (certmagic may already have renewed the first one).
	inUse := turn.ConnectionState().PeerCertificates[0]

	var renewed *x509.Certificate
	took := eventually(t, 3*time.Minute, "a renewed certificate on Parley's port", func() bool {
		renewed = servedCert(t, p.addr, pb.Roots)
		return renewed.SerialNumber.Cmp(inUse.SerialNumber) != 0
	})
	before := sub.packets.Load()
	eventually(t, 30*time.Second, "video packets after the renewal", func() bool { return sub.packets.Load() >= before+50 })
	t.Logf("certificate %x (valid %v) in use by the meeting, renewed as %x %v later; %d video packets by then, %d now",
		inUse.SerialNumber, inUse.NotAfter.Sub(inUse.NotBefore), renewed.SerialNumber, took, before, sub.packets.Load())
	if n := sub.interruptions.Load(); n != 0 {
		t.Errorf("the subscriber's connection was interrupted %d times during the renewal", n)
	}
	stunBinding(t, turn) // the TURN/TLS connection from before the renewal still relays
	if got := turn.ConnectionState().PeerCertificates[0]; got.SerialNumber.Cmp(inUse.SerialNumber) != 0 {
		t.Error("the open TURN/TLS connection changed certificate")
	}
	fresh := dialTURNTLS(t, p.addr, pb.Roots)
	if got := fresh.ConnectionState().PeerCertificates[0]; got.SerialNumber.Cmp(inUse.SerialNumber) == 0 {
		t.Error("a new TURN/TLS handshake still gets the old certificate")
	}
	stunBinding(t, fresh)
	if again := liveKitStartedAt(t, c); !again.Equal(startedAt) {
		t.Errorf("LiveKit was restarted by the renewal (started %v, now %v)", startedAt, again)
	}
}

// servedCert is the leaf a new HTTPS handshake with meet.test gets, verified against roots.
func servedCert(t *testing.T, addr string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "meet.test", RootCAs: roots, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("TLS handshake with meet.test: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// dialTURNTLS opens a TURN/TLS connection as a browser does: TLS to meet.test, no ALPN.
func dialTURNTLS(t *testing.T, addr string, roots *x509.CertPool) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "meet.test", RootCAs: roots})
	if err != nil {
		t.Fatalf("TURN/TLS handshake: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stunBinding sends a STUN Binding request (RFC 5389) on c and wants LiveKit's TURN server's
// Binding success answer with the same transaction id.
func stunBinding(t *testing.T, c *tls.Conn) {
	t.Helper()
	req := make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:], 0x0001) // Binding request, no attributes
	binary.BigEndian.PutUint32(req[4:], 0x2112A442)
	if _, err := rand.Read(req[8:20]); err != nil {
		t.Fatal(err)
	}
	if !edge.IsSTUN(req) {
		t.Fatal("the request does not look like STUN to the mux")
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(req); err != nil {
		t.Fatalf("STUN over TURN/TLS: write: %v", err)
	}
	head := make([]byte, 20)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatalf("STUN over TURN/TLS: no answer: %v", err)
	}
	if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(head[2:]))); err != nil {
		t.Fatalf("STUN over TURN/TLS: short answer: %v", err)
	}
	if typ := binary.BigEndian.Uint16(head[0:]); typ != 0x0101 || string(head[8:20]) != string(req[8:20]) {
		t.Fatalf("STUN over TURN/TLS: answer type %#04x (want Binding success 0x0101) or another transaction", typ)
	}
}

// liveKitStartedAt is when the current LiveKit process started, from the admin overview.
func liveKitStartedAt(t *testing.T, c client) time.Time {
	t.Helper()
	code, out := c.do(http.MethodGet, "/api/admin/overview", nil)
	lk, _ := out["livekit"].(map[string]any)
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(lk["startedAt"]))
	if code != 200 || err != nil {
		t.Fatalf("admin overview: %d %v (%v)", code, out, err)
	}
	return at
}
