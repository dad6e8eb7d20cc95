package certs

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newSelfSigned(t *testing.T, dir string, names ...string) *Manager {
	t.Helper()
	m, err := New(context.Background(), Options{Dir: dir, Names: names, SelfSigned: true, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func caPool(t *testing.T, der []byte) *x509.CertPool {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

// The CA is made once and kept: a restart serves a new leaf from the same CA, which a
// device that trusted the CA verifies for the names and addresses it was issued for.
func TestSelfSignedCAMadeOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	first := newSelfSigned(t, dir, "meet.lan", "127.0.0.1", "192.168.1.10", "localhost")
	fp := first.Fingerprint()
	if len(fp) != 95 || strings.Count(fp, ":") != 31 {
		t.Fatalf("fingerprint %q is not 32 colon-separated bytes", fp)
	}
	checkPrivate(t, dir)
	_ = first.Close()

	again := newSelfSigned(t, dir, "meet.lan", "127.0.0.1", "192.168.1.10", "localhost")
	if got := again.Fingerprint(); got != fp {
		t.Fatalf("restart made a new CA: fingerprint %s, want %s", got, fp)
	}
	ln := listen(t)
	serveTLS(t, ln, again, again.CAHandler(nil))
	roots := caPool(t, again.CACertificate())
	for _, name := range []string{"meet.lan", "localhost", "127.0.0.1"} {
		if _, err := handshake(t, ln.Addr().String(), name, roots); err != nil {
			t.Errorf("as %s: %v", name, err)
		}
	}
	if _, err := handshake(t, ln.Addr().String(), "example.com", roots); err == nil {
		t.Error("the leaf verified for example.com, a name it was not issued for")
	}
	leaf, _ := handshake(t, ln.Addr().String(), "meet.lan", roots)
	if leaf.IsCA || leaf.NotAfter.Sub(time.Now()) > 91*24*time.Hour {
		t.Errorf("leaf: CA %v, expires %v; want a non-CA leaf of about 90 days", leaf.IsCA, leaf.NotAfter)
	}
}

// The CA is name-constrained: it cannot vouch for a public name even if asked to, so the
// leaf leaves such a name out instead of issuing what browsers would reject.
func TestSelfSignedCACannotCertifyPublicNames(t *testing.T) {
	dir := t.TempDir()
	newSelfSigned(t, dir, "meet.lan").Close()
	m := newSelfSigned(t, dir, "meet.lan", "bank.example.com")
	ln := listen(t)
	serveTLS(t, ln, m, nil)
	roots := caPool(t, m.CACertificate())
	leaf, err := handshake(t, ln.Addr().String(), "meet.lan", roots)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(leaf.DNSNames, ",") != "meet.lan" {
		t.Fatalf("leaf names %v, want only meet.lan", leaf.DNSNames)
	}
	if _, err := New(context.Background(), Options{Dir: dir, Names: []string{"bank.example.com"}, SelfSigned: true, Log: testLog(t)}); err == nil {
		t.Fatal("a leaf with no name the CA may certify was accepted")
	}
}

// /ca.crt is the CA in DER with the installable type; /ca explains and shows the fingerprint.
func TestSelfSignedServesCA(t *testing.T) {
	m := newSelfSigned(t, t.TempDir(), "127.0.0.1")
	ln := listen(t)
	serveTLS(t, ln, m, m.CAHandler(http.NotFoundHandler()))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfigTrusting(caPool(t, m.CACertificate()))}}
	base := "https://" + ln.Addr().String()

	res, err := hc.Get(base + CACertPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/x-x509-ca-cert" || string(body) != string(m.CACertificate()) {
		t.Fatalf("%s: type %q, %d bytes; want the CA's DER as application/x-x509-ca-cert", CACertPath, ct, len(body))
	}
	res, err = hc.Get(base + CAPagePath)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{m.Fingerprint(), "cameras on this network", "Windows", "macOS", "Linux", "Android", "iPhone"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("%s does not say %q", CAPagePath, want)
		}
	}
	if res, err = hc.Get(base + "/other"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("/other: %v %v, want next handler's 404", res.StatusCode, err)
	}
}

// The leaf is renewed before it expires, without a restart, and the new one still chains
// to the same CA.
func TestSelfSignedLeafRenews(t *testing.T) {
	m, err := New(context.Background(), Options{Dir: t.TempDir(), Names: []string{"127.0.0.1"}, SelfSigned: true,
		Log: testLog(t), LeafValidity: 10 * time.Second, CheckInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	serveTLS(t, ln, m, nil)
	roots := caPool(t, m.CACertificate())
	first, err := handshake(t, ln.Addr().String(), "127.0.0.1", roots)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a renewed leaf", 30*time.Second, func() bool {
		leaf, err := handshake(t, ln.Addr().String(), "127.0.0.1", roots)
		return err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0
	})
}
