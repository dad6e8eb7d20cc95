package certs

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley/parley/internal/certs/certstest"
)

var testNames = []string{"meet.test", "turn.meet.test"}

func newACMEManager(t *testing.T, p *certstest.Pebble, dir string, side *parleySide, a ACME, checkEvery time.Duration) *Manager {
	t.Helper()
	a.DirectoryURL, a.CARootFile, a.TLSAddr = p.DirectoryURL, p.CARootFile, side.tls.Addr().String()
	m, err := New(context.Background(), Options{Dir: dir, Names: testNames,
		ACME: &a, Log: testLog(t), CheckInterval: checkEvery})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	side.serve(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// The certificate for meet.test (and the TURN name) is obtained through TLS-ALPN-01 on
// Parley's TLS listener, verifies for a client that trusts the CA, is stored privately, and
// a restart serves it again without a new order.
func TestACMEObtainsByTLSALPN(t *testing.T) {
	side := newParleySide(t)
	p := certstest.Start(t, certstest.Options{Names: testNames, TLSPort: side.port(side.tls), HTTPPort: side.port(side.http), Profiles: map[string]int{"default": 7776000}})
	dir := filepath.Join(t.TempDir(), "certs")
	m := newACMEManager(t, p, dir, side, ACME{}, 0)

	leaf := mustVerify(t, side.tls.Addr().String(), "meet.test", p.Roots)
	mustVerify(t, side.tls.Addr().String(), "turn.meet.test", p.Roots)
	if alpn, h := side.counts(); alpn == 0 || h != 0 {
		t.Fatalf("challenges: %d TLS-ALPN-01, %d HTTP-01; want TLS-ALPN-01 only", alpn, h)
	}
	checkPrivate(t, dir)
	orders := p.Issued()
	_ = m.Close()

	again := newParleySide(t)
	newACMEManager(t, p, dir, again, ACME{}, 0)
	if got := mustVerify(t, again.tls.Addr().String(), "meet.test", p.Roots); got.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("after a restart: serial %x, want the stored %x", got.SerialNumber, leaf.SerialNumber)
	}
	if p.Issued() != orders {
		t.Fatalf("the restart ordered again (%d certificates issued, was %d)", p.Issued(), orders)
	}
}

// HTTP-01 is answered on the plain-HTTP listener, which redirects everything else to https.
func TestACMEObtainsByHTTP01(t *testing.T) {
	side := newParleySide(t)
	p := certstest.Start(t, certstest.Options{Names: testNames, TLSPort: side.port(side.tls), HTTPPort: side.port(side.http), Profiles: map[string]int{"default": 7776000}})
	newACMEManager(t, p, t.TempDir(), side, ACME{HTTPAddr: side.http.Addr().String(), DisableTLSALPN: true}, 0)

	mustVerify(t, side.tls.Addr().String(), "meet.test", p.Roots)
	if alpn, h := side.counts(); alpn != 0 || h == 0 {
		t.Fatalf("challenges: %d TLS-ALPN-01, %d HTTP-01; want HTTP-01 only", alpn, h)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get("http://" + side.http.Addr().String() + "/room/abc?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusPermanentRedirect || loc != "https://meet.test/room/abc?x=1" {
		t.Fatalf("plain HTTP: %d %q, want 308 to https://meet.test/room/abc?x=1", res.StatusCode, loc)
	}
}

// A short-lived certificate is renewed in the background; new handshakes get the new one
// while a connection opened before (a meeting's signalling) stays up and keeps working.
func TestACMERenewsWhileConnectionStaysOpen(t *testing.T) {
	side := newParleySide(t)
	p := certstest.Start(t, certstest.Options{Names: testNames, TLSPort: side.port(side.tls), HTTPPort: side.port(side.http),
		Profiles: map[string]int{"default": 7776000, "short": 20}})
	newACMEManager(t, p, t.TempDir(), side, ACME{Profile: "short"}, time.Second)
	addr := side.tls.Addr().String()
	first := mustVerify(t, addr, "meet.test", p.Roots)
	if life := first.NotAfter.Sub(first.NotBefore); life > time.Minute {
		t.Fatalf("certificate lifetime %v: the short profile was not used", life)
	}

	meeting, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "meet.test", RootCAs: p.Roots, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer meeting.Close()
	r := bufio.NewReader(meeting)
	roundTrip(t, meeting, r)

	waitFor(t, "the renewed certificate", 90*time.Second, func() bool {
		leaf, err := handshake(t, addr, "meet.test", p.Roots)
		return err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	roundTrip(t, meeting, r)
	if got := meeting.ConnectionState().PeerCertificates[0]; got.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatal("the open connection changed certificate")
	}
}

func mustVerify(t *testing.T, addr, name string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	leaf, err := handshake(t, addr, name, roots)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return leaf
}

// roundTrip sends one HTTP/1.1 request on an open connection and reads the answer.
func roundTrip(t *testing.T, c *tls.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: meet.test\r\n\r\n"); err != nil {
		t.Fatalf("the open connection broke: %v", err)
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the open connection broke: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
}
