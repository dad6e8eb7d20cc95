package api

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// PasskeyService is registration and sign-in with passkeys (*auth.Passkeys).
type PasskeyService interface {
	Enabled() bool
	BeginRegistration(ctx context.Context, p auth.Principal) (auth.Ceremony, error)
	FinishRegistration(ctx context.Context, p auth.Principal, ceremony, name string, response []byte) (auth.Passkey, error)
	BeginLogin(ctx context.Context, cl auth.Client) (auth.Ceremony, error)
	FinishLogin(ctx context.Context, ceremony string, response []byte, cl auth.Client) (auth.Grant, error)
	List(ctx context.Context, userID string) ([]auth.Passkey, error)
	Remove(ctx context.Context, userID, id string) error
}

type passkeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

func toPasskeyJSON(p auth.Passkey) passkeyJSON {
	return passkeyJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt}
}

// ceremonyJSON is a begun ceremony: options go to navigator.credentials.create or .get
// (their publicKey member), ceremony comes back with the answer.
type ceremonyJSON struct {
	Ceremony string `json:"ceremony"`
	Options  any    `json:"options"`
}

// finishJSON is the answer to a ceremony: credential is the PublicKeyCredential as JSON
// (binary members in base64url, as PublicKeyCredential.toJSON makes it).
type finishJSON struct {
	Ceremony   string          `json:"ceremony"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// noKeys refuses an API key on the passkey sign-in routes, which take no credential: a key
// is a program's, and a passkey ceremony is a person's.
func noKeys(c *fiber.Ctx) error {
	if t := bearerToken(c); len(t) > len(apikey.Prefix) && t[:len(apikey.Prefix)] == apikey.Prefix {
		return httpx.Forbidden("insufficient_scope", "API keys cannot call %s %s: it is for people signing in", c.Method(), c.Route().Path)
	}
	return c.Next()
}

func (s *server) beginPasskeyRegistration(c *fiber.Ctx) error {
	cer, err := s.d.Passkeys.BeginRegistration(c.UserContext(), *httpx.PrincipalFrom(c))
	if err != nil {
		return passkeyError(err, false)
	}
	return c.JSON(ceremonyJSON{Ceremony: cer.ID, Options: cer.Options})
}

func (s *server) finishPasskeyRegistration(c *fiber.Ctx) error {
	var in finishJSON
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	pk, err := s.d.Passkeys.FinishRegistration(c.UserContext(), *httpx.PrincipalFrom(c), in.Ceremony, in.Name, in.Credential)
	if err != nil {
		return passkeyError(err, false)
	}
	return c.Status(fiber.StatusCreated).JSON(toPasskeyJSON(pk))
}

func (s *server) listPasskeys(c *fiber.Ctx) error {
	list, err := s.d.Passkeys.List(c.UserContext(), httpx.PrincipalFrom(c).UserID)
	if err != nil {
		return passkeyError(err, false)
	}
	out := make([]passkeyJSON, len(list))
	for i, p := range list {
		out[i] = toPasskeyJSON(p)
	}
	return c.JSON(fiber.Map{"items": out})
}

func (s *server) removePasskey(c *fiber.Ctx) error {
	if err := s.d.Passkeys.Remove(c.UserContext(), httpx.PrincipalFrom(c).UserID, c.Params("id")); err != nil {
		return passkeyError(err, false)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) beginPasskeyLogin(c *fiber.Ctx) error {
	cer, err := s.d.Passkeys.BeginLogin(c.UserContext(), clientOf(c))
	if err != nil {
		return passkeyError(err, false)
	}
	return c.JSON(ceremonyJSON{Ceremony: cer.ID, Options: cer.Options})
}

func (s *server) finishPasskeyLogin(c *fiber.Ctx) error {
	var in finishJSON
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.d.Passkeys.FinishLogin(c.UserContext(), in.Ceremony, in.Credential, clientOf(c))
	if err != nil {
		return passkeyError(err, true)
	}
	return c.JSON(toGrantJSON(g))
}

// passkeyError maps the passkey errors; the rest are the auth errors. A refused sign-in is a
// 401; a refused registration a 400, since the caller's session is fine (a 401 makes
// clients refresh and retry).
func passkeyError(err error, login bool) error {
	switch {
	case errors.Is(err, auth.ErrPasskeyCeremony):
		return httpx.BadRequest("invalid_ceremony", "this passkey ceremony is unknown, expired or already finished: start again")
	case errors.Is(err, auth.ErrPasskeyRefused):
		if login {
			return httpx.Unauthorized("passkey_refused", "the passkey was not accepted: %s", err.Error())
		}
		return httpx.BadRequest("passkey_refused", "the passkey was not accepted: %s", err.Error())
	case errors.Is(err, auth.ErrPasskeyNotFound):
		return httpx.NotFound("passkey_not_found", "no such passkey on your account")
	case errors.Is(err, auth.ErrPasskeysOff):
		return httpx.NewError(fiber.StatusServiceUnavailable, "passkeys_unavailable", "passkeys are off on this server: server.publicURL must name a domain (browsers refuse passkeys for an IP address)")
	case errors.Is(err, auth.ErrTooManyPasskeys):
		return httpx.Conflict("too_many_passkeys", "this account has as many passkeys as it may: remove one first")
	}
	return authError(err)
}
