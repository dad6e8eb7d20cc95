package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// The certificate modes: every bad combination names the key, its variable and the fix.
func TestTLSModesValidation(t *testing.T) {
	acme := map[string]string{"PARLEY_SERVER_TLS_ACME_ENABLED": "true", "PARLEY_SERVER_PUBLIC_URL": "https://meet.example.com"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		env  map[string]string
		want string // "" = valid
	}{
		{"acme", acme, ""},
		{"acme on http", with(acme, "PARLEY_SERVER_PUBLIC_URL", "http://meet.example.com"), "server.publicURL (PARLEY_SERVER_PUBLIC_URL): \"http://meet.example.com\" must be https://"},
		{"acme on an IP", with(acme, "PARLEY_SERVER_PUBLIC_URL", "https://192.0.2.7"), "server.tls.acme.enabled (PARLEY_SERVER_TLS_ACME_ENABLED): needs server.publicURL with a public DNS name (got \"192.0.2.7\")"},
		{"acme on localhost", with(acme, "PARLEY_SERVER_PUBLIC_URL", "https://localhost:8443"), "use server.tls.selfSigned on a LAN"},
		{"acme and files", with(acme, "PARLEY_SERVER_TLS_CERT", "c.pem", "PARLEY_SERVER_TLS_KEY", "k.pem"), "server.tls (PARLEY_SERVER_TLS): server.tls.cert/key and server.tls.acme.enabled are exclusive"},
		{"acme and self-signed", with(acme, "PARLEY_SERVER_TLS_SELF_SIGNED", "true"), "server.tls.acme.enabled and server.tls.selfSigned are exclusive"},
		{"acme directory", with(acme, "PARLEY_SERVER_TLS_ACME_DIRECTORY_URL", "ftp://ca"), "server.tls.acme.directoryURL (PARLEY_SERVER_TLS_ACME_DIRECTORY_URL)"},
		{"acme email", with(acme, "PARLEY_SERVER_TLS_ACME_EMAIL", "ops"), "server.tls.acme.email (PARLEY_SERVER_TLS_ACME_EMAIL): \"ops\" is not an e-mail address"},
		{"acme caRoot", with(acme, "PARLEY_SERVER_TLS_ACME_CA_ROOT", "/nonexistent.pem"), "server.tls.acme.caRoot (PARLEY_SERVER_TLS_ACME_CA_ROOT): cannot read /nonexistent.pem"},
		{"acme turn domain", with(acme, "PARLEY_LIVEKIT_TURN_DOMAIN", "10.0.0.2"), "livekit.turn.domain (PARLEY_LIVEKIT_TURN_DOMAIN)"},
		{"self-signed on an IP", map[string]string{"PARLEY_SERVER_TLS_SELF_SIGNED": "true", "PARLEY_SERVER_PUBLIC_URL": "https://192.168.1.10"}, ""},
		{"self-signed on http", map[string]string{"PARLEY_SERVER_TLS_SELF_SIGNED": "true"}, "server.publicURL (PARLEY_SERVER_PUBLIC_URL): \"http://localhost:8090\" must be https://"},
		{"httpListen", with(acme, "PARLEY_SERVER_HTTP_LISTEN", ":80"), ""},
		{"httpListen without TLS", map[string]string{"PARLEY_SERVER_HTTP_LISTEN": ":80"}, "server.httpListen (PARLEY_SERVER_HTTP_LISTEN): redirects to https and answers ACME HTTP-01: enable server.tls"},
		{"httpListen not host:port", with(acme, "PARLEY_SERVER_HTTP_LISTEN", "80"), "server.httpListen (PARLEY_SERVER_HTTP_LISTEN): \"80\" is not host:port"},
		{"httpListen is listen", with(acme, "PARLEY_SERVER_HTTP_LISTEN", "127.0.0.1:8090"), "is also server.listen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["PARLEY_SERVER_DATA_DIR"] = filepath.Join(t.TempDir(), "data")
			_, _, err := Load("", env(tc.env))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestTLSKeysAndDefaults(t *testing.T) {
	for key, want := range map[string]string{
		"server.tls.acme.enabled":      "PARLEY_SERVER_TLS_ACME_ENABLED",
		"server.tls.acme.email":        "PARLEY_SERVER_TLS_ACME_EMAIL",
		"server.tls.acme.directoryURL": "PARLEY_SERVER_TLS_ACME_DIRECTORY_URL",
		"server.tls.acme.caRoot":       "PARLEY_SERVER_TLS_ACME_CA_ROOT",
		"server.tls.selfSigned":        "PARLEY_SERVER_TLS_SELF_SIGNED",
		"server.httpListen":            "PARLEY_SERVER_HTTP_LISTEN",
	} {
		found := false
		for _, k := range Keys() {
			found = found || (k.Key == key && k.Env == want)
		}
		if !found {
			t.Errorf("key %s (%s) is not in Keys()", key, want)
		}
	}
	d := Default()
	if d.Server.TLS.ACME.DirectoryURL != "https://acme-v02.api.letsencrypt.org/directory" || d.Server.TLSEnabled() || d.Server.HTTPListen != "" {
		t.Errorf("defaults: %+v, httpListen %q", d.Server.TLS, d.Server.HTTPListen)
	}
}
