package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mholt/acmez/v3"
	"github.com/parley/parley/internal/testenv"
)

// selfSigned is a certificate for names, and a pool that trusts it.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	c := testenv.SelfSignedCert(t, append(names, "127.0.0.1")...)
	return c.TLS, c.Pool
}

// echoTURN stands in for LiveKit's TURN listener: it records what it reads and answers "ok:"
// followed by it.
func echoTURN(t *testing.T) (addr string, got chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 256)
				n, _ := c.Read(b)
				got <- b[:n]
				c.Write(append([]byte("ok:"), b[:n]...))
				io.Copy(io.Discard, c) // hold the allocation open like a TURN server does
			}()
		}
	}()
	return ln.Addr().String(), got
}

type muxEnv struct {
	mux     *Mux
	addr    string
	pool    *x509.CertPool
	handled atomic.Int32
	turn    chan []byte
}

func startMux(t *testing.T, cfg MuxConfig) *muxEnv {
	t.Helper()
	cert, pool := selfSigned(t, "meet.test", "turn.meet.test")
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	}
	e := &muxEnv{pool: pool}
	cfg.TURNAddr, e.turn = echoTURN(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.mux = NewMux(ln, cfg)
	e.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.handled.Add(1)
		io.WriteString(w, "http:"+r.URL.Path)
	})}
	go srv.Serve(e.mux)
	t.Cleanup(func() { srv.Close(); e.mux.Close() })
	return e
}

func (e *muxEnv) dial(t *testing.T, sni string, alpn ...string) *tls.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.addr,
		&tls.Config{ServerName: sni, RootCAs: e.pool, NextProtos: alpn})
	if err != nil {
		t.Fatalf("dial %s: %v", sni, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *muxEnv) get(t *testing.T, path string) string {
	t.Helper()
	c := e.dial(t, "meet.test")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: meet.test\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// stunBinding is a STUN Binding request header (no attributes).
func stunBinding() []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:2], 0x0001)
	binary.BigEndian.PutUint32(b[4:8], stunMagicCookie)
	copy(b[8:], "transaction1")
	return b
}

func TestMuxRoutes(t *testing.T) {
	e := startMux(t, MuxConfig{TURNNames: []string{"TURN.meet.test."}})
	if got := e.get(t, "/api/x"); got != "http:/api/x" {
		t.Errorf("HTTPS under the public name: got %q", got)
	}
	tests := []struct {
		name, sni string
		send      []byte
	}{
		{"STUN header under the public name", "meet.test", stunBinding()},
		{"anything under the TURN name", "turn.meet.test", []byte("GET / HTTP/1.1\r\n\r\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(t, tc.sni)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write(tc.send)
			select {
			case got := <-e.turn:
				if !bytes.Equal(got, tc.send) {
					t.Errorf("TURN got %q, want %q", got, tc.send)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("nothing reached the TURN listener")
			}
			want := append([]byte("ok:"), tc.send...)
			reply := make([]byte, len(want))
			if _, err := io.ReadFull(c, reply); err != nil || !bytes.Equal(reply, want) {
				t.Errorf("reply %q, want %q", reply, want)
			}
		})
	}
	if n := e.handled.Load(); n != 1 {
		t.Errorf("HTTP handler ran %d times, want 1 (TURN connections must not reach it)", n)
	}
}

func TestMuxDropsH2AndReportsTLS(t *testing.T) {
	e := startMux(t, MuxConfig{})
	c := e.dial(t, "meet.test", "h2", "http/1.1")
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Errorf("negotiated %q, want http/1.1 (the HTTP server speaks no h2)", p)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cert, _ := selfSigned(t, "meet.test")
	m := NewMux(ln, MuxConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	defer m.Close()
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	conn, err := m.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.(interface{ ConnectionState() tls.ConnectionState }); !ok {
		t.Error("accepted connection hides its TLS state (the HTTP server would think it plain HTTP)")
	}
	b := make([]byte, 3)
	if _, err := io.ReadFull(conn, b); err != nil || string(b) != "GET" {
		t.Errorf("first bytes not replayed: %q %v", b, err)
	}
}

// Clients that never finish their handshake hold up nobody: with a minute's handshake
// timeout, a mux that handshook in its accept loop would keep the next client waiting past
// its dial timeout.
func TestMuxSlowHandshakeBlocksNobody(t *testing.T) {
	e := startMux(t, MuxConfig{HandshakeTimeout: time.Minute})
	stall(t, e.addr, 5)
	if got := e.get(t, "/ok"); got != "http:/ok" {
		t.Fatalf("got %q", got)
	}
}

// A stalled handshake is dropped once the handshake timeout passes.
func TestMuxDropsStalledHandshake(t *testing.T) {
	e := startMux(t, MuxConfig{HandshakeTimeout: 200 * time.Millisecond})
	for _, c := range stall(t, e.addr, 2) {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("stalled handshake not closed by the server: %v", err)
		}
	}
}

// stall opens n connections that send the start of a ClientHello, and then nothing.
func stall(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.Write([]byte{0x16, 0x03, 0x01})
		conns = append(conns, c)
	}
	return conns
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A browser's preconnect completes the handshake and says nothing for a while: it is still
// HTTP when it finally speaks.
func TestMuxSilentClientIsHTTP(t *testing.T) {
	e := startMux(t, MuxConfig{FirstBytesTimeout: 100 * time.Millisecond})
	c := e.dial(t, "meet.test")
	time.Sleep(300 * time.Millisecond)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /late HTTP/1.1\r\nHost: meet.test\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if string(b) != "http:/late" {
		t.Errorf("got %q", b)
	}
}

// TLS-ALPN-01: the handshake presents the challenge certificate, then the connection closes
// without reaching the HTTP server.
func TestMuxTLSALPNChallenge(t *testing.T) {
	cert, pool := selfSigned(t, "meet.test")
	challenge, challengePool := selfSigned(t, "meet.test")
	cfg := &tls.Config{NextProtos: []string{"http/1.1", acmez.ACMETLS1Protocol},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if len(h.SupportedProtos) == 1 && h.SupportedProtos[0] == acmez.ACMETLS1Protocol {
				return &challenge, nil
			}
			return &cert, nil
		}}
	e := startMux(t, MuxConfig{TLS: cfg})
	e.pool = challengePool
	c := e.dial(t, "meet.test", acmez.ACMETLS1Protocol)
	if st := c.ConnectionState(); st.NegotiatedProtocol != acmez.ACMETLS1Protocol || !st.PeerCertificates[0].Equal(challenge.Leaf) {
		t.Fatalf("negotiated %q with the wrong certificate", st.NegotiatedProtocol)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("challenge connection not closed after the handshake: n=%d err=%v", n, err)
	}
	e.pool = pool
	if got := e.get(t, "/after"); got != "http:/after" || e.handled.Load() != 1 {
		t.Errorf("after the challenge: %q, handled %d", got, e.handled.Load())
	}
}

func TestMuxCloseEndsTURN(t *testing.T) {
	e := startMux(t, MuxConfig{TURNNames: []string{"turn.meet.test"}})
	c := e.dial(t, "turn.meet.test")
	c.Write([]byte("x"))
	<-e.turn
	done := make(chan error, 1)
	go func() { done <- e.mux.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a TURN connection open")
	}
	if _, err := e.mux.Accept(); err == nil {
		t.Error("Accept after Close succeeded")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); isTimeout(err) {
		t.Errorf("TURN connection still open after Close: %v", err)
	}
}
