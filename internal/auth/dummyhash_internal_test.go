package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
)

// An unknown email costs a login what a known one does: it is verified against a dummy hash
// made with the same parameters. Proven without a clock: with the only hashing slot taken,
// a login of an unknown email must wait for it like a real verification would.
func TestUnknownEmailIsVerifiedAgainstADummyHash(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	cheap := HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
	svc, err := New(g, Config{JWTSecret: []byte(strings.Repeat("k", 32)), Hash: cheap, MaxConcurrentHashes: 1},
		slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(context.Background(), NewUser{Email: "known@example.com", Password: "a-long-password"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := svc.store.userByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if params(svc.dummyHash) != params(stored.PasswordHash) {
		t.Errorf("dummy hash parameters %q differ from a real hash's %q", params(svc.dummyHash), params(stored.PasswordHash))
	}

	svc.hasher.sem <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = svc.Login(ctx, "nobody@example.com", "a-long-password", Client{IP: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login of an unknown email with no hashing slot = %v, want it to wait for the hasher", err)
	}
	<-svc.hasher.sem
	if _, err := svc.Login(context.Background(), "nobody@example.com", "a-long-password", Client{IP: "x"}); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("login of an unknown email = %v, want invalid credentials", err)
	}
}

// params is the "m=..,t=..,p=.." part of an encoded argon2id hash.
func params(encoded string) string {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return ""
	}
	return parts[3]
}
