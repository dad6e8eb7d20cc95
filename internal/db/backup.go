package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// SQLitePath is the file behind a SQLite DSN ("file:" prefix and "?options" removed).
func SQLitePath(dsn string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return p
}

// BackupSQLite writes a consistent copy of the SQLite database at dsn to the new file dest,
// while Parley may be serving from it: VACUUM INTO reads one snapshot of the database in a
// read transaction (writers go on, and the WAL is included), and the copy it writes is
// compact and self-contained (no -wal file to go with it). The copy is then checked.
func BackupSQLite(ctx context.Context, dsn, dest string) error {
	src := SQLitePath(dsn)
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no database at %s: check server.dataDir and database.dsn (the same configuration as parley serve)", src)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", src, err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup %s: the file already exists", dest)
	}
	conn, err := sql.Open("sqlite3", "file:"+src+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("database %s: %w", src, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		_ = os.Remove(dest)
		return fmt.Errorf("database %s: copy to %s: %w", src, dest, err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		return err
	}
	return CheckSQLite(ctx, dest)
}

// CheckSQLite opens a SQLite file read-only and checks that it is a whole Parley database:
// SQLite's integrity check passes and it records its migrations.
func CheckSQLite(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	defer conn.Close()
	var verdict string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil {
		return fmt.Errorf("database %s is not a SQLite database: %w", path, err)
	}
	if verdict != "ok" {
		return fmt.Errorf("database %s is damaged: %s", path, verdict)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("database %s is not a Parley database (no migrations recorded): %v", path, err)
	}
	return nil
}

// RestoreSQLite puts the checked SQLite backup src where dsn points; nothing may be there
// yet. The file appears whole or not at all (a temporary name, then a rename).
func RestoreSQLite(ctx context.Context, src, dsn string) error {
	dest := SQLitePath(dsn)
	if err := CheckSQLite(ctx, src); err != nil {
		return err
	}
	for _, p := range []string{dest, dest + "-wal", dest + "-shm"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("database.dsn: %s already exists: restore only where there is no database (move it away first)", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dest + ".restoring"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("database %s: %w", dest, err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("database %s: %w", dest, err)
	}
	return nil
}

// OpenSQLiteReadOnly opens a SQLite file (a backup) for reading only, without Parley's
// pragmas: nothing is written to it, not even a journal mode.
func OpenSQLiteReadOnly(path string) (*gorm.DB, error) {
	g, err := gorm.Open(sqlite.Open("file:"+path+"?mode=ro"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return g, nil
}
