package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// upstream stands in for LiveKit's /rtc: it echoes WebSocket messages, refuses requests
// without a token with 401, and reports the X-Forwarded-For it saw.
func upstream(t *testing.T) (addr string, seenXFF chan string) {
	t.Helper()
	seenXFF = make(chan string, 8)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenXFF <- r.Header.Get("X-Forwarded-For")
		if r.URL.Query().Get("access_token") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/rtc/validate" {
			io.WriteString(w, "success")
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.BinaryMessage, []byte("join")) // LiveKit speaks first
		for {
			mt, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(mt, b)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), seenXFF
}

// proxyServer runs the proxy behind a plain net/http front (hijacking like Parley's glue).
func proxyServer(t *testing.T, p *SignalProxy) string {
	t.Helper()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, ClientIP: "198.51.100.7"}
		if r.Header.Get("Upgrade") == "" {
			resp, err := p.Forward(r.Context(), req, r.Body)
			if err != nil {
				http.Error(w, err.Error(), 503)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		tun, resp, err := p.Upgrade(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), 503)
			return
		}
		if tun == nil {
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		conn, _, _ := w.(http.Hijacker).Hijack()
		tun.Serve(conn)
	}))
	t.Cleanup(front.Close)
	return strings.TrimPrefix(front.URL, "http://")
}

func TestSignalProxyTunnel(t *testing.T) {
	addr, xff := upstream(t)
	p := NewSignalProxy(addr, slog.New(slog.DiscardHandler))
	front := proxyServer(t, p)

	h := http.Header{"X-Forwarded-For": {"6.6.6.6"}} // a client's own claim never reaches LiveKit
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+front+"/rtc?access_token=x", h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := <-xff; got != "198.51.100.7" {
		t.Errorf("LiveKit saw X-Forwarded-For %q, want the client's address", got)
	}
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "join" {
		t.Fatalf("first message %q %v", b, err)
	}
	big := strings.Repeat("x", 1<<20) // larger than any copy buffer: streamed, not held whole
	for _, msg := range []string{"offer", big} {
		ws.WriteMessage(websocket.BinaryMessage, []byte(msg))
		if _, b, err := ws.ReadMessage(); err != nil || string(b) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(b), err)
		}
	}
	if p.Active() != 1 {
		t.Errorf("Active = %d, want 1", p.Active())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil || isTimeout(err) {
		t.Errorf("tunnel still open after Close: %v", err)
	}
}

func TestSignalProxyRefusalAndValidate(t *testing.T) {
	addr, _ := upstream(t)
	p := NewSignalProxy(addr, slog.New(slog.DiscardHandler))
	front := proxyServer(t, p)
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+front+"/rtc", nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("upgrade without a token: %v %v, want LiveKit's 401", resp, err)
	}
	r, err := http.Get("http://" + front + "/rtc/validate?access_token=x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != "success" {
		t.Errorf("validate: %d %q", r.StatusCode, b)
	}
	down := NewSignalProxy(freeAddr(t), slog.New(slog.DiscardHandler))
	if _, _, err := down.Upgrade(context.Background(), Request{Method: "GET", URI: "/rtc", Host: "x"}); !errors.Is(err, ErrUpstream) {
		t.Errorf("LiveKit down: %v, want ErrUpstream", err)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestIsSignallingPath(t *testing.T) {
	for path, want := range map[string]bool{"/rtc": true, "/rtc/v1": true, "/rtc/validate": true, "/rtc/v1/validate": true,
		"/rtc/x": false, "/rtcx": false, "/api/rooms": false} {
		if got := IsSignallingPath(path); got != want {
			t.Errorf("IsSignallingPath(%q) = %v", path, got)
		}
	}
}

// TestSignalProxyHold: while the hold says LiveKit cannot take a request (restarting), an
// upgrade waits without reaching LiveKit and goes through once the hold lets it; a hold
// that gives up refuses the request as unreachable.
func TestSignalProxyHold(t *testing.T) {
	addr, xff := upstream(t)
	p := NewSignalProxy(addr, slog.New(slog.DiscardHandler))
	entered, back := make(chan struct{}), make(chan struct{})
	p.Hold(func(ctx context.Context) error {
		select {
		case <-back:
			return nil
		default:
		}
		close(entered)
		select {
		case <-back:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	front := proxyServer(t, p)
	type dialed struct {
		ws  *websocket.Conn
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+front+"/rtc?access_token=x", nil)
		done <- dialed{ws, err}
	}()
	<-entered
	select {
	case <-xff:
		t.Fatal("the request reached LiveKit while the hold was on")
	case d := <-done:
		t.Fatalf("the upgrade was answered while the hold was on: %v", d.err)
	default:
	}
	close(back)
	d := <-done
	if d.err != nil {
		t.Fatalf("upgrade after the hold: %v", d.err)
	}
	defer d.ws.Close()
	if _, b, err := d.ws.ReadMessage(); err != nil || string(b) != "join" {
		t.Fatalf("first message %q %v", b, err)
	}

	refused := NewSignalProxy(addr, slog.New(slog.DiscardHandler))
	refused.Hold(func(context.Context) error { return errors.New("LiveKit did not come back in time") })
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+proxyServer(t, refused)+"/rtc?access_token=x", nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("upgrade the hold gave up on: %v %v, want 503", resp, err)
	}
}

// A client that sends its last message and goes at once, while LiveKit is still sending to
// it, must have that message delivered: it is the leave request, and without it LiveKit
// keeps the participant waiting for a reconnection.
func TestSignalProxyDeliversTheLastMessage(t *testing.T) {
	lastMessages := make(chan string, 64)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		go func() { // updates, as LiveKit sends them, until the connection ends
			for c.WriteMessage(websocket.BinaryMessage, []byte(strings.Repeat("u", 512))) == nil {
			}
		}()
		last := ""
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				lastMessages <- last
				return
			}
			last = string(b)
		}
	}))
	t.Cleanup(srv.Close)
	p := NewSignalProxy(strings.TrimPrefix(srv.URL, "http://"), slog.New(slog.DiscardHandler))
	front := proxyServer(t, p)
	for i := range 20 {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+front+"/rtc?access_token=x", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ws.ReadMessage(); err != nil { // the tunnel carries LiveKit's updates
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.BinaryMessage, []byte("leave")); err != nil {
			t.Fatal(err)
		}
		ws.UnderlyingConn().Close() // gone, with LiveKit's updates unread
		select {
		case got := <-lastMessages:
			if got != "leave" {
				t.Fatalf("connection %d: LiveKit's last message was %q, want the leave", i, got)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("connection %d: LiveKit's side never ended", i)
		}
	}
}

// When LiveKit's side of a tunnel ends (LiveKit stopped or crashed), the client hears it at
// once: the linger that lets a leaving client's last message through is not waited out (it
// is an hour here, longer than the test may take).
func TestSignalProxyClosesWhenLiveKitEnds(t *testing.T) {
	old := tunnelLinger
	tunnelLinger = time.Hour
	t.Cleanup(func() { tunnelLinger = old })
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.WriteMessage(websocket.BinaryMessage, []byte("join"))
		c.UnderlyingConn().Close() // gone without a close frame, as a killed process
	}))
	t.Cleanup(srv.Close)
	front := proxyServer(t, NewSignalProxy(strings.TrimPrefix(srv.URL, "http://"), slog.New(slog.DiscardHandler)))
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+front+"/rtc?access_token=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "join" {
		t.Fatalf("first message %q %v", b, err)
	}
	// A minute is far below the hour of linger: a tunnel that waited it out fails here.
	_ = ws.SetReadDeadline(time.Now().Add(time.Minute))
	_, _, err = ws.ReadMessage()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("after LiveKit's side ended the client read %v, want the end of the connection", err)
	}
}
