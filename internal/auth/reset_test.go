package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/mail"
	"github.com/parley/parley/internal/testenv"
)

var resetLink = regexp.MustCompile(`http://meet\.test/reset\?token=([A-Za-z0-9_-]+)`)

type recoveryEnv struct {
	svc   *auth.Service
	rec   *auth.Recovery
	pit   *testenv.Mailpit
	clock *authtest.Clock
}

// newRecovery sends through real SMTP to a real mailpit.
func newRecovery(t *testing.T, cfg ...func(*auth.Config)) recoveryEnv {
	t.Helper()
	pit := testenv.StartMailpit(t)
	clock := authtest.NewClock(time.Now())
	svc := authtest.Service(t, dbtest.SQLite(t, auth.Migrations()), clock.Now, cfg...)
	sender := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: pit.SMTPPort, From: "Parley <noreply@meet.test>", Security: "none"}, nil)
	outbox := mail.NewOutbox(sender.Send, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = outbox.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return recoveryEnv{svc: svc, rec: auth.NewRecovery(svc, outbox, "http://meet.test"), pit: pit, clock: clock}
}

// token reads the link of the newest mail to to.
func (e recoveryEnv) token(t *testing.T, to string, n int) string {
	t.Helper()
	msgs := e.pit.WaitMessages(t, to, n)
	m := resetLink.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("mail %q has no link:\n%s", msgs[0].Subject, msgs[0].Text)
	}
	return m[1]
}

func TestPasswordResetByMail(t *testing.T) {
	e := newRecovery(t)
	bob := authtest.User(t, e.svc, "bob@meet.test", false)
	other, _ := e.svc.Login(ctx, "bob@meet.test", authtest.Password, auth.Client{IP: "192.0.2.2"})

	// Unknown and known addresses get the same answer; only the known one gets mail.
	if err := e.rec.Forgot(ctx, "nobody@meet.test", auth.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("forgot for an unknown address = %v, want nil", err)
	}
	if err := e.rec.Forgot(ctx, "Bob@Meet.test", auth.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	token := e.token(t, "bob@meet.test", 1)
	if got := e.pit.Messages(t, "nobody@meet.test"); len(got) != 0 {
		t.Errorf("mail sent to an unknown address: %+v", got)
	}
	msg := e.pit.Messages(t, "bob@meet.test")[0]
	if msg.Subject != "Reset your Parley password" {
		t.Errorf("subject = %q", msg.Subject)
	}

	if err := e.rec.Reset(ctx, token, "short"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("weak password = %v, want ErrWeakPassword", err)
	}
	if err := e.rec.Reset(ctx, token, "a brand new passphrase"); err != nil {
		t.Fatalf("reset (after a refused weak password, the link still works): %v", err)
	}
	if err := e.rec.Reset(ctx, token, "yet another passphrase"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("second use of the link = %v, want ErrInvalidToken", err)
	}
	for _, g := range []auth.Grant{bob, other} {
		if _, err := e.svc.Authenticate(ctx, g.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
			t.Errorf("a session from before the reset = %v, want ErrSessionRevoked", err)
		}
	}
	if _, err := e.svc.Login(ctx, "bob@meet.test", "a brand new passphrase", auth.Client{IP: "192.0.2.3"}); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

func TestPasswordResetLinkExpiresAfterAnHour(t *testing.T) {
	e := newRecovery(t)
	authtest.User(t, e.svc, "ann@meet.test", false)
	if err := e.rec.Forgot(ctx, "ann@meet.test", auth.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	token := e.token(t, "ann@meet.test", 1)
	e.clock.Advance(time.Hour + time.Second)
	if err := e.rec.Reset(ctx, token, "a brand new passphrase"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("reset after an hour = %v, want ErrInvalidToken", err)
	}
}

func TestForgotPasswordIsRateLimited(t *testing.T) {
	e := newRecovery(t)
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = e.rec.Forgot(ctx, "nobody@meet.test", auth.Client{IP: "192.0.2.9"})
	}
	var rl *auth.RateLimitError
	if !errors.As(err, &rl) {
		t.Errorf("20 requests for one address = %v, want a RateLimitError", err)
	}
}

func TestInviteSetsPassword(t *testing.T) {
	e := newRecovery(t)
	u, err := e.rec.Invite(ctx, auth.NewUser{Email: "new@meet.test", Name: "New Person"})
	if err != nil {
		t.Fatal(err)
	}
	msg := e.pit.WaitMessages(t, "new@meet.test", 1)[0]
	if !strings.Contains(msg.Text, "New Person") || msg.Subject != "You are invited to Parley" {
		t.Errorf("invitation = %q:\n%s", msg.Subject, msg.Text)
	}
	if err := e.rec.Reset(ctx, e.token(t, "new@meet.test", 1), "my own passphrase"); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.Login(ctx, "new@meet.test", "my own passphrase", auth.Client{IP: "192.0.2.4"})
	if err != nil || g.User.ID != u.ID {
		t.Errorf("login of the invited user = %+v, %v", g.User, err)
	}
	if _, err := e.rec.Invite(ctx, auth.NewUser{Email: "new@meet.test", Name: "Again"}); !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("inviting an existing address = %v, want ErrEmailTaken", err)
	}
}
