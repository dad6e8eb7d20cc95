package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// issue makes a certificate for names signed by parent (nil: self-signed CA).
func issue(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, from, until time.Time, ca bool, names ...string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test " + names[0]},
		NotBefore: from, NotAfter: until, DNSNames: names, IsCA: ca, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestJudgeCertificate(t *testing.T) {
	ca, caKey := issue(t, nil, nil, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0), true, "ca.example")
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	leaf := func(from, until time.Time, names ...string) []*x509.Certificate {
		c, _ := issue(t, ca, caKey, from, until, false, names...)
		return []*x509.Certificate{c}
	}
	selfSigned, _ := issue(t, nil, nil, now.AddDate(0, -1, 0), now.AddDate(0, 2, 0), false, "meet.example.com")
	for _, tc := range []struct {
		name   string
		chain  []*x509.Certificate
		self   bool
		status Status
		words  []string
	}{
		{"valid", leaf(now.AddDate(0, -1, 0), now.AddDate(0, 2, 0), "meet.example.com"), false, Pass, []string{"valid for meet.example.com until 2026-08-01 (61 days)"}},
		{"expired", leaf(now.AddDate(0, -3, 0), now.AddDate(0, 0, -2), "meet.example.com"), false, Fail, []string{"expired on 2026-05-30 (2 days ago)", "server.tls.acme.enabled"}},
		{"expiring soon", leaf(now.AddDate(0, -3, 0), now.AddDate(0, 0, 5), "meet.example.com"), false, Warn, []string{"in 5 days", "ACME errors"}},
		{"not yet valid", leaf(now.AddDate(0, 0, 1), now.AddDate(0, 3, 0), "meet.example.com"), false, Fail, []string{"clock"}},
		{"wrong name", leaf(now.AddDate(0, -1, 0), now.AddDate(0, 2, 0), "other.example.com"), false, Fail, []string{"is for other.example.com, not meet.example.com"}},
		{"self-signed", []*x509.Certificate{selfSigned}, false, Fail, []string{"not trusted", "server.tls.selfSigned"}},
		{"Parley's local CA", []*x509.Certificate{selfSigned}, true, Warn, []string{"local CA", "/ca.crt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantResult(t, judgeCertificate(tc.chain, "meet.example.com", roots, tc.self, now), tc.status, tc.words...)
		})
	}
}

// tlsServer serves /healthz as Parley does with cert on loopback.
func tlsServer(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestCertificateOverTLS(t *testing.T) {
	cert, key := issue(t, nil, nil, now.AddDate(0, -2, 0), now.AddDate(0, 0, -1), false, "meet.example.com")
	addr := tlsServer(t, cert, key)
	d := &doctor{t: Target{PublicURL: "https://meet.example.com", Listen: addr, TLS: true},
		e: Env{Now: func() time.Time { return now }, Dial: (&net.Dialer{}).DialContext}}
	wantResult(t, d.checkCertificate(context.Background()), Fail, "expired on 2026-05-31")
	wantResult(t, d.checkListen(context.Background()), Pass, "(https)")
}

func TestCertificateWithoutTLS(t *testing.T) {
	for _, tc := range []struct {
		url    string
		status Status
		words  []string
	}{
		{"http://localhost:8090", Pass, []string{"treat this machine as secure"}},
		{"http://meet.example.com", Fail, []string{"https pages only", "server.tls.acme.enabled"}},
		{"https://meet.example.com", Warn, []string{"TLS proxy"}},
	} {
		d := &doctor{t: Target{PublicURL: tc.url}}
		wantResult(t, d.checkCertificate(context.Background()), tc.status, tc.words...)
	}
}

// TestCertificateFileWhenParleyIsDown: with nothing answering, the doctor still reads the
// certificate Parley would serve and names its expiry.
func TestCertificateFileWhenParleyIsDown(t *testing.T) {
	cert, _ := issue(t, nil, nil, now.AddDate(0, -2, 0), now.AddDate(0, 0, -4), false, "meet.example.com")
	file := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := closedPort(t)
	env := Env{Now: func() time.Time { return now }, Dial: (&net.Dialer{}).DialContext}
	d := &doctor{t: Target{PublicURL: "https://meet.example.com", Listen: closed, TLS: true, CertFile: file}, e: env}
	wantResult(t, d.checkCertificate(context.Background()), Fail, "server.tls.cert "+file, "expired on 2026-05-28", "TLS handshake with "+closed)
	d.t.CertFile = ""
	wantResult(t, d.checkCertificate(context.Background()), Fail, "TLS handshake with "+closed+" failed")
}
