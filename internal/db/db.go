// Package db opens Parley's database (SQLite by default, PostgreSQL for several instances)
// and runs the versioned migrations that the domain packages register.
package db

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open connects to the configured database. driver is "sqlite" or "postgres".
func Open(driver, dsn string, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true, // every write we make is explicit; halves SQLite fsyncs
		TranslateError:         true, // unique violations become gorm.ErrDuplicatedKey
	}
	switch driver {
	case "sqlite":
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("database: create %s: %w", dir, err)
			}
		}
		// WAL lets readers run beside the single writer; busy_timeout makes a writer wait
		// for the lock instead of failing; foreign keys are off by default in SQLite.
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		// gorm.io/driver/sqlite is mattn/go-sqlite3: its DSN options are _journal_mode etc.
		full := dsn + sep + "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate"
		g, err := gorm.Open(sqlite.Open(full), gcfg)
		if err != nil {
			return nil, fmt.Errorf("database: open sqlite %s: %w", dsn, err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, err
		}
		// Many readers, but SQLite has one writer: _txlock=immediate takes the write lock at
		// BEGIN so two writers queue on busy_timeout instead of deadlocking on upgrade.
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(0)
		return g, ping(g)
	case "postgres":
		g, err := gorm.Open(postgres.Open(dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("database: open postgres: %w", err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		return g, ping(g)
	}
	return nil, fmt.Errorf("database: unknown driver %q (use sqlite or postgres)", driver)
}

func ping(g *gorm.DB) error {
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database: not reachable: %w", err)
	}
	return nil
}

// IsPostgres reports whether g talks to PostgreSQL.
func IsPostgres(g *gorm.DB) bool { return g.Dialector.Name() == "postgres" }

// Close closes the pool.
func Close(g *gorm.DB) error {
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
