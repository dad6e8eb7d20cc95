package api

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// SSOService is single sign-on through OpenID providers (*auth.SSO).
type SSOService interface {
	Providers() []auth.ProviderInfo
	PasswordLogin() bool
	Begin(ctx context.Context, name string) (redirect, state string, err error)
	Finish(ctx context.Context, cb auth.Callback) (code string, err error)
	Exchange(ctx context.Context, code string, cl auth.Client) (auth.Grant, error)
	LogoutURL(ctx context.Context, p auth.Principal) (string, error)
}

// oidcStateCookie binds a sign-in's state to the browser that started it, so a callback
// URL made by someone else (login CSRF) is refused.
const oidcStateCookie = "parley_oidc_state"

type providerJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	LoginURL    string `json:"loginURL"`
}

type providersJSON struct {
	Password bool `json:"password"`
	Passkeys bool `json:"passkeys"`
	// PasswordReset: the login page offers "forgot password" (mail can be sent).
	PasswordReset bool           `json:"passwordReset"`
	OIDC          []providerJSON `json:"oidc"`
}

func (s *server) authProviders(c *fiber.Ctx) error {
	out := providersJSON{Password: s.d.SSO.PasswordLogin(), Passkeys: s.d.Passkeys.Enabled(), PasswordReset: s.d.SSO.PasswordLogin() && s.d.Recovery.Enabled(), OIDC: []providerJSON{}}
	for _, p := range s.d.SSO.Providers() {
		out.OIDC = append(out.OIDC, providerJSON{Name: p.Name, DisplayName: p.DisplayName,
			LoginURL: "/api/auth/oidc/" + url.PathEscape(p.Name) + "/login"})
	}
	return c.JSON(out)
}

func (s *server) oidcLogin(c *fiber.Ctx) error {
	redirect, state, err := s.d.SSO.Begin(c.UserContext(), c.Params("name"))
	if err != nil {
		return ssoError(err)
	}
	s.oidcCookie(c, state, 10*time.Minute)
	return c.Redirect(redirect, fiber.StatusFound)
}

func (s *server) oidcCookie(c *fiber.Ctx, value string, age time.Duration) {
	c.Cookie(&fiber.Cookie{Name: oidcStateCookie, Value: value, Path: "/api/auth/oidc/", MaxAge: int(age / time.Second),
		HTTPOnly: true, Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
}

// oidcCallback finishes a sign-in and sends the browser to the login page with a one-time
// code (the tokens never appear in a URL). A wrong state or nonce is a 400; the refusals a
// person can act on (unverified e-mail, no account, disabled account, the provider said no)
// go back to the login page, which explains them.
func (s *server) oidcCallback(c *fiber.Ctx) error {
	browserState := c.Cookies(oidcStateCookie)
	s.oidcCookie(c, "", -time.Second)
	code, err := s.d.SSO.Finish(c.UserContext(), auth.Callback{Provider: c.Params("name"),
		State: c.Query("state"), BrowserState: browserState, Code: c.Query("code"),
		Error: c.Query("error"), Detail: c.Query("error_description")})
	if err == nil {
		return c.Redirect("/login?sso="+url.QueryEscape(code), fiber.StatusFound)
	}
	if errors.Is(err, auth.ErrOIDCState) || errors.Is(err, auth.ErrOIDCNonce) || errors.Is(err, auth.ErrUnknownProvider) {
		return ssoError(err)
	}
	reason := "provider"
	switch {
	case errors.Is(err, auth.ErrEmailNotVerified):
		reason = "email_not_verified"
	case errors.Is(err, auth.ErrNoAccount):
		reason = "no_account"
	case errors.Is(err, auth.ErrAccountUnverified):
		reason = "account_unverified"
	case errors.Is(err, auth.ErrUserDisabled):
		reason = "user_disabled"
	}
	s.d.Log.Warn("single sign-on refused", "provider", c.Params("name"), "reason", reason, "err", err)
	return c.Redirect("/login?sso_error="+reason, fiber.StatusFound)
}

func (s *server) oidcExchange(c *fiber.Ctx) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.d.SSO.Exchange(c.UserContext(), in.Code, clientOf(c))
	if err != nil {
		return authError(err)
	}
	return c.JSON(toGrantJSON(g))
}

func (s *server) oidcLogout(c *fiber.Ctx) error {
	u, err := s.d.SSO.LogoutURL(c.UserContext(), *httpx.PrincipalFrom(c))
	if err != nil {
		return ssoError(err)
	}
	return c.JSON(fiber.Map{"url": u})
}

// ssoError maps the single sign-on errors; the rest are the auth errors.
func ssoError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUnknownProvider):
		return httpx.NotFound("provider_not_found", "no sign-in provider of that name is configured")
	case errors.Is(err, auth.ErrOIDCState):
		return httpx.BadRequest("invalid_state", "this sign-in is unknown, expired, already used or was started in another browser: start it again")
	case errors.Is(err, auth.ErrOIDCNonce):
		return httpx.BadRequest("invalid_nonce", "the provider's ID token does not belong to this sign-in: start it again")
	case errors.Is(err, auth.ErrOIDCProvider):
		return httpx.NewError(fiber.StatusBadGateway, "provider_unavailable", "the identity provider could not be reached or refused: try again later")
	}
	return authError(err)
}
