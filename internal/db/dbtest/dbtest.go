// Package dbtest opens real databases for tests: SQLite in a temp dir, and a private
// schema on the local PostgreSQL (skipped loudly when absent, unless services are required).
package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/testenv"
	"gorm.io/gorm"
)

// SQLite opens a fresh SQLite database under t.TempDir() and applies the migrations.
func SQLite(t testing.TB, migrations ...[]db.Migration) *gorm.DB {
	t.Helper()
	g, err := db.Open("sqlite", filepath.Join(t.TempDir(), "test.db"), slog.Default())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(g) })
	if _, err := db.Migrate(g, migrations...); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return g
}

// PostgresDSN returns a DSN for a fresh schema on the local PostgreSQL, dropped at cleanup.
// It skips the test loudly when PostgreSQL is absent (fails when services are required).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresBaseDSN()
	g, err := db.Open("postgres", base, slog.Default())
	if err != nil {
		testenv.SkipOrFail(t, "PostgreSQL", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := g.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		g.Exec("DROP SCHEMA " + schema + " CASCADE")
		_ = db.Close(g)
	})
	return base + " search_path=" + schema
}

// Postgres opens a fresh schema on the local PostgreSQL and applies the migrations.
func Postgres(t testing.TB, migrations ...[]db.Migration) *gorm.DB {
	t.Helper()
	g, err := db.Open("postgres", PostgresDSN(t), slog.Default())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(g) })
	if _, err := db.Migrate(g, migrations...); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return g
}
