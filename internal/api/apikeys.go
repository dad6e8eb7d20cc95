package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// KeyService is what API key authentication and administration need (*apikey.Service).
type KeyService interface {
	Create(ctx context.Context, createdBy string, in apikey.NewKey) (apikey.Key, string, error)
	List(ctx context.Context) ([]apikey.Key, error)
	Revoke(ctx context.Context, id string) (apikey.Key, error)
	Authenticate(ctx context.Context, secret string) (apikey.Caller, error)
	// Recheck reads a key again (long-lived event streams).
	Recheck(ctx context.Context, id string) (apikey.Caller, error)
}

// keyJSON is an API key as listed (never its secret).
type keyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

func toKeyJSON(k apikey.Key) keyJSON {
	return keyJSON{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Hint: k.Hint, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// keyPrincipal turns a key into the principal of the administrator it acts for.
func keyPrincipal(c apikey.Caller) auth.Principal {
	return auth.Principal{UserID: c.Key.CreatedBy, Email: c.CreatorEmail, Name: c.Key.Name, Role: auth.RoleAdmin,
		KeyID: c.Key.ID, Scopes: c.Key.Scopes}
}

// principalOf authenticates a bearer token: an API key (pk_...) or an access token.
func (s *server) principalOf(ctx context.Context, token string) (auth.Principal, error) {
	if len(token) > len(apikey.Prefix) && token[:len(apikey.Prefix)] == apikey.Prefix {
		c, err := s.d.Keys.Authenticate(ctx, token)
		if err != nil {
			return auth.Principal{}, keyError(err)
		}
		return keyPrincipal(c), nil
	}
	p, err := s.d.Auth.Authenticate(ctx, token)
	if err != nil {
		return auth.Principal{}, authError(err)
	}
	return p, nil
}

// recheck reads a long-lived request's principal again, whichever kind it is.
func (s *server) recheck(ctx context.Context, p auth.Principal) (auth.Principal, error) {
	if p.IsKey() {
		c, err := s.d.Keys.Recheck(ctx, p.KeyID)
		if err != nil {
			return auth.Principal{}, err
		}
		return keyPrincipal(c), nil
	}
	return s.d.Auth.Recheck(ctx, p)
}

func keyError(err error) error {
	switch {
	case errors.Is(err, apikey.ErrInvalidKey):
		return httpx.Unauthorized("invalid_token", "the API key is not valid")
	case errors.Is(err, apikey.ErrRevoked):
		return httpx.Unauthorized("key_revoked", "this API key has been revoked")
	case errors.Is(err, apikey.ErrExpired):
		return httpx.Unauthorized("token_expired", "this API key has expired: ask an administrator for a new one")
	case errors.Is(err, apikey.ErrCreatorGone):
		return httpx.Unauthorized("key_revoked", "the administrator this API key acts for is no longer one")
	case errors.Is(err, apikey.ErrNotFound):
		return httpx.NotFound("key_not_found", "no such API key")
	}
	return err
}

func (s *server) createKey(c *fiber.Ctx) error {
	var in struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		ExpiresAt *time.Time `json:"expiresAt"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	k, secret, err := s.d.Keys.Create(c.UserContext(), httpx.PrincipalFrom(c).UserID,
		apikey.NewKey{Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return keyError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(struct {
		keyJSON
		Key string `json:"key"`
	}{toKeyJSON(k), secret})
}

func (s *server) listKeys(c *fiber.Ctx) error {
	keys, err := s.d.Keys.List(c.UserContext())
	if err != nil {
		return err
	}
	out := httpx.List[keyJSON]{Items: make([]keyJSON, len(keys))}
	for i, k := range keys {
		out.Items[i] = toKeyJSON(k)
	}
	return c.JSON(out)
}

func (s *server) revokeKey(c *fiber.Ctx) error {
	if _, err := s.d.Keys.Revoke(c.UserContext(), c.Params("id")); err != nil {
		return keyError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
