package certs

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mholt/acmez/v3"
)

// parleySide is what Parley runs for ACME: its TLS listener and its plain-HTTP listener,
// and counters of the challenges the validation authority made against them.
type parleySide struct {
	tls, http      net.Listener
	mu             sync.Mutex
	alpnChallenges int
	httpChallenges int
}

func newParleySide(t *testing.T) *parleySide {
	return &parleySide{tls: listen(t), http: listen(t)}
}

func (s *parleySide) port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serve puts m behind both listeners, as server/wire_tls.go does.
func (s *parleySide) serve(t *testing.T, m *Manager) {
	t.Helper()
	serveTLS(t, s.tls, countingSource{m, s}, nil)
	redirect, err := RedirectHTTPS("https://meet.test")
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, s.http, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			s.mu.Lock()
			s.httpChallenges++
			s.mu.Unlock()
		}
		m.HTTPHandler(redirect).ServeHTTP(w, r)
	}))
}

func (s *parleySide) counts() (alpn, http int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alpnChallenges, s.httpChallenges
}

// countingSource counts the TLS-ALPN-01 handshakes.
type countingSource struct {
	m *Manager
	s *parleySide
}

func (c countingSource) TLSConfig() *tls.Config {
	cfg := c.m.TLSConfig()
	get := cfg.GetCertificate
	cfg.GetCertificate = func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		for _, p := range h.SupportedProtos {
			if p == acmez.ACMETLS1Protocol {
				c.s.mu.Lock()
				c.s.alpnChallenges++
				c.s.mu.Unlock()
			}
		}
		return get(h)
	}
	return cfg
}
