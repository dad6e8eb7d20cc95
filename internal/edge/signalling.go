// Package edge is what stands on Parley's one public port besides the API: the proxy that
// carries LiveKit's signalling to the embedded LiveKit on loopback, and the TLS listener
// that tells TURN/TLS from HTTPS and forwards TURN to LiveKit. It works on net.Conn and
// net/http types only; the HTTP layer adapts it to Fiber.
package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/livekit"
)

// ErrUpstream marks LiveKit not answering the proxy (down, restarting, refused).
var ErrUpstream = errors.New("livekit signalling unreachable")

// ErrNotProxied means this Parley does not carry LiveKit's signalling: its join answers
// name another URL (external LiveKit, or livekit.host set to the direct port).
var ErrNotProxied = errors.New("livekit signalling is not served on this port")

// NotProxied stands in for the SignalProxy when signalling goes elsewhere: every request
// gets ErrNotProxied.
type NotProxied struct{}

// Upgrade refuses.
func (NotProxied) Upgrade(context.Context, Request) (*Tunnel, *http.Response, error) {
	return nil, nil, ErrNotProxied
}

// Forward refuses.
func (NotProxied) Forward(context.Context, Request, io.Reader) (*http.Response, error) {
	return nil, ErrNotProxied
}

// IsSignallingPath reports whether path is one of LiveKit's signalling endpoints, as the
// client SDKs build them: /rtc and /rtc/v1 (WebSocket) and their /validate (plain GET).
func IsSignallingPath(path string) bool {
	switch path {
	case "/rtc", "/rtc/v1", "/rtc/validate", "/rtc/v1/validate":
		return true
	}
	return false
}

// Request is the head of a client request to forward: the HTTP layer copies it out of its
// own request type, so nothing here aliases buffers the server reuses.
type Request struct {
	Method   string
	URI      string // path and query, e.g. /rtc/v1?access_token=...
	Host     string
	Header   http.Header
	ClientIP string // becomes X-Forwarded-For: LiveKit records it as the participant's address
	TLS      bool   // the client reached Parley over TLS (X-Forwarded-Proto)
}

// SignalProxy forwards signalling requests to one LiveKit HTTP address. WebSocket upgrades
// become byte tunnels (io.Copy in each direction: a slow side slows the other, nothing is
// buffered beyond one copy chunk); other requests are forwarded as plain HTTP.
type SignalProxy struct {
	addr        string // host:port of LiveKit's HTTP listener
	dialTimeout time.Duration
	log         *slog.Logger
	client      *http.Client
	hold        func(ctx context.Context) error // see Hold

	mu      sync.Mutex
	closed  bool
	tunnels map[*Tunnel]struct{}
	wg      sync.WaitGroup
}

// NewSignalProxy proxies to LiveKit at addr (host:port, normally 127.0.0.1:<livekit.port>).
func NewSignalProxy(addr string, log *slog.Logger) *SignalProxy {
	p := &SignalProxy{addr: addr, dialTimeout: 5 * time.Second, log: log, tunnels: map[*Tunnel]struct{}{}}
	tr := &http.Transport{
		Proxy:               nil, // LiveKit is on loopback: never through HTTP_PROXY
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return p.dial(ctx) },
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	p.client = &http.Client{Transport: tr, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return p
}

// Hold makes every request wait for wait (which returns nil once LiveKit can take it, an
// error when it gives up) before it is forwarded: while LiveKit restarts, a client's
// reconnect is held and then carried to the new LiveKit at once, instead of being refused
// and retried after a pause of the client's choosing. Call it before serving.
func (p *SignalProxy) Hold(wait func(ctx context.Context) error) { p.hold = wait }

// dial connects to LiveKit after the hold. A refused dial is tried again after the hold
// (livekit.RetryRefused): LiveKit died a moment ago and its supervisor has not noticed yet,
// so the next try waits in the hold instead of answering 503.
func (p *SignalProxy) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: p.dialTimeout}
	var c net.Conn
	err := livekit.RetryRefused(ctx, p.hold, func() (err error) {
		c, err = d.DialContext(ctx, "tcp", p.addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	return c, nil
}

// upstreamHeader is the request's header as LiveKit gets it: the client's address replaces
// any X-Forwarded-For the client sent (LiveKit trusts that header as the address).
func upstreamHeader(r Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range []string{"X-Forwarded-For", "X-Real-Ip", "Cf-Connecting-Ip", "Forwarded", "Proxy-Connection", "Proxy-Authorization"} {
		h.Del(k)
	}
	if r.ClientIP != "" {
		h.Set("X-Forwarded-For", r.ClientIP)
	}
	proto := "http"
	if r.TLS {
		proto = "https"
	}
	h.Set("X-Forwarded-Proto", proto)
	return h
}

// Forward sends a non-upgrade request (the SDKs' /validate) and returns LiveKit's answer;
// the caller closes its body.
func (p *SignalProxy) Forward(ctx context.Context, r Request, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://"+p.addr+r.URI, body)
	if err != nil {
		return nil, err
	}
	req.Header = upstreamHeader(r)
	for _, k := range []string{"Connection", "Upgrade", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding"} {
		req.Header.Del(k)
	}
	req.Host = r.Host
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrUpstream) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	return resp, nil
}

// Tunnel is an accepted WebSocket upgrade: LiveKit answered 101 on its connection.
type Tunnel struct {
	p        *SignalProxy
	up       net.Conn
	upReader *bufio.Reader // holds whatever LiveKit sent right after its 101
	head     *http.Response
	client   net.Conn
	// unserved closes LiveKit's side when Serve never comes (the server dropped the client
	// before handing its connection over).
	unserved *time.Timer
}

// maxRefusalBody bounds how much of a refused upgrade's answer is kept (LiveKit's refusals
// are one line of text).
const maxRefusalBody = 64 << 10

// Upgrade sends a WebSocket upgrade request to LiveKit and reads its answer. When LiveKit
// accepts (101), it returns a Tunnel to Serve on the client's connection. Otherwise it
// returns LiveKit's answer with its body read, for the caller to send as an ordinary
// response: the client's connection stays Parley's and keep-alive goes on as usual.
func (p *SignalProxy) Upgrade(ctx context.Context, r Request) (*Tunnel, *http.Response, error) {
	up, err := p.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = up.SetDeadline(dl)
	} else {
		_ = up.SetDeadline(time.Now().Add(15 * time.Second))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, r.URI, r.Host)
	h := upstreamHeader(r)
	h.Del("Host")
	if err := h.Write(&b); err != nil {
		up.Close()
		return nil, nil, err
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(up, b.String()); err != nil {
		up.Close()
		return nil, nil, fmt.Errorf("%w: write upgrade: %v", ErrUpstream, err)
	}
	br := bufio.NewReader(up)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		up.Close()
		return nil, nil, fmt.Errorf("%w: read upgrade answer: %v", ErrUpstream, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRefusalBody))
		resp.Body.Close()
		up.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.ContentLength = int64(len(body))
		return nil, resp, nil
	}
	_ = up.SetDeadline(time.Time{})
	return &Tunnel{p: p, up: up, upReader: br, head: resp, unserved: time.AfterFunc(30*time.Second, func() { up.Close() })}, resp, nil
}

// Serve writes LiveKit's 101 to the client and copies bytes both ways until either side
// ends, then closes both. client may replay bytes its server already buffered.
func (t *Tunnel) Serve(client net.Conn) {
	if !t.unserved.Stop() {
		client.Close()
		return
	}
	t.client = client
	if !t.p.track(t) {
		t.close()
		return
	}
	defer t.p.untrack(t)
	// The HTTP server's read and write deadlines were for one request; a meeting lasts hours.
	_ = client.SetDeadline(time.Time{})
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = t.head.Header.Write(&b)
	b.WriteString("\r\n")
	if _, err := io.WriteString(client, b.String()); err != nil {
		t.close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(t.up, client)
		// The client is done sending. LiveKit reads everything it sent, then the end of the
		// stream, as with a direct connection; its answer is still read meanwhile (bounded).
		// Closing at once could lose the client's last message, its leave request, and
		// LiveKit would then wait for the participant to come back.
		if cw, ok := t.up.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_ = t.up.SetReadDeadline(time.Now().Add(tunnelLinger))
	}()
	fromUp := &readEnd{r: t.upReader}
	_, _ = io.Copy(client, fromUp) // until LiveKit ends, or the client is gone
	if fromUp.err == nil {
		// The client is gone (a write to it failed). What it sent before it went may not
		// have reached LiveKit yet: let that copy finish before closing both sides, so the
		// socket is not closed with it unread. When LiveKit's side ended (it stopped or
		// crashed) there is nothing to wait for, and the client must hear it at once to
		// heal.
		select {
		case <-done:
		case <-time.After(tunnelLinger):
		}
	}
	t.close()
	<-done
}

// tunnelLinger bounds how long a tunnel whose client went waits for its last bytes to
// reach LiveKit (a variable for the tests).
var tunnelLinger = 5 * time.Second

// readEnd remembers the error that ended reading from r (io.EOF too), telling a copy that
// ended on its source from one that ended on its destination.
type readEnd struct {
	r   io.Reader
	err error
}

func (e *readEnd) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// close ends both sides. Closing unblocks the copies; a past deadline covers connections
// whose Close is deferred to their server (a hijacked connection).
func (t *Tunnel) close() {
	for _, c := range []net.Conn{t.up, t.client} {
		if c != nil {
			_ = c.SetDeadline(time.Unix(1, 0))
			_ = c.Close()
		}
	}
}

func (p *SignalProxy) track(t *Tunnel) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.tunnels[t] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *SignalProxy) untrack(t *Tunnel) {
	p.mu.Lock()
	delete(p.tunnels, t)
	p.mu.Unlock()
	p.wg.Done()
}

// Active is the number of open signalling tunnels (one per connected participant).
func (p *SignalProxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tunnels)
}

// Close ends every tunnel and waits for their goroutines (or ctx). It is called at shutdown
// after the HTTP server stopped accepting: the server does not track hijacked connections.
func (p *SignalProxy) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	for t := range p.tunnels {
		t.close()
	}
	p.mu.Unlock()
	p.client.CloseIdleConnections()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("signalling tunnels still open: %w", ctx.Err())
	}
}
