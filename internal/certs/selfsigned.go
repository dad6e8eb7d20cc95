package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// The local CA's files in Options.Dir. The key never leaves this machine; the certificate
// is what users install (served at /ca.crt).
const (
	caCertFile = "local-ca.crt"
	caKeyFile  = "local-ca.key"
	caValidity = 10 * 365 * 24 * time.Hour
)

// privateNets are the addresses a LAN server can have; the CA may certify them (besides
// the addresses it was made for) so a new DHCP lease needs no new CA.
var privateNets = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
	"127.0.0.0/8", "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"}

// localDomains are the DNS suffixes of names that exist only on a local network.
var localDomains = []string{"localhost", ".local", ".lan", ".home.arpa", ".internal"}

// localCA is the self-signed mode: a CA made once and a short-lived leaf it signs. The CA
// is name-constrained to local names and the names it was made for, so a user who trusts
// it trusts it for this server only, not for the web.
type localCA struct {
	cert     *x509.Certificate
	key      crypto.Signer
	names    []string
	validity time.Duration
	now      func() time.Time
	log      *slog.Logger
	leaf     atomic.Pointer[tls.Certificate]
}

func newLocalCA(o Options) (*localCA, error) {
	ca := &localCA{names: o.Names, validity: o.LeafValidity, now: o.Now, log: o.Log}
	if ca.validity <= 0 {
		ca.validity = 90 * 24 * time.Hour
	}
	certPath, keyPath := filepath.Join(o.Dir, caCertFile), filepath.Join(o.Dir, caKeyFile)
	var err error
	ca.cert, ca.key, err = loadCA(certPath, keyPath)
	if errors.Is(err, os.ErrNotExist) {
		ca.cert, ca.key, err = createCA(certPath, keyPath, o.Names, o.Now())
		if err == nil {
			o.Log.Info("local certificate authority created", "file", certPath)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := ca.issue(); err != nil {
		return nil, err
	}
	return ca, nil
}

// CACertificate is the DER of the local CA (nil unless self-signed), to serve and install.
func (m *Manager) CACertificate() []byte {
	if m.local == nil {
		return nil
	}
	return m.local.cert.Raw
}

// Fingerprint is the local CA's SHA-256 fingerprint as devices show it (AB:CD:...), or "".
func (m *Manager) Fingerprint() string {
	if m.local == nil {
		return ""
	}
	return Fingerprint(m.local.cert.Raw)
}

// Fingerprint formats the SHA-256 of a DER certificate as colon-separated hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func (ca *localCA) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return ca.leaf.Load(), nil
}

// renewIfDue issues a new leaf when a third of the current one's lifetime is left.
func (ca *localCA) renewIfDue() {
	if ca.leaf.Load().Leaf.NotAfter.Sub(ca.now()) > ca.validity/3 {
		return
	}
	if err := ca.issue(); err != nil {
		ca.log.Error("renewing the self-signed certificate", "err", err)
		return
	}
	ca.log.Info("self-signed certificate renewed", "expires", ca.leaf.Load().Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// issue signs a new leaf for every name the CA may certify; names it may not (the CA was
// made for other names) are left out with a warning that says how to get a new CA.
func (ca *localCA) issue() error {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: ca.names[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range ca.names {
		if !permitted(ca.cert, n) {
			ca.log.Warn("the local CA cannot certify "+n+": it was made for other names; delete "+caCertFile+" and "+caKeyFile+
				" in the certs directory to make a new one (every device must then trust the new CA)", "name", n)
			continue
		}
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if len(tmpl.IPAddresses)+len(tmpl.DNSNames) == 0 {
		return fmt.Errorf("certs: the local CA can certify none of %v", ca.names)
	}
	now := ca.now()
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(ca.validity)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := sign(tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	ca.leaf.Store(&tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf})
	return nil
}

// permitted applies the CA's own name constraints, as a verifying browser will.
func permitted(ca *x509.Certificate, name string) bool {
	if ip := net.ParseIP(name); ip != nil {
		for _, n := range ca.PermittedIPRanges {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	name = strings.ToLower(name)
	for _, d := range ca.PermittedDNSDomains {
		d = strings.ToLower(d)
		if strings.HasPrefix(d, ".") && strings.HasSuffix(name, d) || name == d || strings.HasSuffix(name, "."+d) {
			return true // ".local" covers its subdomains only, "meet.lan" itself and below
		}
	}
	return false
}

func createCA(certPath, keyPath string, names []string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Parley local CA (" + host + ")", Organization: []string{"Parley"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		PermittedDNSDomains:   append([]string{}, localDomains...),
	}
	for _, c := range privateNets {
		_, n, _ := net.ParseCIDR(c)
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, n)
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		} else if !permitted(tmpl, n) {
			tmpl.PermittedDNSDomains = append(tmpl.PermittedDNSDomains, n)
		}
	}
	der, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	// The key first: a certificate without its key would make loadCA fail on every start.
	if err := writePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return nil, nil, err
	}
	if err := writePrivate(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func loadCA(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %s exists but its key does not: %w (delete %s to make a new CA)", certPath, err, certPath)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: local CA %s: %w", certPath, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("certs: local CA %s: %w", certPath, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !cert.IsCA {
		return nil, nil, fmt.Errorf("certs: %s is not a CA certificate with a signing key", certPath)
	}
	return cert, signer, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("certs: sign: %w", err)
	}
	return der, nil
}

// writePrivate writes a 0600 file atomically (temp file + rename in the same directory).
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}
