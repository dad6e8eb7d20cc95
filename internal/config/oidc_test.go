package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOIDCProviders(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"defaults filled in", `auth: {oidc: [{name: corp, issuer: "https://id.example.com", clientID: parley}]}`, ""},
		{"bad name", `auth: {oidc: [{name: "Corp Login", issuer: "https://id.example.com", clientID: p}]}`, "auth.oidc[0].name"},
		{"two of a name", `auth: {oidc: [{name: a, issuer: "https://x.example", clientID: p}, {name: a, issuer: "https://y.example", clientID: p}]}`, "auth.oidc[1].name"},
		{"no issuer", `auth: {oidc: [{name: a, clientID: p}]}`, "auth.oidc[0].issuer"},
		{"no client", `auth: {oidc: [{name: a, issuer: "https://x.example"}]}`, "auth.oidc[0].clientID"},
		{"nobody could sign in", `auth: {passwordLogin: false}`, "auth.passwordLogin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, _, err := Load(path, env(nil))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				p := cfg.Auth.OIDC[0]
				if p.DisplayName != "corp" || len(p.Scopes) != 3 || p.EmailClaim != "email" || p.CreateUsers == nil || !*p.CreateUsers {
					t.Errorf("defaults = %+v", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %s", err, tc.want)
			}
		})
	}
	_, _, err := Load("", env(map[string]string{"PARLEY_AUTH_OIDC": "corp"}))
	if err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("PARLEY_AUTH_OIDC = %v, want an error saying to use the config file", err)
	}
}
