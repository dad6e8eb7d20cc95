// Package certs is where Parley's TLS certificates come from: files the user brings
// (re-read when they change), ACME (certmagic: TLS-ALPN-01 on Parley's TLS listener,
// HTTP-01 on its plain-HTTP listener, renewal in the background), or a local CA made once
// for networks without a public name. Every mode yields the same *tls.Config; certificates
// change under it without a restart, and connections already open keep theirs.
package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mholt/acmez/v3"
)

// ErrPending means the ACME certificate could not be obtained yet; the Manager keeps
// trying in the background (with backoff) and serves it as soon as it has it.
var ErrPending = errors.New("certificate not obtained yet")

// Source is what a TLS listener (or connection mux) needs: a config whose certificate
// follows renewals. TLSConfig returns a fresh copy each call; changing it affects no one else.
type Source interface {
	TLSConfig() *tls.Config
}

// Options select the mode: exactly one of CertFile+KeyFile, ACME or SelfSigned.
type Options struct {
	// Dir keeps the ACME account, certificates and the local CA (0700; files 0600).
	Dir string
	// Names are what the certificate covers: DNS names (ACME: DNS names only) and, for
	// SelfSigned, IP addresses. The first is the default for clients that send no SNI.
	Names []string

	CertFile, KeyFile string
	ACME              *ACME
	SelfSigned        bool

	Log *slog.Logger
	Now func() time.Time // self-signed validity; time.Now when nil

	// CheckInterval is how often the files are re-read (default 10 s), the self-signed leaf
	// checked for renewal (1 h) and the ACME certificates (certmagic's 10 min).
	CheckInterval time.Duration
	// LeafValidity is the self-signed leaf's lifetime (default 90 days); it is renewed
	// when a third of it is left.
	LeafValidity time.Duration
}

// ACME configures the ACME mode. The listener addresses let certmagic know that Parley
// answers the challenges itself; without them it would try to bind ports 80 and 443.
type ACME struct {
	DirectoryURL string // e.g. https://acme-v02.api.letsencrypt.org/directory
	Email        string // account contact, optional
	CARootFile   string // PEM trusted (beside the system roots) for the CA's own HTTPS
	Profile      string // the CA's certificate profile (RFC draft "ACME profiles"); "" = its default

	TLSAddr  string // the bound address of the TLS listener that serves TLSConfig
	HTTPAddr string // the bound address of the listener that serves HTTPHandler; "" = no HTTP-01
	// DisableTLSALPN leaves only HTTP-01 (a TLS front that cannot pass acme-tls/1 through).
	DisableTLSALPN bool
}

// Manager holds the current certificates of one mode. It is safe for concurrent use.
type Manager struct {
	o    Options
	log  *slog.Logger
	mode string

	files *fileSource
	local *localCA
	acme  *acmeSource

	mu       sync.Mutex
	cancel   context.CancelFunc
	done     sync.WaitGroup
	stopACME sync.Once
}

// New prepares the certificates of the selected mode: it loads the files, or loads (or
// makes) the local CA and issues a leaf, or sets up ACME. It does no network I/O: ACME
// certificates are obtained by Start, once the listeners serve TLSConfig and HTTPHandler.
func New(ctx context.Context, o Options) (*Manager, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o, log: o.Log}
	modes := 0
	if o.CertFile != "" || o.KeyFile != "" {
		modes, m.mode = modes+1, "files"
	}
	if o.ACME != nil {
		modes, m.mode = modes+1, "acme"
	}
	if o.SelfSigned {
		modes, m.mode = modes+1, "self-signed"
	}
	if modes != 1 {
		return nil, fmt.Errorf("certs: choose exactly one of certificate files, ACME or self-signed (got %d)", modes)
	}
	if m.mode != "files" {
		if o.Dir == "" {
			return nil, errors.New("certs: a storage directory is required")
		}
		if err := privateDir(o.Dir); err != nil {
			return nil, err
		}
		if len(o.Names) == 0 {
			return nil, errors.New("certs: no names to certify")
		}
	}
	var err error
	switch m.mode {
	case "files":
		m.files, err = newFileSource(o.CertFile, o.KeyFile, o.Log)
	case "acme":
		m.acme, err = newACME(o)
	case "self-signed":
		m.local, err = newLocalCA(o)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Mode is "files", "acme" or "self-signed".
func (m *Manager) Mode() string { return m.mode }

// TLSConfig is the server config: HTTP/1.1 only (Parley's HTTP server speaks no h2) and,
// with ACME, the TLS-ALPN-01 protocol certmagic answers in GetCertificate.
func (m *Manager) TLSConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	switch m.mode {
	case "files":
		c.GetCertificate = m.files.getCertificate
	case "self-signed":
		c.GetCertificate = m.local.getCertificate
	case "acme":
		c.GetCertificate = m.acme.magic.GetCertificate
		if !m.o.ACME.DisableTLSALPN {
			c.NextProtos = append(c.NextProtos, acmez.ACMETLS1Protocol) // a connection that negotiates it carries nothing after the handshake
		}
	}
	return c
}

// Start begins the background work and, with ACME, returns once every name has a
// certificate (loaded from Dir or obtained). Call it after the listeners serve TLSConfig
// and HTTPHandler: the CA validates through them. When obtaining fails, Start returns an
// error wrapping ErrPending and the Manager keeps retrying until Close.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return errors.New("certs: already started")
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	switch m.mode {
	case "files":
		m.loop(bg, m.interval(10*time.Second), m.files.reload)
	case "self-signed":
		m.loop(bg, m.interval(time.Hour), m.local.renewIfDue)
	case "acme":
		return m.acme.start(ctx, bg)
	}
	return nil
}

// Close stops renewals and reloads; the last certificates stay usable.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		m.cancel()
	}
	m.done.Wait()
	if m.acme != nil {
		m.stopACME.Do(m.acme.stop)
	}
	return nil
}

func (m *Manager) interval(def time.Duration) time.Duration {
	if m.o.CheckInterval > 0 {
		return m.o.CheckInterval
	}
	return def
}

// loop runs fn every interval until ctx ends; Close waits for it.
func (m *Manager) loop(ctx context.Context, every time.Duration, fn func()) {
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// privateDir makes dir (and tightens it when it existed) so only Parley's user reads it.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}
