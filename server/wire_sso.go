package main

import (
	"strings"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/invite"
	"github.com/parley/parley/internal/mail"
	"github.com/parley/parley/internal/room"
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

// wireRecovery builds password reset and invitations; with smtp.host set, mail leaves
// through an outbox worker, which also carries scheduled meetings' invitations.
func (a *app) wireRecovery(svc *auth.Service, rooms *room.Service) *auth.Recovery {
	publicURL := strings.TrimSuffix(a.cfg.Server.PublicURL, "/")
	m := a.cfg.SMTP
	if m.Host == "" {
		return auth.NewRecovery(svc, nil, publicURL)
	}
	sender := mail.NewSender(mail.Config{Host: m.Host, Port: m.Port, Username: m.Username, Password: m.Password,
		From: m.From, Security: m.Security}, time.Now)
	outbox := mail.NewOutbox(sender.Send, a.log)
	a.workers = append(a.workers, outbox.Run)
	rooms.AddScheduleNotifier(invite.New(outbox, publicURL, m.From, a.log))
	return auth.NewRecovery(svc, outbox, publicURL)
}

// wirePasskeys builds passkey sign-in; the relying party is server.publicURL (its host is
// the RP ID, its origin the only one a ceremony may come from).
func (a *app) wirePasskeys(svc *auth.Service) (*auth.Passkeys, error) {
	return auth.NewPasskeys(svc, strings.TrimSuffix(a.cfg.Server.PublicURL, "/"))
}
