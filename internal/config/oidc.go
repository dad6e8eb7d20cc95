package config

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
)

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// validateOIDC checks the single sign-on providers, and that someone can still sign in.
func (c *Config) validateOIDC(bad func(key, format string, args ...any)) {
	seen := map[string]bool{}
	for i := range c.Auth.OIDC {
		p := &c.Auth.OIDC[i]
		key := "auth.oidc[" + strconv.Itoa(i) + "]"
		if !providerName.MatchString(p.Name) {
			bad(key+".name", "%q: use 1-32 lower-case letters, digits, - or _ (it is part of the sign-in URL)", p.Name)
		} else if seen[p.Name] {
			bad(key+".name", "%q is used by two providers: give each its own name", p.Name)
		}
		seen[p.Name] = true
		if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".issuer", "%q: use the provider's issuer URL, e.g. \"https://login.example.com/realms/staff\"", p.Issuer)
		}
		if p.ClientID == "" {
			bad(key+".clientID", "is empty: register Parley as a client at the provider and set its client id")
		}
		if p.DisplayName == "" {
			p.DisplayName = p.Name
		}
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "email", "profile"}
		}
		if p.NameClaim == "" {
			p.NameClaim = "name"
		}
		if p.EmailClaim == "" {
			p.EmailClaim = "email"
		}
		if p.GroupsClaim == "" {
			p.GroupsClaim = "groups"
		}
		if p.CreateUsers == nil {
			yes := true
			p.CreateUsers = &yes
		}
	}
	if !c.Auth.PasswordLogin && len(c.Auth.OIDC) == 0 {
		bad("auth.passwordLogin", "is false but no auth.oidc provider is set: nobody could sign in; add a provider or set it to true")
	}
}

// validateSMTP checks the mail settings when a host is set.
func (c *Config) validateSMTP(bad func(key, format string, args ...any)) {
	m := c.SMTP
	if m.Host == "" {
		return
	}
	if m.Port < 1 || m.Port > 65535 {
		bad("smtp.port", "%d is not a port: use 587 (starttls), 465 (tls) or 25", m.Port)
	}
	switch m.Security {
	case "starttls", "tls", "none":
	default:
		bad("smtp.security", "%q: use starttls, tls or none", m.Security)
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		bad("smtp.from", "%q is not an address: use e.g. \"Parley <meet@example.com>\"", m.From)
	}
	if (m.Username == "") != (m.Password == "") {
		bad("smtp.username", "set both smtp.username and smtp.password, or neither")
	}
}
