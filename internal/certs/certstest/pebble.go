// Package certstest runs a real ACME CA for tests: Let's Encrypt's pebble with
// pebble-challtestsrv as its DNS server (both built by `make bin/pebble` from tools/pebble),
// on loopback with free ports. The validation authority resolves the test names to
// 127.0.0.1 and connects to the ports the test gives it, so TLS-ALPN-01 and HTTP-01 are
// validated for real against the server under test.
package certstest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// Pebble is a running ACME CA.
type Pebble struct {
	DirectoryURL string         // server.tls.acme.directoryURL
	CARootFile   string         // PEM that signs pebble's own HTTPS: server.tls.acme.caRoot
	Roots        *x509.CertPool // pebble's issuing root, what a client trusting the CA has
	RootPEM      []byte
	out          *lockedBuffer
}

// Options are the ports pebble's validation authority connects to (the server under
// test), the names challtestsrv resolves to 127.0.0.1, and the certificate profiles
// (name -> validity in seconds; "default" is used when a client asks for none).
type Options struct {
	HTTPPort, TLSPort int
	Names             []string
	Profiles          map[string]int
}

// Issued counts the certificates pebble issued so far (new orders and renewals).
func (p *Pebble) Issued() int { return strings.Count(p.out.String(), "Issued certificate serial") }

// Output is pebble's and challtestsrv's log.
func (p *Pebble) Output() string { return p.out.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Binary returns bin/<name>, or skips (fails with PARLEY_REQUIRE_SERVICES=1) when absent.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(testenv.RepoRoot(), "bin", name)
	if _, err := os.Stat(p); err != nil {
		testenv.SkipOrFail(t, name+" (make bin/pebble bin/pebble-challtestsrv)", err)
	}
	return p
}

// Start runs challtestsrv and pebble until the test ends.
func Start(t testing.TB, o Options) *Pebble {
	t.Helper()
	pebbleBin, challBin := Binary(t, "pebble"), Binary(t, "pebble-challtestsrv")
	if len(o.Profiles) == 0 {
		o.Profiles = map[string]int{"default": 90 * 24 * 3600}
	}
	dir := t.TempDir()
	p := &Pebble{out: &lockedBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble output:\n%s", p.out.String())
		}
	})
	certFile, keyFile := filepath.Join(dir, "pebble.crt"), filepath.Join(dir, "pebble.key")
	writeSelfSigned(t, certFile, keyFile)
	p.CARootFile = certFile

	dnsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	challMgmt := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	run(t, p.out, challBin, nil, "-dnsserver", dnsAddr, "-management", challMgmt,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv4", "", "-defaultIPv6", "")
	for _, host := range o.Names {
		body := fmt.Sprintf(`{"host":%q,"addresses":["127.0.0.1"]}`, host)
		waitFor(t, "pebble-challtestsrv", func() bool {
			res, err := http.Post("http://"+challMgmt+"/add-a", "application/json", strings.NewReader(body))
			if err == nil {
				res.Body.Close()
			}
			return err == nil && res.StatusCode == http.StatusOK
		})
	}

	listen := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	mgmt := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	profiles := map[string]any{}
	for name, secs := range o.Profiles {
		profiles[name] = map[string]any{"description": name, "validityPeriod": secs}
	}
	cfg, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": certFile, "privateKey": keyFile,
		"httpPort": o.HTTPPort, "tlsPort": o.TLSPort,
		"keyAlgorithm": "ecdsa", "profiles": profiles,
		"retryAfter": map[string]int{"authz": 1, "order": 1},
	}})
	cfgFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	// No random validation delays, no injected bad nonces, no reused authorizations: every
	// order is validated against the server under test.
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"}
	run(t, p.out, pebbleBin, env, "-config", cfgFile, "-dnsserver", dnsAddr)

	caPEM, _ := os.ReadFile(certFile)
	trust := x509.NewCertPool()
	trust.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust}}}
	p.DirectoryURL = "https://" + listen + "/dir"
	waitFor(t, "pebble", func() bool {
		res, err := hc.Get("https://" + mgmt + "/roots/0")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		p.RootPEM, _ = io.ReadAll(res.Body)
		return res.StatusCode == http.StatusOK
	})
	p.Roots = x509.NewCertPool()
	if !p.Roots.AppendCertsFromPEM(p.RootPEM) {
		t.Fatalf("pebble's root is not PEM: %q", p.RootPEM)
	}
	return p
}

// run starts a helper process that the test's end stops.
func run(t testing.TB, out io.Writer, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// waitFor polls until the process answers; the limit only bounds a broken run.
func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 (pebble's HTTPS).
func writeSelfSigned(t testing.TB, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test listener"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}
