package browser

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley/parley/internal/certs/certstest"
	"github.com/parley/parley/internal/testenv"
)

// TestMeetingOverACMEHTTPS: Parley gets its certificate for meet.test from a real ACME CA
// (pebble, TLS-ALPN-01 on Parley's port), Chromium opens https://meet.test:<port> (the
// name mapped to loopback, pebble's CA accepted), the page is a secure context with the
// camera, two users see each other's video, and every URL the pages fetched or opened a
// WebSocket to (LiveKit's signalling included) is on Parley's one port.
func TestMeetingOverACMEHTTPS(t *testing.T) {
	port := testenv.FreePort(t)
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
		"PARLEY_LIVEKIT_NODE_IP=127.0.0.1",
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
	meetTwo(alice, bob, "HTTPS")
	alice.screenshot("sees-bob-over-https")

	for _, p := range []*page{alice, bob} {
		urls := p.requested()
		signalling := 0
		for _, u := range urls {
			if strings.HasPrefix(u, "wss://meet.test:"+fmt.Sprint(port)+"/rtc") {
				signalling++
			}
			if !onPort(u, url) {
				t.Errorf("%s requested %s: not Parley's origin %s", p.name, redact(u), url)
			}
		}
		if signalling == 0 {
			t.Errorf("%s opened no signalling WebSocket to wss://meet.test:%d/rtc (saw %d URLs)", p.name, port, len(urls))
		}
		t.Logf("%s: %d URLs requested, %d of them signalling WebSockets to wss://meet.test:%d/rtc", p.name, len(urls), signalling, port)
	}
}

// onPort: u goes to origin (https or wss) or never leaves the page (data:, blob:).
func onPort(u, origin string) bool {
	if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
		return true
	}
	host := strings.TrimPrefix(origin, "https://")
	return strings.HasPrefix(u, origin+"/") || u == origin || strings.HasPrefix(u, "wss://"+host+"/")
}
