package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/certs/certstest"
	"github.com/parley/parley/internal/testenv"
	"gopkg.in/yaml.v3"
)

const (
	testAPIKey    = "tls-test-key"
	testAPISecret = "tls-test-secret-0123456789abcdef0123456789"
)

// httpsClient trusts roots and reaches every name at addr (what a DNS record would do).
func httpsClient(roots *x509.CertPool, addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext:     func(ctx context.Context, n, _ string) (net.Conn, error) { return d.DialContext(ctx, n, addr) },
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, hc *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func stopParley(t *testing.T, p *proc) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("parley did not stop")
	}
}

// webhookTarget is the URL the generated LiveKit config posts webhooks to.
func webhookTarget(t *testing.T, dataDir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "run", "livekit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var y struct {
		Webhook struct {
			URLs []string `yaml:"urls"`
		} `yaml:"webhook"`
	}
	if err := yaml.Unmarshal(raw, &y); err != nil || len(y.Webhook.URLs) != 1 {
		t.Fatalf("livekit.yaml webhook: %v %v", y.Webhook.URLs, err)
	}
	return y.Webhook.URLs[0]
}

// Self-signed mode through main: the CA's fingerprint is printed and the CA served on both
// listeners, HTTPS verifies with it, plain HTTP redirects, LiveKit's webhooks arrive over
// loopback HTTP although nothing there trusts the CA, and a restart keeps the CA.
func TestSelfSignedThroughMain(t *testing.T) {
	port, httpPort := testenv.FreePort(t), testenv.FreePort(t)
	env := testEnv(t,
		"PARLEY_SERVER_TLS_SELF_SIGNED=true",
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=https://127.0.0.1:%d", port),
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("PARLEY_SERVER_HTTP_LISTEN=127.0.0.1:%d", httpPort),
		"PARLEY_LIVEKIT_API_KEY="+testAPIKey, "PARLEY_LIVEKIT_API_SECRET="+testAPISecret)
	dataDir := envValue(env, "PARLEY_SERVER_DATA_DIR")
	p := startParley(t, env)
	m := regexp.MustCompile(`Local CA fingerprint \(SHA-256\): ([0-9A-F:]{95})`).FindStringSubmatch(p.Output())
	if m == nil {
		t.Fatalf("no CA fingerprint printed:\n%s", p.Output())
	}

	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, der := get(t, plain, fmt.Sprintf("http://127.0.0.1:%d/ca.crt", httpPort))
	if sum := sha256.Sum256(der); res.StatusCode != 200 || !strings.EqualFold(strings.ReplaceAll(m[1], ":", ""), fmt.Sprintf("%x", sum)) {
		t.Fatalf("/ca.crt over HTTP: %d, fingerprint %x, printed %s", res.StatusCode, sum, m[1])
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	hc := httpsClient(roots, p.addr)
	if res, _ := get(t, hc, "https://"+p.addr+"/readyz"); res.StatusCode != 200 {
		t.Fatalf("/readyz over HTTPS: %d", res.StatusCode)
	}
	if res, page := get(t, hc, "https://"+p.addr+"/ca"); res.StatusCode != 200 || !strings.Contains(string(page), m[1]) {
		t.Fatalf("/ca over HTTPS: %d, fingerprint shown: %v", res.StatusCode, strings.Contains(string(page), m[1]))
	}
	if res, _ := get(t, plain, fmt.Sprintf("http://127.0.0.1:%d/r/abc?x=1", httpPort)); res.StatusCode != http.StatusPermanentRedirect ||
		res.Header.Get("Location") != fmt.Sprintf("https://127.0.0.1:%d/r/abc?x=1", port) {
		t.Fatalf("plain HTTP: %d %q, want 308 to the https public URL", res.StatusCode, res.Header.Get("Location"))
	}

	// LiveKit posts to a loopback plain-HTTP listener that serves only the webhook route.
	hook := webhookTarget(t, dataDir)
	if !strings.HasPrefix(hook, "http://127.0.0.1:") || strings.Contains(hook, fmt.Sprint(port)) {
		t.Fatalf("webhook URL %s, want plain HTTP on its own loopback port", hook)
	}
	if res, _ := get(t, plain, strings.TrimSuffix(hook, "/api/livekit/webhook")+"/readyz"); res.StatusCode != http.StatusNotFound {
		t.Errorf("the webhook listener serves /readyz (%d): it must serve the webhook route only", res.StatusCode)
	}
	waitWebhook(t, env, hc, "https://"+p.addr)
	stopParley(t, p)

	again := startParley(t, env)
	if !strings.Contains(again.Output(), m[1]) {
		t.Fatalf("restart printed another CA:\n%s", again.Output())
	}
	if res, _ := get(t, httpsClient(roots, again.addr), "https://"+again.addr+"/readyz"); res.StatusCode != 200 {
		t.Fatalf("after restart /readyz: %d", res.StatusCode)
	}
}

// ACME through main: Parley obtains a certificate for meet.test from a real ACME CA
// (pebble validating TLS-ALPN-01 against Parley's port), serves it, keeps it private and
// serves the stored one after a restart without a new order.
func TestACMEThroughMain(t *testing.T) {
	port := testenv.FreePort(t)
	pb := certstest.Start(t, certstest.Options{TLSPort: port, Names: []string{"meet.test"}})
	env := testEnv(t,
		"PARLEY_SERVER_TLS_ACME_ENABLED=true",
		"PARLEY_SERVER_TLS_ACME_DIRECTORY_URL="+pb.DirectoryURL,
		"PARLEY_SERVER_TLS_ACME_CA_ROOT="+pb.CARootFile,
		"PARLEY_SERVER_TLS_ACME_EMAIL=ops@meet.test",
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=https://meet.test:%d", port),
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port))
	p := startParley(t, env)
	hc := httpsClient(pb.Roots, p.addr)
	url := fmt.Sprintf("https://meet.test:%d/readyz", port)
	if res, _ := get(t, hc, url); res.StatusCode != 200 {
		t.Fatalf("/readyz over HTTPS: %d", res.StatusCode)
	}
	res, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	serial := res.TLS.PeerCertificates[0].SerialNumber
	certsDir := filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "certs")
	_ = filepath.WalkDir(certsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		if want := map[bool]os.FileMode{true: 0o700, false: 0o600}[d.IsDir()]; fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})
	issued := pb.Issued()
	stopParley(t, p)

	again := startParley(t, env)
	res, err = httpsClient(pb.Roots, again.addr).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.TLS.PeerCertificates[0].SerialNumber; got.Cmp(serial) != 0 || pb.Issued() != issued {
		t.Fatalf("after restart: serial %x (was %x), %d issued (was %d); want the stored certificate", got, serial, pb.Issued(), issued)
	}
}

// waitWebhook creates a room in LiveKit directly and waits until Parley has stored the
// room_started webhook LiveKit posts for it.
func waitWebhook(t *testing.T, env []string, hc *http.Client, base string) {
	t.Helper()
	lkURL := "http://127.0.0.1:" + envValue(env, "PARLEY_LIVEKIT_PORT")
	if _, err := lksdk.NewRoomServiceClient(lkURL, testAPIKey, testAPISecret).CreateRoom(context.Background(), &livekit.CreateRoomRequest{Name: "webhook-probe"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "LiveKit's room_started webhook", func() bool {
		_, metrics := get(t, hc, base+"/metrics")
		return regexp.MustCompile(`(?m)^parley_webhook_batch_events_count [1-9]`).Match(metrics)
	})
}

// With server.listen on port 0 (tests, socket activation) LiveKit still gets a webhook URL:
// the loopback webhook listener does not depend on server.listen.
func TestWebhooksWithEphemeralListenPort(t *testing.T) {
	env := testEnv(t, "PARLEY_SERVER_LISTEN=127.0.0.1:0", "PARLEY_SERVER_PUBLIC_URL=http://127.0.0.1",
		"PARLEY_LIVEKIT_API_KEY="+testAPIKey, "PARLEY_LIVEKIT_API_SECRET="+testAPISecret)
	p := startParley(t, env)
	if hook := webhookTarget(t, envValue(env, "PARLEY_SERVER_DATA_DIR")); !strings.HasPrefix(hook, "http://127.0.0.1:") {
		t.Fatalf("webhook URL %q", hook)
	}
	waitWebhook(t, env, &http.Client{Timeout: 10 * time.Second}, "http://"+p.addr)
}
