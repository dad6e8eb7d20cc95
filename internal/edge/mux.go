package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mholt/acmez/v3"
)

// MuxConfig configures a Mux.
type MuxConfig struct {
	// TLS serves every connection (Parley's certificate, renewed in place by its source).
	TLS *tls.Config
	// TURNAddr is LiveKit's plain TURN/TCP listener (turn.external_tls) on loopback; empty:
	// every connection is HTTP.
	TURNAddr string
	// TURNNames are server names (SNI) that always mean TURN, e.g. livekit.turn.domain when it
	// differs from the public host. Connections under any other name are told apart by their
	// first bytes: a STUN header is TURN, anything else HTTP.
	TURNNames []string
	// HandshakeTimeout bounds the TLS handshake (default 10 s); FirstBytesTimeout bounds the
	// wait for the first bytes after it (default 10 s). A client that stays silent past it
	// (a browser's preconnect) is handed to HTTP, whose own idle timeout applies.
	HandshakeTimeout  time.Duration
	FirstBytesTimeout time.Duration
	// MaxHandshakes bounds handshakes in progress (default 1024); past it new connections
	// are closed at once rather than piling up goroutines.
	MaxHandshakes int
	Log           *slog.Logger
}

// Mux is a net.Listener for Parley's TLS port: it accepts raw TCP, completes each TLS
// handshake in its own goroutine (a slow or silent client never holds up Accept), forwards
// TURN/TLS to LiveKit as plain TCP, and returns the HTTPS connections from Accept.
type Mux struct {
	inner net.Listener
	cfg   MuxConfig
	tls   *tls.Config
	log   *slog.Logger
	names map[string]bool

	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	acceptErr error // set before done closes, when the inner listener failed

	sem chan struct{}
	mu  sync.Mutex
	own map[net.Conn]struct{} // handshaking and TURN connections (HTTP ones belong to the server)
	wg  sync.WaitGroup
}

// NewMux starts accepting on inner; Close stops it and ends the TURN connections.
func NewMux(inner net.Listener, cfg MuxConfig) *Mux {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.FirstBytesTimeout <= 0 {
		cfg.FirstBytesTimeout = 10 * time.Second
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = 1024
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := &Mux{inner: inner, cfg: cfg, tls: httpOnlyTLS(cfg.TLS), log: cfg.Log, names: map[string]bool{},
		ready: make(chan net.Conn), done: make(chan struct{}), sem: make(chan struct{}, cfg.MaxHandshakes),
		own: map[net.Conn]struct{}{}}
	for _, n := range cfg.TURNNames {
		if n = normalName(n); n != "" {
			m.names[n] = true
		}
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

// httpOnlyTLS drops "h2" from ALPN: the HTTP server speaks HTTP/1.1 (which WebSocket needs
// anyway), and a browser that negotiated h2 would send frames it cannot read.
func httpOnlyTLS(c *tls.Config) *tls.Config {
	c = c.Clone()
	c.NextProtos = slices.DeleteFunc(slices.Clone(c.NextProtos), func(p string) bool { return p == "h2" })
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func normalName(n string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
}

// Accept returns the next HTTPS connection, handshake done and first bytes replayed.
func (m *Mux) Accept() (net.Conn, error) {
	select {
	case c := <-m.ready:
		return c, nil
	case <-m.done:
		if m.acceptErr != nil {
			return nil, m.acceptErr
		}
		return nil, net.ErrClosed
	}
}

// Addr is the inner listener's address.
func (m *Mux) Addr() net.Addr { return m.inner.Addr() }

// Close stops accepting, ends handshakes and TURN connections, and waits for their
// goroutines. HTTP connections already returned by Accept are the HTTP server's to close.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		close(m.done)
		err = m.inner.Close()
		m.mu.Lock()
		for c := range m.own {
			_ = c.Close()
		}
		m.mu.Unlock()
		m.wg.Wait()
	})
	return err
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	backoff := time.Duration(0)
	for {
		raw, err := m.inner.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				m.log.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			m.acceptErr = err
			m.closeOnce.Do(func() { close(m.done) })
			return
		}
		backoff = 0
		select {
		case m.sem <- struct{}{}:
		default:
			m.log.Warn("too many TLS handshakes in progress; connection dropped", "remote", raw.RemoteAddr().String())
			_ = raw.Close()
			continue
		}
		if !m.adopt(raw) {
			<-m.sem
			return
		}
		m.wg.Add(1)
		go m.handle(raw)
	}
}

// adopt records c as the mux's own, so Close can end it; false once closed.
func (m *Mux) adopt(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.done:
		_ = c.Close()
		return false
	default:
	}
	m.own[c] = struct{}{}
	return true
}

func (m *Mux) release(c net.Conn) {
	m.mu.Lock()
	delete(m.own, c)
	m.mu.Unlock()
}

// handle completes the handshake and routes the connection.
func (m *Mux) handle(raw net.Conn) {
	defer m.wg.Done()
	defer m.release(raw)
	tc := tls.Server(raw, m.tls)
	_ = raw.SetDeadline(time.Now().Add(m.cfg.HandshakeTimeout))
	err := tc.HandshakeContext(context.Background())
	<-m.sem
	if err != nil {
		m.log.Debug("tls handshake failed", "remote", raw.RemoteAddr().String(), "err", err)
		_ = raw.Close()
		return
	}
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == acmez.ACMETLS1Protocol {
		_ = tc.Close() // TLS-ALPN-01 (RFC 8737): the CA saw the challenge certificate; nothing follows
		return
	}
	if m.cfg.TURNAddr != "" && m.names[normalName(st.ServerName)] {
		_ = raw.SetDeadline(time.Time{})
		m.forwardTURN(tc, nil)
		return
	}
	first, kind := []byte(nil), kindHTTP
	if m.cfg.TURNAddr != "" {
		_ = raw.SetDeadline(time.Now().Add(m.cfg.FirstBytesTimeout))
		first, kind = sniff(tc)
		_ = raw.SetDeadline(time.Time{})
	}
	switch kind {
	case kindTURN:
		m.forwardTURN(tc, first)
	case kindHTTP:
		m.release(raw) // the HTTP server owns it from here
		select {
		case m.ready <- &peekedConn{Conn: tc, buf: first}:
		case <-m.done:
			_ = tc.Close()
		}
	default:
		_ = tc.Close()
	}
}

// forwardTURN copies the connection to LiveKit's TURN listener as plain TCP until either
// side ends. LiveKit never sees TLS, so a renewed certificate never restarts it.
func (m *Mux) forwardTURN(tc *tls.Conn, first []byte) {
	up, err := net.DialTimeout("tcp", m.cfg.TURNAddr, 5*time.Second)
	if err != nil {
		m.log.Warn("TURN/TLS: LiveKit's TURN listener unreachable", "addr", m.cfg.TURNAddr, "err", err)
		_ = tc.Close()
		return
	}
	if !m.adopt(up) {
		_ = tc.Close()
		return
	}
	defer m.release(up)
	if len(first) > 0 {
		if _, err := up.Write(first); err != nil {
			_ = up.Close()
			_ = tc.Close()
			return
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(up, tc)
		_ = up.Close()
		_ = tc.Close()
	}()
	_, _ = io.Copy(tc, up)
	_ = up.Close()
	_ = tc.Close()
	<-done
}

// peekedConn replays the bytes read to tell HTTP from TURN. Embedding *tls.Conn keeps
// ConnectionState and Handshake, by which the HTTP server knows the request came over TLS.
type peekedConn struct {
	*tls.Conn
	buf []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
