package auth_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
)

var verifyLink = regexp.MustCompile(`http://meet\.test/verify\?token=([A-Za-z0-9_-]+)`)

// With mail configured, a new account starts unverified and its verification mail reaches a
// real SMTP server (mailpit); the link verifies once, and only verifies: it sets no password.
func TestEmailVerificationByMail(t *testing.T) {
	e := newRecovery(t, func(c *auth.Config) { c.VerifyEmail = true; c.LoginRate = 3 })
	cl := auth.Client{IP: "192.0.2.1"}
	g, err := e.svc.Register(ctx, auth.Registration{Email: "Vic@meet.test", Password: "a long passphrase", Name: "Vic"}, cl)
	if err != nil {
		t.Fatal(err)
	}
	if g.User.EmailVerified {
		t.Fatal("a new account is verified before its link was opened")
	}
	if p, err := e.svc.Authenticate(ctx, g.AccessToken); err != nil || p.EmailVerified {
		t.Fatalf("principal of the unverified account: verified=%v, %v (it may sign in, unverified)", p.EmailVerified, err)
	}
	if err := e.rec.SendVerification(ctx, g.User.ID); err != nil {
		t.Fatal(err)
	}
	msgs := e.pit.WaitMessages(t, "vic@meet.test", 1)
	m := verifyLink.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("verification mail %q has no link:\n%s", msgs[0].Subject, msgs[0].Text)
	}
	token := m[1]
	if err := e.rec.Reset(ctx, token, "a password by the back door"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a verification token used to reset the password = %v, want ErrInvalidToken", err)
	}
	if err := e.rec.VerifyEmail(ctx, token); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := e.rec.VerifyEmail(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("second use of the link = %v, want ErrInvalidToken", err)
	}
	if p, err := e.svc.Authenticate(ctx, g.AccessToken); err != nil || !p.EmailVerified {
		t.Errorf("after the link: verified=%v, %v; want verified at once", p.EmailVerified, err)
	}
	if err := e.rec.SendVerification(ctx, g.User.ID); !errors.Is(err, auth.ErrAlreadyVerified) {
		t.Errorf("resend for a verified account = %v, want ErrAlreadyVerified", err)
	}

	// Resends are limited per account.
	g2, err := e.svc.Register(ctx, auth.Registration{Email: "wen@meet.test", Password: "a long passphrase", Name: "Wen"}, auth.Client{IP: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	var rl *auth.RateLimitError
	for i := 0; i < 5 && !errors.As(err, &rl); i++ {
		err = e.rec.SendVerification(ctx, g2.User.ID)
	}
	if !errors.As(err, &rl) {
		t.Errorf("five resends in a row = %v, want a rate limit", err)
	}
}

func TestVerificationLinkExpires(t *testing.T) {
	e := newRecovery(t, func(c *auth.Config) { c.VerifyEmail = true })
	g, err := e.svc.Register(ctx, auth.Registration{Email: "xia@meet.test", Password: "a long passphrase", Name: "Xia"}, auth.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rec.SendVerification(ctx, g.User.ID); err != nil {
		t.Fatal(err)
	}
	m := verifyLink.FindStringSubmatch(e.pit.WaitMessages(t, "xia@meet.test", 1)[0].Text)
	if m == nil {
		t.Fatal("no link")
	}
	e.clock.Advance(73 * time.Hour)
	if err := e.rec.VerifyEmail(ctx, m[1]); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("verify after 3 days = %v, want ErrInvalidToken", err)
	}
}

// Without mail nothing changes: a registered account counts as verified, and nothing is sent.
func TestNoVerificationWithoutMail(t *testing.T) {
	svc := authtest.Service(t, dbtest.SQLite(t, auth.Migrations()), nil)
	g, err := svc.Register(ctx, auth.Registration{Email: "yan@meet.test", Password: "a long passphrase", Name: "Yan"}, auth.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !g.User.EmailVerified {
		t.Error("without smtp.host a new account is unverified")
	}
	if err := auth.NewRecovery(svc, nil, "http://meet.test").SendVerification(ctx, g.User.ID); !errors.Is(err, auth.ErrMailDisabled) {
		t.Errorf("send without mail = %v, want ErrMailDisabled", err)
	}
}
