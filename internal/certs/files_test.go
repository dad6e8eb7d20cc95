package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func tlsConfigTrusting(roots *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: roots} }

// writeLeaf has a throwaway local CA issue a pair for 127.0.0.1 into certFile/keyFile and
// returns the CA's pool.
func writeLeaf(t *testing.T, caDir, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	if err := privateDir(caDir); err != nil {
		t.Fatal(err)
	}
	ca, err := newLocalCA(Options{Dir: caDir, Names: []string{"127.0.0.1"}, Now: time.Now, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	leaf := ca.leaf.Load()
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, der := range leaf.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Files the user brings are served and re-read when they change (a certbot renewal); a
// half-written pair keeps the previous certificate.
func TestFilesReloadWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	caDir := filepath.Join(dir, "ca")
	roots := writeLeaf(t, caDir, certFile, keyFile)
	m, err := New(context.Background(), Options{CertFile: certFile, KeyFile: keyFile, Log: testLog(t), CheckInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	serveTLS(t, ln, m, nil)
	first, err := handshake(t, ln.Addr().String(), "127.0.0.1", roots)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // several checks see the broken pair
	if leaf, err := handshake(t, ln.Addr().String(), "127.0.0.1", roots); err != nil || leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatalf("a broken pair replaced the certificate (err %v)", err)
	}

	writeLeaf(t, caDir, certFile, keyFile) // same CA, new leaf
	waitFor(t, "the new certificate", 20*time.Second, func() bool {
		leaf, err := handshake(t, ln.Addr().String(), "127.0.0.1", roots)
		return err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0
	})
}

// Modes are exclusive and a missing file fails at start with the key's name.
func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"none":          {},
		"two modes":     {CertFile: "a", KeyFile: "b", SelfSigned: true, Dir: t.TempDir(), Names: []string{"x.lan"}},
		"missing files": {CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"},
		"no names":      {SelfSigned: true, Dir: t.TempDir()},
		"acme with IP":  {ACME: &ACME{TLSAddr: "127.0.0.1:1"}, Dir: t.TempDir(), Names: []string{"127.0.0.1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(context.Background(), o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
