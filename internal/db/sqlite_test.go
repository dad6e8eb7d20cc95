package db

import (
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gorm.io/gorm"
)

// The database and its WAL files are 0600 whatever the umask, and an existing database
// someone left world-readable is narrowed on open.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	loose := filepath.Join(dir, "loose.db")
	for _, f := range []string{loose, loose + "-wal", loose + "-shm"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dsn := range []string{fresh, loose} {
		g, err := Open("sqlite", dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Exec("CREATE TABLE t (x int); INSERT INTO t VALUES (1)").Error; err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{dsn, dsn + "-wal", dsn + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want 0600", filepath.Base(f), fi.Mode().Perm())
			}
		}
		_ = Close(g)
	}
}

// TestSQLiteHasAWriteGate: an SQLite database carries its gate; the same one every time.
func TestSQLiteHasAWriteGate(t *testing.T) {
	g, err := Open("sqlite", filepath.Join(t.TempDir(), "g.db"), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer Close(g)
	if a, b := WriteGate(g), WriteGate(g.Session(&gorm.Session{})); a == nil || a != b {
		t.Errorf("WriteGate = %p, %p: want one gate", a, b)
	}
}
