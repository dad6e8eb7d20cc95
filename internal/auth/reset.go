package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/parley/parley/internal/secret"
)

// ErrMailDisabled is returned by the e-mail flows when no SMTP server is configured.
var ErrMailDisabled = errors.New("no mail server is configured")

// Mailer queues an e-mail (*mail.Outbox): it returns before the mail is sent.
type Mailer interface {
	Send(to, subject, body string) error
}

// How long links are valid: a reset is urgent and should not lie around in a mailbox; an
// invitation waits for someone to read their mail.
const (
	resetTTL  = time.Hour
	inviteTTL = 7 * 24 * time.Hour
)

// Purposes of a password token.
const (
	purposeReset  = "reset"
	purposeInvite = "invite"
)

// Recovery is password reset by e-mail and invitations: each sends a single-use link that
// lets its holder set the account's password.
type Recovery struct {
	svc       *Service
	mail      Mailer // nil: no SMTP configured
	publicURL string
}

// NewRecovery builds the e-mail flows; mail is nil when no SMTP server is configured.
func NewRecovery(svc *Service, mail Mailer, publicURL string) *Recovery {
	return &Recovery{svc: svc, mail: mail, publicURL: publicURL}
}

// Enabled reports whether mail can be sent (the login page offers "forgot password" then).
func (r *Recovery) Enabled() bool { return r.mail != nil }

// Forgot sends a reset link to the account with this e-mail, if there is one. The answer
// is the same either way (nil), and so is the time it takes: the mail leaves from a queue.
// Attempts are limited per address and per client like logins.
func (r *Recovery) Forgot(ctx context.Context, email string, cl Client) error {
	if r.mail == nil {
		return ErrMailDisabled
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := r.svc.limiter.allow(r.svc.limiter.ip(cl.IP), r.svc.limiter.ipEmail(cl.IP, "forgot|"+e), r.svc.limiter.user("forgot|"+e)); err != nil {
		return err
	}
	u, err := r.svc.store.userByEmail(ctx, e)
	if errors.Is(err, ErrUserNotFound) {
		r.svc.log.Info("password reset for an unknown address", "email", e)
		return nil
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return nil
	}
	link, err := r.issue(ctx, u.ID, purposeReset, resetTTL, "/reset")
	if err != nil {
		return err
	}
	body := fmt.Sprintf("Hello %s,\n\nsomeone (hopefully you) asked to reset your Parley password. Open this link within an hour to choose a new one:\n\n%s\n\nThe link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n", u.Name, link)
	if err := r.mail.Send(u.Email, "Reset your Parley password", body); err != nil {
		return fmt.Errorf("queue reset mail: %w", err)
	}
	return nil
}

// Invite creates an account and mails its owner a link to choose a password (an admin's
// action).
func (r *Recovery) Invite(ctx context.Context, in NewUser) (User, error) {
	if r.mail == nil {
		return User{}, ErrMailDisabled
	}
	in.Password = secret.Random(32) // nobody knows it: the invitee sets their own
	u, err := r.svc.CreateUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	link, err := r.issue(ctx, u.ID, purposeInvite, inviteTTL, "/reset")
	if err != nil {
		return User{}, err
	}
	body := fmt.Sprintf("Hello %s,\n\nyou have been invited to Parley at %s. Open this link within 7 days to choose your password:\n\n%s\n", u.Name, r.publicURL, link)
	if err := r.mail.Send(u.Email, "You are invited to Parley", body); err != nil {
		return User{}, fmt.Errorf("queue invitation: %w", err)
	}
	return u, nil
}

// issue stores a new single-use token and returns its link to page.
func (r *Recovery) issue(ctx context.Context, userID, purpose string, ttl time.Duration, page string) (string, error) {
	token := secret.Random(32)
	now := r.svc.now()
	row := passwordTokenRow{TokenHash: secret.Hash(token), ID: uuid.NewString(), UserID: userID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := r.svc.store.createPasswordToken(ctx, &row); err != nil {
		return "", fmt.Errorf("store %s token: %w", purpose, err)
	}
	return r.publicURL + page + "?token=" + url.QueryEscape(token), nil
}

// Reset sets a new password with a link's token, once: the token is used up, and every
// session of the account ends (whoever asked for the reset may not be its only holder).
func (r *Recovery) Reset(ctx context.Context, token, password string) error {
	if err := checkPassword("newPassword", password); err != nil {
		return err // checked first, so a weak password does not use the link up
	}
	u, err := r.claim(ctx, token, purposeReset, purposeInvite)
	if err != nil {
		return err
	}
	if err := r.svc.setPassword(ctx, u.ID, password, ""); err != nil {
		return err
	}
	// The link came by mail: its holder reads the account's mailbox.
	if err := r.svc.markVerified(ctx, u.ID); err != nil {
		return err
	}
	r.svc.log.Info("password set by e-mailed link", "user_id", u.ID)
	return nil
}

// claim uses up a link's token of one of purposes and returns its account; a disabled
// account is refused (after the token is used: the link was for it all the same).
func (r *Recovery) claim(ctx context.Context, token string, purposes ...string) (userRow, error) {
	if token == "" || len(token) > 128 {
		return userRow{}, fmt.Errorf("%s token: %w", purposes[0], ErrInvalidToken)
	}
	userID, err := r.svc.store.claimPasswordToken(ctx, secret.Hash(token), purposes, r.svc.now())
	if err != nil {
		return userRow{}, err
	}
	u, err := r.svc.store.userByID(ctx, userID)
	if err != nil {
		return userRow{}, err
	}
	if u.Disabled {
		return userRow{}, fmt.Errorf("%s %s: %w", purposes[0], u.Email, ErrUserDisabled)
	}
	return u, nil
}
