package certs

import (
	"html/template"
	"net"
	"net/http"
	"net/url"
)

// Paths of the local CA, served in self-signed mode on the TLS and the plain-HTTP listener.
const (
	CACertPath = "/ca.crt"
	CAPagePath = "/ca"
)

// RedirectHTTPS answers every request with a 308 to the same path and query on publicURL's
// origin. The target host is always publicURL's, never the request's Host header, so the
// redirect cannot be pointed elsewhere.
func RedirectHTTPS(publicURL string) (http.Handler, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil, err
	}
	origin := "https://" + u.Host
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := origin + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	}), nil
}

// CAHandler serves the local CA at CACertPath and the page that explains how to trust it at
// CAPagePath, and passes every other request to next. Outside self-signed mode it is next.
func (m *Manager) CAHandler(next http.Handler) http.Handler {
	if m.local == nil {
		return next
	}
	der, fp := m.local.cert.Raw, m.Fingerprint()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case CACertPath:
			w.Header().Set("Content-Type", "application/x-x509-ca-cert")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(der)
		case CAPagePath, CAPagePath + "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_ = caPage.Execute(w, map[string]string{"Fingerprint": fp, "Host": hostOnly(r.Host)})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

var caPage = template.Must(template.New("ca").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Trust this Parley server</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
code{word-break:break-all;background:#f2f2f2;padding:.1rem .3rem}h2{font-size:1.1rem;margin-top:1.5rem}</style></head>
<body>
<h1>Trust this server to use cameras on this network</h1>
<p>Browsers allow camera and microphone only on secure pages. This Parley server has no public
name, so it made its own certificate authority. Install it once on each device that joins
meetings here; it can only vouch for local names and this server's addresses.</p>
<p><a href="/ca.crt" download="parley-ca.crt"><strong>Download the certificate (parley-ca.crt)</strong></a></p>
<p>Before trusting it, check that its SHA-256 fingerprint is the one the server printed at start-up:<br>
<code>{{.Fingerprint}}</code></p>
<h2>Windows</h2>
<p>Open the downloaded file, choose <em>Install Certificate</em>, <em>Current User</em>, <em>Place all certificates in
the following store</em>, <em>Trusted Root Certification Authorities</em>, then restart the browser.</p>
<h2>macOS</h2>
<p>Open the file: Keychain Access adds it to <em>login</em>. Double-click <em>Parley local CA</em>, open
<em>Trust</em> and set <em>When using this certificate</em> to <em>Always Trust</em>.</p>
<h2>Linux</h2>
<p>System (Debian, Ubuntu): <code>sudo cp parley-ca.crt /usr/local/share/ca-certificates/ &amp;&amp; sudo update-ca-certificates</code>.
Chrome and Chromium: Settings, Privacy and security, Security, Manage certificates, Authorities, Import.
Firefox: Settings, Privacy &amp; Security, View Certificates, Authorities, Import, and tick <em>Trust this CA to identify websites</em>.</p>
<h2>Android</h2>
<p>Settings, Security, Encryption &amp; credentials, Install a certificate, <em>CA certificate</em>, and pick the
downloaded file.</p>
<h2>iPhone and iPad</h2>
<p>Open this page in Safari and download the file; allow the profile. Then Settings, General, VPN &amp; Device
Management, install the <em>Parley local CA</em> profile, and turn it on in Settings, General, About,
Certificate Trust Settings.</p>
<p>Then open <a href="/">the meetings on {{.Host}}</a>.</p>
</body></html>
`))
