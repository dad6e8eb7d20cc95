package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
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

// pebble is a real ACME CA (letsencrypt/pebble, built by `make bin/pebble` from
// tools/pebble) on loopback, with pebble-challtestsrv as its DNS server: the validation
// authority resolves the test names there and connects to Parley's listeners for real.
type pebble struct {
	DirectoryURL string
	CARootFile   string         // PEM that signs pebble's own HTTPS (server.tls.acme.caRoot)
	Roots        *x509.CertPool // pebble's issuing root: what a client trusting the CA has
	out          *lockedBuffer
}

// pebbleOptions are the ports the validation authority connects to (Parley's listeners)
// and the validity of the certificates of pebble's profiles, in seconds.
type pebbleOptions struct {
	HTTPPort, TLSPort int
	Profiles          map[string]int
}

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

func pebbleBinary(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(testenv.RepoRoot(), "bin", name)
	if _, err := os.Stat(p); err != nil {
		testenv.SkipOrFail(t, name+" (make bin/pebble bin/pebble-challtestsrv)", err)
	}
	return p
}

// startPebble runs challtestsrv (answering meet.test and turn.meet.test with 127.0.0.1)
// and pebble until the test ends.
func startPebble(t *testing.T, o pebbleOptions) *pebble {
	t.Helper()
	pebbleBin, challBin := pebbleBinary(t, "pebble"), pebbleBinary(t, "pebble-challtestsrv")
	dir := t.TempDir()
	p := &pebble{out: &lockedBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble output:\n%s", p.out.String())
		}
	})

	// pebble's HTTPS certificate, from a throwaway local CA, trusted through CARootFile.
	certFile, keyFile := filepath.Join(dir, "pebble.crt"), filepath.Join(dir, "pebble.key")
	writeLeaf(t, filepath.Join(dir, "ca"), certFile, keyFile)
	p.CARootFile = filepath.Join(dir, "ca", caCertFile)

	dnsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	challMgmt := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	run(t, p.out, challBin, nil, "-dnsserver", dnsAddr, "-management", challMgmt,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv4", "", "-defaultIPv6", "")
	for _, host := range []string{"meet.test", "turn.meet.test"} {
		body := fmt.Sprintf(`{"host":%q,"addresses":["127.0.0.1"]}`, host)
		waitFor(t, "pebble-challtestsrv", 30*time.Second, func() bool {
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
	// order is validated against Parley's listeners.
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"}
	run(t, p.out, pebbleBin, env, "-config", cfgFile, "-dnsserver", dnsAddr)

	caPEM, _ := os.ReadFile(p.CARootFile)
	trust := x509.NewCertPool()
	trust.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust}}}
	p.DirectoryURL = "https://" + listen + "/dir"
	var root []byte
	waitFor(t, "pebble", 30*time.Second, func() bool {
		res, err := hc.Get("https://" + mgmt + "/roots/0")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		root, _ = io.ReadAll(res.Body)
		return res.StatusCode == http.StatusOK
	})
	p.Roots = x509.NewCertPool()
	if !p.Roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %q", root)
	}
	return p
}

// run starts a helper process that the test's end stops.
func run(t *testing.T, out io.Writer, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// parleySide is what Parley runs for ACME: its TLS listener and its plain-HTTP listener,
// and counters of the challenges the validation authority made against them.
type parleySide struct {
	tls, http      net.Listener
	mu             sync.Mutex
	alpnChallenges int
	httpChallenges int
}

func newParleySide(t *testing.T) *parleySide {
	return &parleySide{tls: listen(t), http: listen(t)}
}

func (s *parleySide) port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serve puts m behind both listeners, as server/wire_tls.go does.
func (s *parleySide) serve(t *testing.T, m *Manager) {
	t.Helper()
	serveTLS(t, s.tls, countingSource{m, s}, nil)
	redirect, err := RedirectHTTPS("https://meet.test")
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, s.http, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			s.mu.Lock()
			s.httpChallenges++
			s.mu.Unlock()
		}
		m.HTTPHandler(redirect).ServeHTTP(w, r)
	}))
}

func (s *parleySide) counts() (alpn, http int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alpnChallenges, s.httpChallenges
}

// countingSource counts the TLS-ALPN-01 handshakes.
type countingSource struct {
	m *Manager
	s *parleySide
}

func (c countingSource) TLSConfig() *tls.Config {
	cfg := c.m.TLSConfig()
	get := cfg.GetCertificate
	cfg.GetCertificate = func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		for _, p := range h.SupportedProtos {
			if p == ALPNChallenge {
				c.s.mu.Lock()
				c.s.alpnChallenges++
				c.s.mu.Unlock()
			}
		}
		return get(h)
	}
	return cfg
}
