package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
)

// A principal verified once (and so cached) is refused on its very next request after a
// logout, a disable or a password change, and sees a role change at once.
func TestCachedCheckHonoursWrites(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	svc := authtest.Service(t, g, nil)
	authenticate := func(tok string) (auth.Principal, error) {
		t.Helper()
		return svc.Authenticate(ctx, tok)
	}

	authtest.User(t, svc, "cache-admin@example.com", true) // so the promoted user is not the last admin
	gr := authtest.User(t, svc, "cache-logout@example.com", false)
	for range 2 { // the second one is served from the cache
		if _, err := authenticate(gr.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Logout(ctx, gr.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(gr.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Errorf("after logout: %v, want ErrSessionRevoked", err)
	}

	gr = authtest.User(t, svc, "cache-role@example.com", false)
	if p, err := authenticate(gr.AccessToken); err != nil || p.Role != auth.RoleUser {
		t.Fatalf("before promotion: %+v, %v", p, err)
	}
	admin := auth.RoleAdmin
	if _, err := svc.UpdateUser(ctx, gr.User.ID, auth.UserPatch{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	if p, err := authenticate(gr.AccessToken); err != nil || p.Role != auth.RoleAdmin {
		t.Errorf("after promotion: %+v, %v; want role admin", p, err)
	}
	disabled := true
	if _, err := svc.UpdateUser(ctx, gr.User.ID, auth.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(gr.AccessToken); !errors.Is(err, auth.ErrUserDisabled) {
		t.Errorf("after disable: %v, want ErrUserDisabled", err)
	}

	gr = authtest.User(t, svc, "cache-pw@example.com", false)
	other, err := svc.Login(ctx, "cache-pw@example.com", authtest.Password, auth.Client{IP: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(other.AccessToken); err != nil {
		t.Fatal(err)
	}
	p, err := authenticate(gr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ChangePassword(ctx, p, authtest.Password, "another long password 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(other.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Errorf("other session after password change: %v, want ErrSessionRevoked", err)
	}
}

// An access token verified once is still refused once it expires.
func TestVerifiedTokenStillExpires(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	clock := authtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := authtest.Service(t, g, clock.Now)
	gr := authtest.User(t, svc, "cache-exp@example.com", false)
	if _, err := svc.Authenticate(ctx, gr.AccessToken); err != nil {
		t.Fatal(err)
	}
	clock.Advance(gr.AccessExpiresAt.Sub(clock.Now()) + time.Second)
	if _, err := svc.Authenticate(ctx, gr.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("expired token: %v, want ErrTokenExpired", err)
	}
	if _, err := svc.Authenticate(ctx, gr.AccessToken+"x"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("altered token: %v, want ErrInvalidToken", err)
	}
}
