package apikey

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

var pepper = []byte("0123456789abcdef0123456789abcdef")

// env is the key service beside a real auth service (keys act for an admin account).
type env struct {
	keys  *Service
	users *auth.Service
	clock *authtest.Clock
	admin string
	g     *gorm.DB
}

func newEnv(t testing.TB, g *gorm.DB) *env {
	clock := authtest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	users := authtest.Service(t, g, clock.Now)
	admin := authtest.User(t, users, "admin@example.com", true)
	keys, err := New(g, pepper, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &env{keys: keys, users: users, clock: clock, admin: admin.User.ID, g: g}
}

func TestKeyLifecycle(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t, auth.Migrations(), Migrations()))
	ctx := context.Background()
	exp := e.clock.Now().Add(48 * time.Hour)
	k, secret, err := e.keys.Create(ctx, e.admin, NewKey{Name: " scheduler ", Scopes: []string{ScopeRoomsRead, ScopeRoomsRead}, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, Prefix) || len(secret) < 40 || k.Name != "scheduler" || len(k.Scopes) != 1 {
		t.Fatalf("created %+v with secret %q", k, secret)
	}
	var stored string
	e.g.Raw("SELECT hash FROM api_keys WHERE id = ?", k.ID).Row().Scan(&stored)
	if stored == "" || strings.Contains(stored, secret[3:]) {
		t.Fatalf("stored hash %q must be set and not the secret", stored)
	}
	c, err := e.keys.Authenticate(ctx, secret)
	if err != nil || c.Key.ID != k.ID || !c.Key.Has(ScopeRoomsRead) || c.Key.Has(ScopeRoomsWrite) || c.CreatorEmail != "admin@example.com" {
		t.Fatalf("Authenticate = %+v, %v", c, err)
	}
	if _, err := e.keys.Authenticate(ctx, secret+"x"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("a wrong secret: %v, want ErrInvalidKey", err)
	}
	e.clock.Advance(49 * time.Hour)
	if _, err := e.keys.Authenticate(ctx, secret); !errors.Is(err, ErrExpired) {
		t.Errorf("after expiry: %v, want ErrExpired", err)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t, auth.Migrations(), Migrations()))
	past := e.clock.Now().Add(-time.Minute)
	for _, tc := range []struct {
		in    NewKey
		field string
	}{
		{NewKey{Scopes: []string{ScopeRoomsRead}}, "name"},
		{NewKey{Name: "x"}, "scopes"},
		{NewKey{Name: "x", Scopes: []string{"rooms:delete"}}, "scopes"},
		{NewKey{Name: "x", Scopes: []string{ScopeRoomsRead}, ExpiresAt: &past}, "expiresAt"},
	} {
		_, _, err := e.keys.Create(context.Background(), e.admin, tc.in)
		if !errors.Is(err, ErrInvalidField) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Create(%+v) = %v, want an error naming %s", tc.in, err, tc.field)
		}
	}
}

// A key is never more than its creator: demoting or disabling the admin stops the key.
func TestKeyFollowsItsCreator(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t, auth.Migrations(), Migrations()))
	ctx := context.Background()
	authtest.User(t, e.users, "other@example.com", true) // so the creator is not the last admin
	_, secret, _ := e.keys.Create(ctx, e.admin, NewKey{Name: "k", Scopes: []string{ScopeRoomsRead}})
	disabled := true
	if _, err := e.users.UpdateUser(ctx, e.admin, auth.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Authenticate(ctx, secret); !errors.Is(err, ErrCreatorGone) {
		t.Fatalf("creator disabled: %v, want ErrCreatorGone", err)
	}
}

func TestLastUseIsWrittenOnceAMinute(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t, auth.Migrations(), Migrations()))
	ctx := context.Background()
	k, secret, _ := e.keys.Create(ctx, e.admin, NewKey{Name: "k", Scopes: []string{ScopeRoomsRead}})
	lastUsed := func() time.Time {
		keys, err := e.keys.List(ctx)
		if err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].LastUsedAt == nil {
			t.Fatalf("List = %+v, %v", keys, err)
		}
		return *keys[0].LastUsedAt
	}
	first := e.clock.Now()
	for range 3 {
		if _, err := e.keys.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Second)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("last use after 3 calls within 30 s = %v, want the first call's %v (one write)", got, first)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.keys.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(e.clock.Now()) {
		t.Errorf("last use a minute later = %v, want %v", got, e.clock.Now())
	}
}

// Two instances on one PostgreSQL: a key revoked through one is refused by the other on
// its very next check (nothing is cached).
func TestRevokedOnOneInstanceRefusedOnTheOther(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	open := func() *gorm.DB {
		g, err := db.Open("postgres", dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close(g) })
		return g
	}
	ga := open()
	if _, err := db.Migrate(ga, auth.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	a := newEnv(t, ga)
	b, err := New(open(), pepper, a.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, secret, _ := a.keys.Create(ctx, a.admin, NewKey{Name: "k", Scopes: []string{ScopeRoomsRead}})
	if _, err := b.Authenticate(ctx, secret); err != nil {
		t.Fatalf("B before revocation: %v", err)
	}
	if _, err := a.keys.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, secret); !errors.Is(err, ErrRevoked) {
		t.Fatalf("B right after revocation on A: %v, want ErrRevoked", err)
	}
	if _, err := b.Recheck(ctx, k.ID); !errors.Is(err, ErrRevoked) {
		t.Fatalf("B's recheck of an open stream: %v, want ErrRevoked", err)
	}
}
