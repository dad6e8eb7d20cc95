package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/parley/parley/internal/certs"
	"github.com/valyala/fasthttp"
)

// webhookPath is the one route of the loopback webhook listener.
const webhookPath = "/api/livekit/webhook"

// httpsSide is what the certificate wiring keeps: the certificate manager (nil without
// TLS) and the loopback listener embedded LiveKit posts its webhooks to.
type httpsSide struct {
	certs     *certs.Manager
	webhookLn net.Listener
}

// caPages serves the local CA's pages (/ca, /ca.crt) in self-signed mode, in front of the
// web app. The manager itself is made once the listener is bound, hence the nil check.
func (a *app) caPages(next fiber.Handler) fiber.Handler {
	if !a.cfg.Server.TLS.SelfSigned {
		return next
	}
	return func(c *fiber.Ctx) error {
		if p := c.Path(); a.https.certs != nil && (p == certs.CACertPath || p == certs.CAPagePath) {
			return adaptor.HTTPHandler(a.https.certs.CAHandler(http.NotFoundHandler()))(c)
		}
		return next(c)
	}
}

// webhookURL opens (once) a plain-HTTP listener on loopback for embedded LiveKit's
// webhooks: they never go through the public name, its certificate or server.listen's
// port, which may be 0. serveHTTPS serves it with the webhook route only.
func (a *app) webhookURL() (string, error) {
	if a.https.webhookLn == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("loopback webhook listener: %w", err)
		}
		a.https.webhookLn = ln
		a.closers = append(a.closers, func(context.Context) error { _ = ln.Close(); return nil }) // if never served
	}
	return "http://" + a.https.webhookLn.Addr().String() + webhookPath, nil
}

// serveHTTPS serves web on ln (through TLS when configured), the webhook loopback listener
// and server.httpListen, then gets the certificates ready. The returned channel reports
// the main server's end.
func (a *app) serveHTTPS(ctx context.Context, web *fiber.App, ln net.Listener) (chan error, error) {
	serveErr := make(chan error, 1)
	if a.https.webhookLn != nil {
		hooks := &fasthttp.Server{Handler: onlyPath(webhookPath, web.Handler()), ReadTimeout: 30 * time.Second,
			IdleTimeout: 2 * time.Minute, NoDefaultServerHeader: true}
		go func() { _ = hooks.Serve(a.https.webhookLn) }()
		a.closers = append(a.closers, hooks.ShutdownWithContext)
	}
	s := a.cfg.Server
	if !s.TLSEnabled() {
		go func() { serveErr <- web.Listener(ln) }()
		return serveErr, nil
	}
	var httpLn net.Listener
	if s.HTTPListen != "" {
		var err error
		if httpLn, err = net.Listen("tcp", s.HTTPListen); err != nil {
			return nil, fmt.Errorf("server.httpListen %s: %w (is a web server using it? change or empty server.httpListen)", s.HTTPListen, err)
		}
	}
	m, err := certs.New(ctx, a.certOptions(ln.Addr(), httpLn))
	if err != nil {
		if httpLn != nil {
			httpLn.Close()
		}
		return nil, err
	}
	a.https.certs = m
	a.closers = append(a.closers, func(context.Context) error { return m.Close() })
	go func() { serveErr <- web.Listener(a.publicListener(ln, m)) }()
	if httpLn != nil {
		redirect, err := certs.RedirectHTTPS(s.PublicURL)
		if err != nil {
			return nil, err
		}
		plain := &http.Server{Handler: m.HTTPHandler(m.CAHandler(redirect)), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = plain.Serve(httpLn) }()
		a.closers = append(a.closers, plain.Shutdown)
		a.log.Info("plain HTTP listener (ACME HTTP-01, redirect to https)", "addr", httpLn.Addr().String())
	}
	if s.TLS.ACME.Enabled && !publicChallengePort(ln, httpLn) {
		a.log.Warn("public ACME CAs validate on port 443 (TLS-ALPN-01) or 80 (HTTP-01) only: forward one of them to Parley's listener, or set server.listen \":443\" / server.httpListen \":80\"",
			"listen", ln.Addr().String())
	}
	if err := m.Start(ctx); errors.Is(err, certs.ErrPending) {
		a.log.Error("HTTPS certificate not ready; Parley serves and keeps trying", "err", err)
	} else if err != nil {
		return nil, err
	}
	if fp := m.Fingerprint(); fp != "" {
		fmt.Fprintf(a.stdout, "Local CA fingerprint (SHA-256): %s\nDevices trust it once from %s%s\n", fp,
			strings.TrimSuffix(s.PublicURL, "/"), certs.CAPagePath)
	}
	return serveErr, nil
}

// certOptions translates server.tls into the manager's options for the bound listeners.
func (a *app) certOptions(tlsAddr net.Addr, httpLn net.Listener) certs.Options {
	s := a.cfg.Server
	o := certs.Options{Dir: filepath.Join(s.DataDir, "certs"), Log: a.log.With("component", "certs"),
		CertFile: s.TLS.Cert, KeyFile: s.TLS.Key, SelfSigned: s.TLS.SelfSigned}
	pub, _ := url.Parse(s.PublicURL)
	o.Names = appendName(nil, pub.Hostname())
	o.Names = appendName(o.Names, a.cfg.LiveKit.TURN.Domain)
	if s.TLS.ACME.Enabled {
		acme := s.TLS.ACME
		o.ACME = &certs.ACME{DirectoryURL: acme.DirectoryURL, Email: acme.Email, CARootFile: acme.CARoot,
			Profile: acme.Profile, TLSAddr: tlsAddr.String()}
		o.CheckInterval = time.Duration(acme.RenewCheckInterval)
		if httpLn != nil {
			o.ACME.HTTPAddr = httpLn.Addr().String()
		}
	}
	if s.TLS.SelfSigned {
		for _, n := range localNames(s.Listen) {
			o.Names = appendName(o.Names, n)
		}
	}
	return o
}

// localNames are the names and addresses browsers may use for a server listening on
// listen: its host, or every address of this machine when it listens on all of them.
func localNames(listen string) []string {
	host, _, _ := net.SplitHostPort(listen)
	names := []string{"localhost", "127.0.0.1", "::1"}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return append(names, host)
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.Contains(h, " ") {
		names = append(names, h)
		if !strings.Contains(h, ".") {
			names = append(names, h+".local") // mDNS name most LAN devices resolve
		}
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() && !n.IP.IsLoopback() {
			names = append(names, n.IP.String())
		}
	}
	return names
}

func appendName(names []string, n string) []string {
	n = strings.TrimSuffix(strings.ToLower(n), ".")
	if n == "" {
		return names
	}
	for _, have := range names {
		if have == n {
			return names
		}
	}
	return append(names, n)
}

// onlyPath passes requests for path to h and answers 404 to everything else.
func onlyPath(path string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(c *fasthttp.RequestCtx) {
		if string(c.Path()) != path {
			c.Error("not found", fasthttp.StatusNotFound)
			return
		}
		h(c)
	}
}

// publicChallengePort says whether Parley itself listens where public CAs validate.
func publicChallengePort(tlsLn, httpLn net.Listener) bool {
	if a, ok := tlsLn.Addr().(*net.TCPAddr); ok && a.Port == 443 {
		return true
	}
	if httpLn == nil {
		return false
	}
	a, ok := httpLn.Addr().(*net.TCPAddr)
	return ok && a.Port == 80
}
