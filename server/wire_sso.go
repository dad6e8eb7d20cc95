package main

import (
	"strings"

	"github.com/parley/parley/internal/auth"
)

// wireSSO builds single sign-on on the auth service from auth.oidc (the config package has
// filled in each provider's defaults).
func (a *app) wireSSO(svc *auth.Service) *auth.SSO {
	var providers []auth.OIDCProvider
	for _, p := range a.cfg.Auth.OIDC {
		providers = append(providers, auth.OIDCProvider{
			Name: p.Name, DisplayName: p.DisplayName, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Scopes: p.Scopes, NameClaim: p.NameClaim, EmailClaim: p.EmailClaim, GroupsClaim: p.GroupsClaim,
			AdminGroup: p.AdminGroup, CreateUsers: p.CreateUsers == nil || *p.CreateUsers,
		})
	}
	return auth.NewSSO(svc, providers, strings.TrimSuffix(a.cfg.Server.PublicURL, "/"), nil)
}
