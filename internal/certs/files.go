package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// fileSource serves a certificate and key the user provides (certbot, a corporate CA) and
// re-reads them when either file changes, so a renewal by another tool needs no restart.
type fileSource struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]
	seen              string // stamp of the files last tried, to log a bad pair once
}

func newFileSource(certFile, keyFile string, log *slog.Logger) (*fileSource, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("certs: both a certificate and a key file are needed")
	}
	s := &fileSource{certFile: certFile, keyFile: keyFile, log: log}
	s.seen = s.stamp()
	c, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	s.cert.Store(c)
	return s, nil
}

func (s *fileSource) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert.Load(), nil
}

// reload swaps in the files' pair when they changed and form a valid pair; a half-written
// renewal (new certificate, old key) keeps the old pair until the next check.
func (s *fileSource) reload() {
	st := s.stamp()
	if st == s.seen {
		return
	}
	c, err := loadPair(s.certFile, s.keyFile)
	if err != nil {
		s.log.Warn("certificate files changed but do not load; still serving the previous certificate", "err", err)
		s.seen = st
		return
	}
	s.seen = st
	s.cert.Store(c)
	s.log.Info("certificate reloaded", "file", s.certFile, "expires", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// stamp identifies the files' current contents cheaply (size and mtime, following symlinks
// as certbot's live/ directory uses them).
func (s *fileSource) stamp() string {
	var out string
	for _, f := range []string{s.certFile, s.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			out += "missing;"
			continue
		}
		out += fmt.Sprintf("%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return out
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server.tls: load %s / %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("server.tls: %s: %w", certFile, err)
		}
	}
	return &c, nil
}
