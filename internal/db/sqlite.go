package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteDriver is mattn/go-sqlite3 (what gorm.io/driver/sqlite uses) with automatic WAL
// checkpoints turned off on every connection: SQLite would otherwise run them inside the
// commit that crosses 1000 WAL pages, copying pages and calling fsync on the path of the
// request that happened to commit (15% of the webhook writer's time and its p99). A
// background checkpointer does that work instead, on its own connection.
const sqliteDriver = "sqlite3_parley"

// checkpointEvery is the background checkpoint period: under a heavy write load the WAL
// grows by a few MiB in that time, and journal_size_limit truncates it back afterwards.
const checkpointEvery = 250 * time.Millisecond

var registerOnce sync.Once

func openSQLite(dsn string, gcfg *gorm.Config, log *slog.Logger) (*gorm.DB, error) {
	registerOnce.Do(func() {
		sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864", nil)
			return err
		}})
	})
	if dir := filepath.Dir(dsn); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("database: create %s: %w", dir, err)
		}
	}
	// WAL lets readers run beside the single writer; busy_timeout makes a writer wait for
	// the lock instead of failing; foreign keys are off by default in SQLite.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// mattn/go-sqlite3's DSN options are _journal_mode etc. (it ignores _pragma=).
	full := dsn + sep + "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate"
	g, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: full}), gcfg)
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
	if err := ping(g); err != nil {
		return nil, err
	}
	startCheckpointer(sqlDB, log)
	return g, nil
}

// checkpointers are the running background checkpointers, stopped by Close.
var (
	checkpointMu  sync.Mutex
	checkpointers = map[*sql.DB]func(){}
)

func startCheckpointer(sqlDB *sql.DB, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// PASSIVE never blocks writers or readers; it copies what it can.
			_, err := sqlDB.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			if err != nil && ctx.Err() == nil && !failing {
				log.Warn("database: WAL checkpoint failed; retrying", "err", err)
			}
			failing = err != nil
		}
	}()
	checkpointMu.Lock()
	checkpointers[sqlDB] = func() { cancel(); <-done }
	checkpointMu.Unlock()
}

func stopCheckpointer(sqlDB *sql.DB) {
	checkpointMu.Lock()
	stop := checkpointers[sqlDB]
	delete(checkpointers, sqlDB)
	checkpointMu.Unlock()
	if stop != nil {
		stop()
	}
}
