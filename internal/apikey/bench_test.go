package apikey

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/db/dbtest"
)

// BenchmarkAuthenticate is one key check on SQLite (the per-request cost of a key).
func BenchmarkAuthenticate(b *testing.B) {
	g := dbtest.SQLite(b, auth.Migrations(), Migrations())
	e := newEnv(b, g)
	_, secret, err := e.keys.Create(context.Background(), e.admin, NewKey{Name: "k", Scopes: []string{ScopeRoomsRead}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.keys.Authenticate(context.Background(), secret); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
