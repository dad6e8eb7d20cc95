package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parley/parley/internal/secret"
)

// Errors of single sign-on. The api package maps them.
var (
	ErrOIDCState           = errors.New("unknown or expired sign-in state")
	ErrOIDCNonce           = errors.New("the ID token's nonce does not match the sign-in")
	ErrOIDCProvider        = errors.New("the identity provider refused or failed the sign-in")
	ErrUnknownProvider     = errors.New("no such sign-in provider")
	ErrEmailNotVerified    = errors.New("the provider did not confirm the e-mail address")
	ErrNoAccount           = errors.New("no account for this e-mail and the provider may not create one")
	ErrAccountUnverified   = errors.New("the account with this e-mail has not confirmed its address")
	ErrPasswordLoginClosed = errors.New("password sign-in is turned off")
)

// OIDCProvider configures one OpenID provider (the defaults are set by the config package).
type OIDCProvider struct {
	Name, DisplayName, Issuer, ClientID, ClientSecret string
	Scopes                                            []string
	NameClaim, EmailClaim, GroupsClaim, AdminGroup    string
	CreateUsers                                       bool
}

// loginTTL bounds how long a person may take at the provider; handoffTTL how long the web
// app has to collect the session after the redirect back (it does so at once).
const (
	loginTTL   = 10 * time.Minute
	handoffTTL = time.Minute
)

// SSO signs people in through OpenID providers with the authorization code flow, PKCE, a
// state bound to the browser and a nonce bound to the ID token. Its sessions are the
// Service's own, so rotation, revocation and disabled accounts apply as to any other.
//
// coreos/go-oidc is the relying party: it discovers the provider, fetches its keys and
// verifies ID tokens, and leaves state, nonce and PKCE to us, which lets them live in the
// database (any instance can take the callback) instead of in a cookie jar of the library's.
type SSO struct {
	svc       *Service
	providers []*provider
	publicURL string
	client    *http.Client
	log       *slog.Logger
}

type provider struct {
	cfg OIDCProvider
	mu  sync.Mutex // guards the lazily discovered fields below
	op  *oidc.Provider
	end string // end_session_endpoint, "" when the provider offers none
}

// NewSSO builds the providers. Discovery happens at the first sign-in and is retried on the
// next one after a failure, so a provider that is down does not stop Parley from starting.
func NewSSO(svc *Service, providers []OIDCProvider, publicURL string, client *http.Client) *SSO {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	s := &SSO{svc: svc, publicURL: publicURL, client: client, log: svc.log.With("component", "oidc")}
	for _, p := range providers {
		s.providers = append(s.providers, &provider{cfg: p})
	}
	return s
}

// ProviderInfo is what the login page shows of a provider.
type ProviderInfo struct{ Name, DisplayName string }

// Providers lists the configured providers in configuration order.
func (s *SSO) Providers() []ProviderInfo {
	out := make([]ProviderInfo, len(s.providers))
	for i, p := range s.providers {
		out[i] = ProviderInfo{Name: p.cfg.Name, DisplayName: p.cfg.DisplayName}
	}
	return out
}

// PasswordLogin reports whether e-mail and password sign-in is on.
func (s *SSO) PasswordLogin() bool { return !s.svc.cfg.PasswordLoginOff }

func (s *SSO) provider(name string) (*provider, error) {
	for _, p := range s.providers {
		if p.cfg.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("provider %q: %w", name, ErrUnknownProvider)
}

func (s *SSO) ctx(ctx context.Context) context.Context {
	// WithoutCancel: go-oidc keeps this context for later key-set fetches.
	return oidc.ClientContext(context.WithoutCancel(ctx), s.client)
}

// discover returns the provider's metadata, fetching it once.
func (s *SSO) discover(ctx context.Context, p *provider) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.op != nil {
		return p.op, nil
	}
	op, err := oidc.NewProvider(s.ctx(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("provider %q: discovery at %s: %w: %w", p.cfg.Name, p.cfg.Issuer, ErrOIDCProvider, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := op.Claims(&meta); err == nil {
		p.end = meta.EndSession
	}
	p.op = op
	return op, nil
}

func (s *SSO) oauth(p *provider, op *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: s.publicURL + "/api/auth/oidc/" + p.cfg.Name + "/callback", Scopes: p.cfg.Scopes,
	}
}

// Begin starts a sign-in: it returns the provider URL to send the browser to and the state,
// which the caller binds to the browser (a cookie) and hands back to Finish.
func (s *SSO) Begin(ctx context.Context, name string) (redirect, state string, err error) {
	p, err := s.provider(name)
	if err != nil {
		return "", "", err
	}
	op, err := s.discover(ctx, p)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := secret.Random(32), secret.Random(32), oauth2.GenerateVerifier()
	row := oidcLoginRow{StateHash: secret.Hash(state), Provider: name, Nonce: nonce, Verifier: verifier,
		ExpiresAt: s.svc.now().Add(loginTTL)}
	if err := s.svc.store.createOIDCLogin(ctx, &row); err != nil {
		return "", "", fmt.Errorf("store sign-in state: %w", err)
	}
	return s.oauth(p, op).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// Callback is what the provider redirects back with.
type Callback struct {
	Provider      string
	State         string // the query's state
	BrowserState  string // the state the browser kept from Begin
	Code          string
	Error, Detail string // the provider's error and error_description, if it sent one
}

// Finish completes a sign-in: it checks the state (single use, bound to the browser),
// redeems the code with the PKCE verifier, verifies the ID token and its nonce, maps the
// claims to an account (found by subject, else linked or created by verified e-mail) and
// returns a one-time code for Exchange.
func (s *SSO) Finish(ctx context.Context, cb Callback) (string, error) {
	p, err := s.provider(cb.Provider)
	if err != nil {
		return "", err
	}
	if cb.State == "" || cb.BrowserState == "" || cb.State != cb.BrowserState {
		return "", fmt.Errorf("provider %q: state does not match this browser's sign-in: %w", cb.Provider, ErrOIDCState)
	}
	login, err := s.svc.store.takeOIDCLogin(ctx, secret.Hash(cb.State), s.svc.now())
	if err != nil {
		return "", err
	}
	if login.Provider != cb.Provider {
		return "", fmt.Errorf("state of provider %q used at %q: %w", login.Provider, cb.Provider, ErrOIDCState)
	}
	if cb.Error != "" {
		return "", fmt.Errorf("provider %q: %s %s: %w", cb.Provider, cb.Error, cb.Detail, ErrOIDCProvider)
	}
	op, err := s.discover(ctx, p)
	if err != nil {
		return "", err
	}
	conf := s.oauth(p, op)
	tok, err := conf.Exchange(s.ctx(ctx), cb.Code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return "", fmt.Errorf("provider %q: redeem code: %w: %w", cb.Provider, ErrOIDCProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", fmt.Errorf("provider %q: no id_token in the token answer: %w", cb.Provider, ErrOIDCProvider)
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}).Verify(s.ctx(ctx), raw)
	if err != nil {
		return "", fmt.Errorf("provider %q: ID token: %w: %w", cb.Provider, ErrOIDCProvider, err)
	}
	if idt.Nonce != login.Nonce {
		return "", fmt.Errorf("provider %q: %w", cb.Provider, ErrOIDCNonce)
	}
	claims, err := s.claims(ctx, op, idt, tok)
	if err != nil {
		return "", fmt.Errorf("provider %q: %w", cb.Provider, err)
	}
	u, err := s.account(ctx, p, idt.Subject, claims)
	if err != nil {
		return "", err
	}
	code := secret.Random(32)
	h := oidcHandoffRow{CodeHash: secret.Hash(code), UserID: u.ID, Provider: p.cfg.Name, IDToken: raw, ExpiresAt: s.svc.now().Add(handoffTTL)}
	if err := s.svc.store.createHandoff(ctx, &h); err != nil {
		return "", fmt.Errorf("store sign-in code: %w", err)
	}
	return code, nil
}

// claims merges the ID token's claims with the userinfo answer's (providers differ in
// which carries name, e-mail and groups); the ID token wins where both have a claim.
func (s *SSO) claims(ctx context.Context, op *oidc.Provider, idt *oidc.IDToken, tok *oauth2.Token) (map[string]any, error) {
	merged := map[string]any{}
	if op.UserInfoEndpoint() != "" {
		info, err := op.UserInfo(s.ctx(ctx), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("userinfo: %w: %w", ErrOIDCProvider, err)
		}
		if info.Subject != idt.Subject {
			return nil, fmt.Errorf("userinfo is about %q, the ID token about %q: %w", info.Subject, idt.Subject, ErrOIDCProvider)
		}
		if err := info.Claims(&merged); err != nil {
			return nil, fmt.Errorf("userinfo claims: %w", err)
		}
	}
	var fromToken map[string]any
	if err := idt.Claims(&fromToken); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	for k, v := range fromToken {
		merged[k] = v
	}
	return merged, nil
}

// Exchange trades the one-time code of Finish for a session, which remembers its provider
// and ID token for the provider's logout.
func (s *SSO) Exchange(ctx context.Context, code string, cl Client) (Grant, error) {
	h, err := s.svc.store.takeHandoff(ctx, secret.Hash(code), s.svc.now())
	if err != nil {
		return Grant{}, err
	}
	u, err := s.svc.store.userByID(ctx, h.UserID)
	if err != nil {
		return Grant{}, err
	}
	if u.Disabled {
		return Grant{}, fmt.Errorf("sign-in %s: %w", u.Email, ErrUserDisabled)
	}
	g, err := s.svc.startSession(ctx, u, cl)
	if err != nil {
		return Grant{}, err
	}
	claims, err := s.svc.tokens.parse(g.AccessToken)
	if err != nil {
		return Grant{}, err
	}
	if err := s.svc.store.createOIDCSession(ctx, &oidcSessionRow{SessionID: claims.SID, Provider: h.Provider, IDToken: h.IDToken}); err != nil {
		return Grant{}, fmt.Errorf("remember provider session: %w", err)
	}
	s.log.Info("signed in", "provider", h.Provider, "user_id", u.ID)
	return g, nil
}

// LogoutURL is where to send the browser to end the provider's session too after the
// caller's session ends: "" when the session did not come from a provider or the provider
// offers no end_session_endpoint.
func (s *SSO) LogoutURL(ctx context.Context, p Principal) (string, error) {
	row, ok, err := s.svc.store.oidcSession(ctx, p.SessionID)
	if err != nil || !ok {
		return "", err
	}
	prov, err := s.provider(row.Provider)
	if err != nil {
		return "", nil // the provider was removed from the configuration since
	}
	if _, err := s.discover(ctx, prov); err != nil {
		return "", err
	}
	if prov.end == "" {
		return "", nil
	}
	q := url.Values{"id_token_hint": {row.IDToken}, "client_id": {prov.cfg.ClientID},
		"post_logout_redirect_uri": {s.publicURL + "/login"}}
	return prov.end + "?" + q.Encode(), nil
}

// inGroup reports whether the groups claim (a list or one string) names group.
func inGroup(claim any, group string) bool {
	switch v := claim.(type) {
	case string:
		return v == group
	case []any:
		return slices.ContainsFunc(v, func(x any) bool { s, _ := x.(string); return s == group })
	}
	return false
}
