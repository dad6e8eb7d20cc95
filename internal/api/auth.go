package api

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/fielderr"
	"github.com/parley/parley/internal/httpx"
)

// AuthService is what the auth, user-admin and middleware code needs (*auth.Service).
type AuthService interface {
	Register(ctx context.Context, in auth.Registration, cl auth.Client) (auth.Grant, error)
	Login(ctx context.Context, email, password string, cl auth.Client) (auth.Grant, error)
	Refresh(ctx context.Context, refreshToken, callerID string, cl auth.Client) (auth.Grant, error)
	Logout(ctx context.Context, refreshToken, callerID string) error
	Authenticate(ctx context.Context, accessToken string) (auth.Principal, error)
	// Recheck reads the principal's session and user again (long-lived event streams).
	Recheck(ctx context.Context, p auth.Principal) (auth.Principal, error)
	ChangePassword(ctx context.Context, p auth.Principal, current, next string) error
	SetName(ctx context.Context, userID, name string) (auth.User, error)
	User(ctx context.Context, id string) (auth.User, error)
	ListUsers(ctx context.Context, q auth.UserQuery) ([]auth.User, string, error)
	UpdateUser(ctx context.Context, id string, p auth.UserPatch) (auth.User, error)
	CountUsers(ctx context.Context) (int64, error)
}

// middlewares builds the auth gates every route group uses.
func (s *server) middlewares() httpx.Middlewares {
	return httpx.Middlewares{
		RequireUser:  s.authenticate(true, false, false),
		OptionalUser: s.authenticate(false, false, false),
		RequireAdmin: s.authenticate(true, true, false),
	}
}

// authenticate sets the principal from the bearer token (an access token or an API key,
// which must hold the route's scope). A missing token is a 401 when
// required and anonymous otherwise; a present but invalid one is always a 401. Only the
// event-stream routes pass fromQuery: a token in a URL ends up in logs and histories, so no
// other route reads one from there.
func (s *server) authenticate(required, admin, fromQuery bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := bearerToken(c)
		if token == "" && fromQuery {
			token = c.Query("access_token")
		}
		if token == "" {
			if required {
				return httpx.Unauthorized("unauthorized", "this route needs Authorization: Bearer <accessToken> (log in first)")
			}
			return c.Next()
		}
		p, err := s.principalOf(c.UserContext(), token) // a user's access token or an API key (apikeys.go)
		if err != nil {
			return err
		}
		if err := checkScope(c, &p); err != nil { // scopes.go
			return err
		}
		if admin && !p.IsAdmin() {
			return httpx.Forbidden("forbidden", "this route is for administrators")
		}
		httpx.SetPrincipal(c, &p)
		return c.Next()
	}
}

// bearerToken reads the access token from the Authorization header.
func bearerToken(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		return h // not a bearer: Authenticate refuses it as an invalid token
	}
	return ""
}

// callerID is the user of a valid bearer token sent to an unauthenticated route, or "".
func (s *server) callerID(c *fiber.Ctx) string {
	if t := bearerToken(c); t != "" {
		if p, err := s.d.Auth.Authenticate(c.UserContext(), t); err == nil {
			return p.UserID
		}
	}
	return ""
}

func clientOf(c *fiber.Ctx) auth.Client {
	return auth.Client{IP: httpx.ClientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)}
}

func (s *server) register(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.d.Auth.Register(c.UserContext(), auth.Registration{Email: in.Email, Password: in.Password, Name: in.Name}, clientOf(c))
	if err != nil {
		return authError(err)
	}
	if !g.User.EmailVerified {
		// The account works already; a mail that could not be queued is sent again by "resend".
		if err := s.d.Recovery.SendVerification(c.UserContext(), g.User.ID); err != nil {
			s.d.Log.Warn("verification mail not sent", "user_id", g.User.ID, "err", err)
		}
	}
	return c.Status(fiber.StatusCreated).JSON(toGrantJSON(g))
}

func (s *server) login(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.d.Auth.Login(c.UserContext(), in.Email, in.Password, clientOf(c))
	if err != nil {
		return authError(err)
	}
	return c.JSON(toGrantJSON(g))
}

type refreshBody struct {
	RefreshToken string `json:"refreshToken"`
}

func (s *server) refresh(c *fiber.Ctx) error {
	var in refreshBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := s.d.Auth.Refresh(c.UserContext(), in.RefreshToken, s.callerID(c), clientOf(c))
	if err != nil {
		return authError(err)
	}
	return c.JSON(toGrantJSON(g))
}

func (s *server) logout(c *fiber.Ctx) error {
	var in refreshBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if err := s.d.Auth.Logout(c.UserContext(), in.RefreshToken, s.callerID(c)); err != nil {
		return authError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// me answers the account the authentication just read (or took from its cache, which
// every write to users invalidates): no second read on a route clients poll.
func (s *server) me(c *fiber.Ctx) error {
	p := httpx.PrincipalFrom(c)
	if !p.IsKey() {
		return c.JSON(toUserJSON(p.User()))
	}
	u, err := s.d.Auth.User(c.UserContext(), p.UserID) // a key's principal does not carry its creator's account
	if err != nil {
		return authError(err)
	}
	return c.JSON(toUserJSON(u))
}

// updateMe changes the caller's own display name (API keys never reach it: scopes.go).
func (s *server) updateMe(c *fiber.Ctx) error {
	var in struct {
		Name string `json:"name"` // the one field a person changes here; others are refused as unknown
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.d.Auth.SetName(c.UserContext(), httpx.PrincipalFrom(c).UserID, in.Name)
	if err != nil {
		return authError(err)
	}
	return c.JSON(toUserJSON(u))
}

func (s *server) changePassword(c *fiber.Ctx) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	p := httpx.PrincipalFrom(c)
	err := s.d.Auth.ChangePassword(c.UserContext(), *p, in.CurrentPassword, in.NewPassword)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		// 403, not 401: the session is fine (a 401 makes clients refresh and retry).
		return httpx.Forbidden("invalid_credentials", "currentPassword is not the account's password")
	}
	if err != nil {
		return authError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// authError maps the auth package's errors to API errors; anything else is a logged 500.
func authError(err error) error {
	var rl *auth.RateLimitError
	var fe *fielderr.Error
	switch {
	case errors.As(err, &fe) && errors.Is(fe.Err, auth.ErrWeakPassword): // httpx answers the other field errors
		return httpx.BadRequest("weak_password", "%s", fe.Error())
	case errors.As(err, &rl):
		return httpx.TooManyRequests(rl.RetryAfter, "attempts")
	case errors.Is(err, auth.ErrInvalidCredentials):
		return httpx.Unauthorized("invalid_credentials", "wrong email or password")
	case errors.Is(err, auth.ErrTokenExpired):
		return httpx.Unauthorized("token_expired", "the token has expired: refresh it or log in again")
	case errors.Is(err, auth.ErrSessionRevoked):
		return httpx.Unauthorized("session_revoked", "this session has ended: log in again")
	case errors.Is(err, auth.ErrInvalidToken):
		return httpx.Unauthorized("invalid_token", "the token is not valid")
	case errors.Is(err, auth.ErrUserDisabled):
		return httpx.Forbidden("user_disabled", "this account is disabled")
	case errors.Is(err, auth.ErrPasswordLoginClosed):
		return httpx.Forbidden("password_login_disabled", "password sign-in is turned off on this server: use single sign-on")
	case errors.Is(err, auth.ErrRegistrationDisabled):
		return httpx.Forbidden("registration_disabled", "registration is closed on this server: ask an administrator for an account")
	case errors.Is(err, auth.ErrEmailTaken):
		return httpx.Conflict("email_taken", "an account with this email already exists")
	case errors.Is(err, auth.ErrLastAdmin):
		return httpx.Conflict("last_admin", "this is the last administrator: promote another user first")
	case errors.Is(err, auth.ErrUserNotFound):
		return httpx.NotFound("user_not_found", "no such user")
	}
	return err
}
