package audit

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/db/dbtest"
)

// BenchmarkRecord is one appended entry on SQLite, writers in parallel (each waits for the
// chain's lock).
func BenchmarkRecord(b *testing.B) {
	l := New(dbtest.SQLite(b, Migrations()), nil, nil)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := l.Record(context.Background(), entry(i)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
