package api

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// RecoveryService is password reset by e-mail and invitations (*auth.Recovery).
type RecoveryService interface {
	Enabled() bool
	Forgot(ctx context.Context, email string, cl auth.Client) error
	Reset(ctx context.Context, token, password string) error
	Invite(ctx context.Context, in auth.NewUser) (auth.User, error)
	// SendVerification mails an unverified account its link; VerifyEmail uses one.
	SendVerification(ctx context.Context, userID string) error
	VerifyEmail(ctx context.Context, token string) error
}

// forgotPassword answers 204 whether or not the address has an account.
func (s *server) forgotPassword(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if err := s.d.Recovery.Forgot(c.UserContext(), in.Email, clientOf(c)); err != nil {
		return recoveryError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) resetPassword(c *fiber.Ctx) error {
	var in struct {
		Token       string `json:"token"`
		NewPassword string `json:"newPassword"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if err := s.d.Recovery.Reset(c.UserContext(), in.Token, in.NewPassword); err != nil {
		return recoveryError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) inviteUser(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
		Name  string `json:"name"`
		Admin bool   `json:"admin"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.d.Recovery.Invite(c.UserContext(), auth.NewUser{Email: in.Email, Name: in.Name, Admin: in.Admin})
	if err != nil {
		return recoveryError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(toUserJSON(u))
}

func (s *server) verifyEmail(c *fiber.Ctx) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if err := s.d.Recovery.VerifyEmail(c.UserContext(), in.Token); err != nil {
		return recoveryError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// resendVerification mails the caller a new link (limited per account in the auth package).
func (s *server) resendVerification(c *fiber.Ctx) error {
	if err := s.d.Recovery.SendVerification(c.UserContext(), httpx.PrincipalFrom(c).UserID); err != nil {
		return recoveryError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func recoveryError(err error) error {
	switch {
	case errors.Is(err, auth.ErrAlreadyVerified):
		return httpx.Conflict("email_verified", "your e-mail address is verified already")
	case errors.Is(err, auth.ErrMailDisabled):
		return httpx.NewError(fiber.StatusServiceUnavailable, "mail_disabled", "this server sends no e-mail (smtp.host is not set): ask an administrator")
	case errors.Is(err, auth.ErrInvalidToken):
		// 400, not 401: the caller's session (if any) is fine, the link is not.
		return httpx.BadRequest("invalid_token", "this link is unknown, expired or already used: ask for a new one")
	}
	return authError(err)
}
