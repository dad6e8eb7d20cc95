package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/parley/parley/internal/netaddr"
	"net"
	"os"
	"strings"
	"time"
)

// renewSoon is how close to expiry a certificate gets a warning: ACME renews at a third of
// the lifetime left (30 days for Let's Encrypt), so 14 days left means renewal is failing.
const renewSoon = 14 * 24 * time.Hour

const httpsFix = "serve HTTPS: server.tls.acme.enabled: true for a public name, server.tls.selfSigned: true on a LAN, or server.tls.cert and server.tls.key"

const renewFix = "with server.tls.acme.enabled Parley renews by itself: read its log for ACME errors (port 443 or server.httpListen must reach it); with server.tls.cert/key install a new certificate"

// checkCertificate connects to Parley's listener with TLS, as a browser does, and judges
// the certificate it is given: expiry, name, issuer.
func (d *doctor) checkCertificate(ctx context.Context) Result {
	host, err := d.publicHost()
	if err != nil {
		return fail("set server.publicURL (PARLEY_SERVER_PUBLIC_URL)", "%v", err)
	}
	local := netaddr.IsLocalHost(host)
	if !d.t.TLS {
		switch {
		case strings.HasPrefix(d.t.PublicURL, "https://"):
			return warn("check the certificate of the proxy in front of Parley, or let Parley serve HTTPS itself (server.tls.acme.enabled)",
				"Parley serves plain HTTP while server.publicURL is https: right only behind a TLS proxy")
		case local:
			return pass("plain HTTP on %s: browsers treat this machine as secure", host)
		}
		return fail(httpsFix, "plain HTTP on %s: browsers give cameras and microphones to https pages only", host)
	}
	addr, err := dialHost(d.t.Listen)
	if err != nil {
		return fail("fix server.listen (PARLEY_SERVER_LISTEN), e.g. :443", "server.listen %q: %v", d.t.Listen, err)
	}
	r := d.judgeAt(ctx, addr, host)
	if r.Status == Fail && r.handshake && d.t.CertFile != "" {
		// Parley is not answering: the file it would serve still tells whether it is the cause.
		if chain, err := readChain(d.t.CertFile); err == nil {
			f := judgeCertificate(chain, host, d.e.RootCAs, d.t.SelfSigned, d.e.Now())
			if f.Status != Pass {
				f.Status, f.Detail = Fail, "server.tls.cert "+d.t.CertFile+": "+f.Detail+" (and "+r.Detail+")"
				return f
			}
		}
	}
	return r
}

// judgeAt judges the certificate the TLS server at addr presents for host.
func (d *doctor) judgeAt(ctx context.Context, addr, host string) Result {
	chain, err := d.handshake(ctx, addr, host)
	if err != nil {
		r := fail("check server.tls (cert/key files, or ACME in Parley's log) and that Parley runs", "TLS handshake with %s failed: %v", addr, err)
		r.handshake = true
		return r
	}
	return judgeCertificate(chain, host, d.e.RootCAs, d.t.SelfSigned, d.e.Now())
}

// readChain parses the PEM certificates of file, leaf first.
func readChain(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return chain, nil
}

// handshake returns the chain the server at addr presents for serverName, unverified: the
// verdict is judgeCertificate's, which explains what is wrong instead of only refusing.
func (d *doctor) handshake(ctx context.Context, addr, serverName string) ([]*x509.Certificate, error) {
	raw, err := d.e.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	sni := serverName
	if net.ParseIP(sni) != nil {
		sni = "" // SNI carries names only
	}
	c := tls.Client(raw, &tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // verified by judgeCertificate
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	chain := c.ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return nil, errors.New("no certificate presented")
	}
	return chain, nil
}

// judgeCertificate explains the first problem of chain for host at now, in the order a
// browser would refuse it.
func judgeCertificate(chain []*x509.Certificate, host string, roots *x509.CertPool, selfSigned bool, now time.Time) Result {
	leaf := chain[0]
	days := func(d time.Duration) int { return int(d.Hours() / 24) }
	until := leaf.NotAfter.UTC().Format(time.DateOnly)
	switch {
	case now.After(leaf.NotAfter):
		return fail(renewFix, "the certificate for %s expired on %s (%d days ago)", names(leaf), until, days(now.Sub(leaf.NotAfter)))
	case now.Before(leaf.NotBefore):
		return fail("check this host's clock (timedatectl), then the certificate", "the certificate is valid only from %s: is the clock wrong?", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return fail(fmt.Sprintf("get a certificate for %s (server.tls.acme.enabled does), or make server.publicURL the name the certificate holds", host),
			"the certificate is for %s, not %s", names(leaf), host)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now}
	if _, err := leaf.Verify(opts); err != nil {
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) && selfSigned {
			return warn("install Parley's CA (https://"+host+"/ca.crt) on each device once",
				"issued by Parley's local CA (%s): browsers that do not trust it refuse the page", leaf.Issuer.CommonName)
		}
		return fail("use a certificate from a public CA: server.tls.acme.enabled: true; on a LAN, server.tls.selfSigned: true with its CA installed on each device",
			"the certificate for %s is not trusted (%v): issued by %q, self-signed or an unknown CA", host, err, leaf.Issuer.CommonName)
	}
	left := leaf.NotAfter.Sub(now)
	if left < renewSoon {
		return warn(renewFix, "the certificate for %s expires on %s, in %d days, and has not been renewed", host, until, days(left))
	}
	return pass("valid for %s until %s (%d days), issued by %q", host, until, days(left), leaf.Issuer.CommonName)
}

func names(c *x509.Certificate) string {
	n := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 {
		n = append(n, c.Subject.CommonName)
	}
	return strings.Join(n, ", ")
}
