package browser

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley/parley/internal/certs/certstest"
	"github.com/parley/parley/internal/testenv"
)

// TestMeetingOverACMEHTTPS: Parley gets its certificate for meet.test from a real ACME CA
// (pebble, TLS-ALPN-01 on Parley's port), Chromium opens https://meet.test:<port> (the
// name mapped to loopback, pebble's CA accepted), the page is a secure context with the
// camera, and two users see each other's video.
//
// LiveKit's signalling goes to ws://127.0.0.1:<livekit.port> (loopback is no mixed content)
// until Parley proxies it on its own port; then drop PARLEY_LIVEKIT_HOST below and check
// that the page's only TCP connections go to Parley's port.
func TestMeetingOverACMEHTTPS(t *testing.T) {
	port, lkPort := testenv.FreePort(t), testenv.FreePort(t)
	pb := certstest.Start(t, certstest.Options{TLSPort: port, Names: []string{"meet.test"}})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pb.Roots},
		DialContext:     func(ctx context.Context, n, _ string) (net.Conn, error) { return dialer.DialContext(ctx, n, addr) },
	}}
	url := fmt.Sprintf("https://meet.test:%d", port)
	s := startParleyWith(t, launch{port: port, url: url, client: client, env: []string{
		"PARLEY_SERVER_TLS_ACME_ENABLED=true",
		"PARLEY_SERVER_TLS_ACME_DIRECTORY_URL=" + pb.DirectoryURL,
		"PARLEY_SERVER_TLS_ACME_CA_ROOT=" + pb.CARootFile,
		fmt.Sprintf("PARLEY_LIVEKIT_PORT=%d", lkPort),
		fmt.Sprintf("PARLEY_LIVEKIT_HOST=ws://127.0.0.1:%d", lkPort),
	}})

	// Chromium accepts the chain by pebble's intermediate key: the served chain's second
	// certificate, which the Go client above has verified against pebble's root.
	res, err := client.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	chain := res.TLS.PeerCertificates
	if len(chain) < 2 {
		t.Fatalf("served chain has %d certificates, want leaf and intermediate", len(chain))
	}
	spki := sha256.Sum256(chain[1].RawSubjectPublicKeyInfo)
	browser := newBrowserWith(t,
		chromedp.Flag("host-resolver-rules", "MAP meet.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))

	alice := newPage(t, browser, s, "alice")
	if got := alice.evalString(`window.isSecureContext && location.protocol === 'https:' && !!navigator.mediaDevices`); got != "true" {
		t.Fatalf("https://meet.test is not a secure context with media devices: %s", got)
	}
	bob := newPage(t, browser, s, "bob")
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	room := alice.createRoom("HTTPS "+uniq(""), true, false)
	alice.join(room, "")
	bob.join(room, "")
	alice.waitRemoteVideoPlaying(bob.identity())
	bob.waitRemoteVideoPlaying(alice.identity())
	alice.screenshot("sees-bob-over-https")
}
