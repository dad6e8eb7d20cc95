package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/twitchtv/twirp"
)

func realDial() Env {
	return Env{Dial: (&net.Dialer{}).DialContext, InterfaceAddrs: net.InterfaceAddrs}
}

// closedPort is a loopback port nothing listens on (bound, then released).
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

func TestListen(t *testing.T) {
	parley := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			fmt.Fprint(w, `{"status":"ok"}`)
			return
		}
		http.NotFound(w, r)
	})
	other := serve(t, http.NotFound)
	closed := closedPort(t)
	_, port, _ := net.SplitHostPort(parley)
	for _, tc := range []struct {
		name, listen string
		status       Status
		words        []string
	}{
		{"Parley answers", parley, Pass, []string{"Parley answers on " + parley}},
		{"every interface", ":" + port, Pass, []string{"127.0.0.1:" + port}},
		{"another program", other, Fail, []string{"taken by another program", "404", "server.listen (PARLEY_SERVER_LISTEN)"}},
		{"nothing", closed, Fail, []string{"nothing listens on " + closed, "start Parley"}},
		{"bad address", "nonsense", Fail, []string{"server.listen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{PublicURL: "http://localhost", Listen: tc.listen}, e: realDial()}
			wantResult(t, d.checkListen(context.Background()), tc.status, tc.words...)
		})
	}
	t.Run("plain HTTP where TLS is expected", func(t *testing.T) {
		d := &doctor{t: Target{PublicURL: "https://localhost", Listen: parley, TLS: true}, e: realDial()}
		wantResult(t, d.checkListen(context.Background()), Fail, "not as Parley over https")
	})
}

func TestHTTPListen(t *testing.T) {
	redirect := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://meet.example.com"+r.URL.Path, http.StatusPermanentRedirect)
	})
	d := &doctor{t: Target{PublicURL: "https://meet.example.com", HTTPListen: redirect}, e: realDial()}
	wantResult(t, d.checkHTTPListen(context.Background()), Pass, "redirect to https://meet.example.com/", "HTTP-01")
	d.t.HTTPListen = closedPort(t)
	wantResult(t, d.checkHTTPListen(context.Background()), Fail, "HTTP-01 validation cannot reach Parley", "server.httpListen")
}

func TestLiveKitPort(t *testing.T) {
	lk := serve(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "OK") })
	other := serve(t, http.NotFound)
	port := func(addr string) int { _, p, _ := net.SplitHostPort(addr); n, _ := strconv.Atoi(p); return n }
	env := realDial()
	keyOK := true
	env.LiveKit = &fakeLiveKit{list: func() error {
		if keyOK {
			return nil
		}
		return twirp.NewError(twirp.Unauthenticated, "invalid token")
	}}
	d := &doctor{t: Target{LiveKitPort: port(lk)}, e: env}
	wantResult(t, d.checkLiveKitPort(context.Background()), Pass, "LiveKit answers")
	keyOK = false // another Parley's LiveKit holds the port
	wantResult(t, d.checkLiveKitPort(context.Background()), Fail, "refuses Parley's API key: it is not the embedded one", "stop the other LiveKit")
	keyOK = true
	d.t.LiveKitPort = port(other)
	wantResult(t, d.checkLiveKitPort(context.Background()), Fail, "is not LiveKit", "livekit.port (PARLEY_LIVEKIT_PORT)")
	d.t.LiveKitPort = port(closedPort(t))
	wantResult(t, d.checkLiveKitPort(context.Background()), Fail, "the embedded LiveKit is not running")

	d.t.RTCTCPPort = port(lk)
	wantResult(t, d.checkRTCTCP(context.Background()), Pass, "ICE/TCP")
	d.t.RTCTCPPort = port(closedPort(t))
	wantResult(t, d.checkRTCTCP(context.Background()), Fail, "livekit.rtc.tcpPort (PARLEY_LIVEKIT_RTC_TCP_PORT)")
}

// busyPorts binds nothing: ports in busy fail as a taken port does.
func busyPorts(busy func(p int) bool) func(string, string) (net.PacketConn, error) {
	return func(network, addr string) (net.PacketConn, error) {
		p, _ := strconv.Atoi(strings.TrimPrefix(addr, ":"))
		if busy(p) {
			return nil, errors.New("bind: address already in use")
		}
		return net.ListenPacket("udp", "127.0.0.1:0")
	}
}

func TestUDPRange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		start, end int
		busy       func(int) bool
		status     Status
		words      []string
	}{
		{"all free", 50000, 50099, func(int) bool { return false }, Pass, []string{"0 ports in use", "100 free", "open UDP 50000-50099"}},
		{"some in use", 50000, 50099, func(p int) bool { return p < 50010 }, Pass, []string{"10 ports in use"}},
		{"nearly full", 50000, 50099, func(p int) bool { return p < 50095 }, Warn, []string{"only 5 of 100"}},
		{"full", 50000, 50099, func(int) bool { return true }, Fail, []string{"all 100 ports", "PARLEY_LIVEKIT_RTC_UDP_PORT_START"}},
		{"muxed port held", 7882, 7882, func(int) bool { return true }, Pass, []string{"LiveKit's muxed media port"}},
		{"muxed port free", 7882, 7882, func(int) bool { return false }, Fail, []string{"nothing holds UDP 7882"}},
		{"empty", 0, 0, nil, Fail, []string{"empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{UDPPortStart: tc.start, UDPPortEnd: tc.end}, e: Env{ListenPacket: busyPorts(tc.busy)}}
			wantResult(t, d.checkUDPRange(context.Background()), tc.status, tc.words...)
		})
	}
}
