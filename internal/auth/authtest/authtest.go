// Package authtest builds auth services for tests and benchmarks of other packages: a real
// service on a real database, with cheap password hashing and a clock the test moves.
package authtest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"gorm.io/gorm"
)

// Secret is the JWT secret of test services.
const Secret = "authtest-secret-0123456789abcdefghijklmnop"

// CheapHash makes hashing fast in tests; production always uses auth's default parameters.
var CheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

// Clock is a settable clock for expiry tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Service builds an auth service on g (migrated with auth.Migrations) with registration
// open, cheap hashing and the given clock (time.Now when nil). cfg may override fields.
func Service(t testing.TB, g *gorm.DB, now func() time.Time, cfg ...func(*auth.Config)) *auth.Service {
	t.Helper()
	c := auth.Config{JWTSecret: []byte(Secret), AllowRegistration: true, Hash: CheapHash, LoginRate: 10}
	for _, f := range cfg {
		f(&c)
	}
	svc, err := auth.New(g, c, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return svc
}

// User creates an account and logs it in, returning the grant.
func User(t testing.TB, svc *auth.Service, email string, admin bool) auth.Grant {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, auth.NewUser{Email: email, Name: email, Password: Password, Admin: admin}); err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	g, err := svc.Login(ctx, email, Password, auth.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return g
}

// Password is the password User gives every account.
const Password = "correct horse battery"
