package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
	"github.com/pion/webrtc/v4"
)

// trustForSignalling makes the SDK's signalling dialer (gorilla's DefaultDialer: the SDK
// takes no TLS settings) trust pool for this test and, when addr is set, reach every name
// at addr (what a DNS record would do).
func trustForSignalling(t *testing.T, pool *x509.CertPool, addr string) {
	old := websocket.DefaultDialer
	d := *old
	d.TLSClientConfig = &tls.Config{RootCAs: pool}
	if addr != "" {
		nd := &net.Dialer{Timeout: 5 * time.Second}
		d.NetDialContext = func(ctx context.Context, n, _ string) (net.Conn, error) { return nd.DialContext(ctx, n, addr) }
	}
	websocket.DefaultDialer = &d
	t.Cleanup(func() { websocket.DefaultDialer = old })
}

// meeting creates a guest room as the admin and returns two join answers: the admin's and a
// guest's.
func meeting(t *testing.T, c client, room string) (host, guest map[string]any) {
	t.Helper()
	if code, out := c.do("POST", "/api/rooms", map[string]any{"name": room, "allowGuests": true, "public": true}); code != 201 {
		t.Fatalf("create room: %d %v", code, out)
	}
	code, host := c.do("POST", "/api/rooms/"+room+"/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join: %d %v", code, host)
	}
	g := client{t: t, base: c.base, http: c.http}
	code, guest = g.do("POST", "/api/rooms/"+room+"/join", map[string]any{"displayName": "Guest"})
	if code != 200 {
		t.Fatalf("guest join: %d %v", code, guest)
	}
	return host, guest
}

// subscriber counts what a receiving participant got: RTP packets of the first video track
// it subscribed to, and how often its connection to the meeting was interrupted.
type subscriber struct {
	packets, interruptions atomic.Int64
}

// receiveVideo joins with token as a subscriber.
func receiveVideo(t *testing.T, url, token string, opts ...lksdk.ConnectOption) *subscriber {
	t.Helper()
	var s subscriber
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		if track.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				s.packets.Add(1)
			}
		}()
	}
	cb.OnReconnecting = func() { s.interruptions.Add(1) }
	cb.OnDisconnected = func() { s.interruptions.Add(1) }
	r, err := lksdk.ConnectToRoomWithToken(url, token, cb, opts...)
	if err != nil {
		t.Fatalf("subscriber connect to %s: %v", url, err)
	}
	t.Cleanup(r.Disconnect)
	return &s
}

// mediaFlows publishes from host and waits until guest received video frames.
func mediaFlows(t *testing.T, host, guest map[string]any) {
	t.Helper()
	m, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Seconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lktest.Publish(host["url"].(string), host["token"].(string), m, lktest.PublishOptions{Quiet: true})
	if err != nil {
		t.Fatalf("publisher connect to %s: %v", host["url"], err)
	}
	defer pub.Close()
	got := receiveVideo(t, guest["url"].(string), guest["token"].(string))
	eventually(t, 20*time.Second, "video packets through the proxied meeting", func() bool { return got.packets.Load() >= 50 })
}

// TestSignallingThroughParleyPort: in embedded mode the join answer's url is Parley's own
// origin, and real participants join through the signalling proxy (WebSocket tunnels to
// LiveKit on loopback) and exchange media, over ws:// and over wss:// with Parley's
// certificate.
func TestSignallingThroughParleyPort(t *testing.T) {
	t.Run("ws", func(t *testing.T) {
		p := startParley(t, testEnv(t))
		c := loginAdmin(t, p.addr)
		host, guest := meeting(t, c, "edge-ws")
		if want := "ws://" + p.addr; host["url"] != want || guest["url"] != want {
			t.Fatalf("join url = %v / %v, want %s (Parley's own origin)", host["url"], guest["url"], want)
		}
		mediaFlows(t, host, guest)
		assertProxied(t, p)
	})
	t.Run("wss", func(t *testing.T) {
		cert := testenv.SelfSignedCert(t, "127.0.0.1", "localhost")
		certFile, keyFile, pool := cert.CertFile, cert.KeyFile, cert.Pool
		port := testenv.FreePort(t)
		env := testEnv(t, fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port), fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=https://127.0.0.1:%d", port),
			"PARLEY_SERVER_TLS_CERT="+certFile, "PARLEY_SERVER_TLS_KEY="+keyFile)
		p := startParley(t, env)
		trustForSignalling(t, pool, "")
		c := client{t: t, base: "https://" + p.addr, http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
		code, login := c.do("POST", "/api/auth/login", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
		if code != 200 {
			t.Fatalf("login: %d %v", code, login)
		}
		c.token = login["accessToken"].(string)
		host, guest := meeting(t, c, "edge-wss")
		if want := "wss://" + p.addr; host["url"] != want {
			t.Fatalf("join url = %v, want %s", host["url"], want)
		}
		mediaFlows(t, host, guest)
		assertProxied(t, p)
	})
}

// assertProxied checks that the SDKs' signalling went through Parley (101 answers in its
// access log) and that LiveKit's HTTP port was bound to loopback only.
func assertProxied(t *testing.T, p *proc) {
	t.Helper()
	out := p.Output()
	if strings.Count(out, "path=/rtc") < 2 || !strings.Contains(out, "status=101") {
		t.Errorf("Parley's access log shows no proxied signalling upgrades (path=/rtc ... status=101)")
	}
	cfg, err := os.ReadFile(filepath.Join(envValue(p.cmd.Env, "PARLEY_SERVER_DATA_DIR"), "run", "livekit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "bind_addresses:\n  - 127.0.0.1\n") {
		t.Errorf("LiveKit's HTTP port is not bound to loopback:\n%s", cfg)
	}
}
