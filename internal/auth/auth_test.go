package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

var ctx = context.Background()

func TestEnsureAdmin(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	svc := authtest.Service(t, g, nil)

	// First start, nothing configured: admin@localhost with a generated password.
	b, err := svc.EnsureAdmin(ctx, "", "")
	if err != nil || !b.Created || b.Password == "" || b.User.Email != auth.DefaultAdminEmail || b.User.Role != auth.RoleAdmin {
		t.Fatalf("first start: %+v, %v", b, err)
	}
	if _, err := svc.Login(ctx, auth.DefaultAdminEmail, b.Password, auth.Client{IP: "x"}); err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}
	// Second start: an admin exists, nothing happens and nothing is printed.
	if b2, err := svc.EnsureAdmin(ctx, "", ""); err != nil || b2.Password != "" || b2.Created {
		t.Fatalf("second start: %+v, %v", b2, err)
	}
	// Configured admin: created once, then left alone (its password too).
	b3, err := svc.EnsureAdmin(ctx, "Ops@Example.com", "configured-pass")
	if err != nil || !b3.Created || b3.Password != "" || b3.User.Email != "ops@example.com" {
		t.Fatalf("configured: %+v, %v", b3, err)
	}
	if _, err := svc.SetPassword(ctx, "ops@example.com", "changed-later"); err != nil {
		t.Fatal(err)
	}
	if b4, err := svc.EnsureAdmin(ctx, "ops@example.com", "configured-pass"); err != nil || b4.Created || b4.Promoted {
		t.Fatalf("configured again: %+v, %v", b4, err)
	}
	if _, err := svc.Login(ctx, "ops@example.com", "changed-later", auth.Client{IP: "x"}); err != nil {
		t.Fatalf("the configured admin's changed password was reset: %v", err)
	}
	// A configured email that is a plain user gets promoted.
	u, _ := svc.CreateUser(ctx, auth.NewUser{Email: "boss@example.com", Password: "password1"})
	if b5, err := svc.EnsureAdmin(ctx, "boss@example.com", "whatever1"); err != nil || !b5.Promoted || b5.User.Role != auth.RoleAdmin || b5.User.ID != u.ID {
		t.Fatalf("promote: %+v, %v", b5, err)
	}
	if _, err := svc.EnsureAdmin(ctx, "not an email", "password1"); err == nil || !strings.Contains(err.Error(), "auth.bootstrapAdmin.email") {
		t.Errorf("bad configured email: %v", err)
	}
}

func TestEnsureAdminResetsSquattedDefaultEmail(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	svc := authtest.Service(t, g, nil)
	if _, err := svc.CreateUser(ctx, auth.NewUser{Email: auth.DefaultAdminEmail, Password: "squatter-pw"}); err != nil {
		t.Fatal(err)
	}
	b, err := svc.EnsureAdmin(ctx, "", "")
	if err != nil || !b.Promoted || b.Password == "" {
		t.Fatalf("%+v, %v", b, err)
	}
	if _, err := svc.Login(ctx, auth.DefaultAdminEmail, "squatter-pw", auth.Client{IP: "x"}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
}

func TestDefaultHashParams(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	svc := authtest.Service(t, g, nil, func(c *auth.Config) { c.Hash = auth.HashParams{} })
	u, err := svc.CreateUser(ctx, auth.NewUser{Email: "h@example.com", Password: "pässwörd-ünicode"})
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	g.Raw("SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("stored hash %q does not use the default argon2id parameters", hash)
	}
	// Hashes made with other parameters keep verifying after the defaults change.
	cheap := authtest.Service(t, g, nil)
	if _, err := cheap.Login(ctx, "h@example.com", "pässwörd-ünicode", auth.Client{IP: "y"}); err != nil {
		t.Errorf("a service with other parameters cannot verify: %v", err)
	}
}

// TestConcurrentRefreshOneWins: of two uses of one refresh token at once, one rotates and
// the other is treated as reuse (the session is revoked), never two valid pairs.
func TestConcurrentRefreshOneWins(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	svc := authtest.Service(t, g, nil)
	gr := authtest.User(t, svc, "race@example.com", false)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Refresh(ctx, gr.RefreshToken, "", auth.Client{IP: "z"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, auth.ErrSessionRevoked) {
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok > 1 {
		t.Errorf("%d refreshes of one token succeeded", ok)
	}
}

func TestLastAdminPostgres(t *testing.T) {
	g := dbtest.Postgres(t, auth.Migrations())
	testLastAdmin(t, g)
}

func TestLastAdminSQLite(t *testing.T) {
	testLastAdmin(t, dbtest.SQLite(t, auth.Migrations()))
}

// testLastAdmin demotes two admins at once, many times: exactly one may win each round.
func testLastAdmin(t *testing.T, g *gorm.DB) {
	svc := authtest.Service(t, g, nil)
	a := authtest.User(t, svc, "a@example.com", true)
	b := authtest.User(t, svc, "b@example.com", true)
	user, admin := auth.RoleUser, auth.RoleAdmin
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{a.User.ID, b.User.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.UpdateUser(ctx, id, auth.UserPatch{Role: &user})
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if errors.Is(err, auth.ErrLastAdmin) {
				failed++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if failed != 1 {
			t.Fatalf("round %d: %d of 2 concurrent demotions refused, want exactly 1 (%v)", round, failed, errs)
		}
		for _, id := range []string{a.User.ID, b.User.ID} {
			if _, err := svc.UpdateUser(ctx, id, auth.UserPatch{Role: &admin}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The session check works on this database too.
	if p, err := svc.Authenticate(ctx, a.AccessToken); err != nil || p.Role != auth.RoleAdmin {
		t.Errorf("authenticate: %+v, %v", p, err)
	}
}

func TestPrune(t *testing.T) {
	g := dbtest.SQLite(t, auth.Migrations())
	clock := authtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := authtest.Service(t, g, clock.Now)
	gr := authtest.User(t, svc, "p@example.com", false)
	if err := svc.Logout(ctx, gr.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
	live := authtest.User(t, svc, "q@example.com", false)
	clock.Advance(25 * time.Hour)
	if n, err := svc.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want 1 revoked session", n, err)
	}
	if _, err := svc.Refresh(ctx, live.RefreshToken, "", auth.Client{IP: "p"}); err != nil {
		t.Errorf("a live session was pruned: %v", err)
	}
	var tokens int64
	g.Raw("SELECT COUNT(*) FROM refresh_tokens").Scan(&tokens)
	if tokens != 2 {
		t.Errorf("%d refresh tokens left, want the live session's 2", tokens)
	}
}
