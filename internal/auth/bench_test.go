package auth_test

import (
	"testing"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
)

// BenchmarkLogin measures a login with the production argon2id parameters (hashing-bound).
func BenchmarkLogin(b *testing.B) {
	g := dbtest.SQLite(b, auth.Migrations())
	svc := authtest.Service(b, g, nil, func(c *auth.Config) { c.Hash = auth.HashParams{}; c.LoginRate = 1 << 30 })
	if _, err := svc.CreateUser(ctx, auth.NewUser{Email: "b@example.com", Password: "bench password"}); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Login(ctx, "b@example.com", "bench password", auth.Client{IP: "b"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticate measures the per-request session check (JWT + one query).
func BenchmarkAuthenticate(b *testing.B) {
	g := dbtest.SQLite(b, auth.Migrations())
	svc := authtest.Service(b, g, nil)
	gr := authtest.User(b, svc, "b@example.com", false)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Authenticate(ctx, gr.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}
