package certs

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// acmeSource is the ACME mode: certmagic obtains, stores (in Options.Dir) and renews the
// certificates; its cache's maintenance goroutine renews in the background and the next
// handshake gets the new certificate while open connections keep the one they have.
type acmeSource struct {
	names  []string
	magic  *certmagic.Config
	issuer *certmagic.ACMEIssuer
	cache  *certmagic.Cache
	o      Options
}

func newACME(o Options) (*acmeSource, error) {
	a := o.ACME
	for _, n := range o.Names {
		if net.ParseIP(n) != nil || !strings.Contains(n, ".") {
			return nil, fmt.Errorf("certs: ACME needs DNS names, not %q", n)
		}
	}
	var roots *x509.CertPool
	if a.CARootFile != "" {
		pem, err := os.ReadFile(a.CARootFile)
		if err != nil {
			return nil, fmt.Errorf("server.tls.acme.caRoot: %w", err)
		}
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server.tls.acme.caRoot: %s holds no PEM certificate", a.CARootFile)
		}
	}
	tlsHost, tlsPort, err := splitPort(a.TLSAddr)
	if err != nil {
		return nil, fmt.Errorf("certs: the TLS listener's address: %w", err)
	}
	httpPort := 0
	if a.HTTPAddr != "" {
		if _, httpPort, err = splitPort(a.HTTPAddr); err != nil {
			return nil, fmt.Errorf("certs: the HTTP listener's address: %w", err)
		}
	}
	zl := zap.New(slogCore{h: o.Log.With("component", "acme").Handler()})
	s := &acmeSource{names: o.Names, o: o}
	s.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return s.magic, nil },
		RenewCheckInterval: o.CheckInterval,
		Logger:             zl,
	})
	s.magic = certmagic.New(s.cache, certmagic.Config{
		Storage:           privateStorage{&certmagic.FileStorage{Path: o.Dir}},
		DefaultServerName: o.Names[0],
		Logger:            zl,
	})
	s.issuer = certmagic.NewACMEIssuer(s.magic, certmagic.ACMEIssuer{
		CA:      a.DirectoryURL,
		Email:   a.Email,
		Profile: a.Profile,
		Agreed:  true, // enabling ACME is agreeing to the CA's terms (README says so)
		// The challenge ports are Parley's own listeners: certmagic finds them bound and
		// leaves the answering to TLSConfig and HTTPHandler instead of binding 80 or 443.
		ListenHost:              tlsHost,
		AltTLSALPNPort:          tlsPort,
		AltHTTPPort:             httpPort,
		DisableHTTPChallenge:    a.HTTPAddr == "",
		DisableTLSALPNChallenge: a.DisableTLSALPN,
		TrustedRoots:            roots,
		Logger:                  zl,
	})
	s.magic.Issuers = []certmagic.Issuer{s.issuer}
	return s, nil
}

// start loads or obtains every name's certificate; on failure the names are handed to
// certmagic's background management, which retries with backoff until bg ends.
func (s *acmeSource) start(ctx, bg context.Context) error {
	err := s.magic.ManageSync(ctx, s.names)
	if err == nil {
		return nil
	}
	if aerr := s.magic.ManageAsync(bg, s.names); aerr != nil {
		return fmt.Errorf("certs: ACME for %v: %w", s.names, aerr)
	}
	return fmt.Errorf("certs: ACME for %v: %w: %v (check that DNS of each name points at this host and that its TLS port, or server.httpListen for HTTP-01, is reachable from the internet; retrying in the background)",
		s.names, ErrPending, err)
}

func (s *acmeSource) stop() { s.cache.Stop() }

// HTTPHandler answers ACME HTTP-01 challenges (ACME mode with an HTTP listener) and passes
// every other request to next.
func (m *Manager) HTTPHandler(next http.Handler) http.Handler {
	if m.acme == nil || m.o.ACME.HTTPAddr == "" {
		return next
	}
	return m.acme.issuer.HTTPChallengeHandler(next)
}

// privateStorage is certmagic's FileStorage with its lock files made 0600 like the rest:
// certmagic creates them 0644 (they hold only timestamps, in a 0700 directory, but nothing
// under Dir is left readable by others).
type privateStorage struct{ *certmagic.FileStorage }

func (s privateStorage) Lock(ctx context.Context, name string) error {
	if err := s.FileStorage.Lock(ctx, name); err != nil {
		return err
	}
	_ = os.Chmod(filepath.Join(s.Path, "locks", certmagic.StorageKeys.Safe(name)+".lock"), 0o600)
	return nil
}

func splitPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 {
		return "", 0, fmt.Errorf("%q has no bound port", addr)
	}
	return host, p, nil
}
