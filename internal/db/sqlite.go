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
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteDriver is mattn/go-sqlite3 (what gorm.io/driver/sqlite uses) with automatic WAL
// checkpoints moved out of the way on every connection: SQLite would otherwise run them
// inside the commit that crosses 1000 WAL pages, copying pages and calling fsync on the path
// of the request that happened to commit, a large share of the webhook writer's time and its
// p99 (bench/README.md). A background checkpointer does that work instead, on its own
// connection; the automatic one stays as a safety net at 8192 pages (32 MiB), for writes
// faster than the background keeps up.
const sqliteDriver = "sqlite3_parley"

// checkpointEvery is the background checkpoint period: under a heavy write load the WAL
// grows by a few MiB in that time, and journal_size_limit truncates it back afterwards.
const checkpointEvery = 250 * time.Millisecond

// restartFrames is the WAL length (16 MiB of 4 KiB pages) above which a checkpoint also
// makes the next writer start the WAL over. A PASSIVE checkpoint alone never does under a
// steady write load: frames keep arriving while it copies, so the WAL grows without bound
// (bench/README.md).
const restartFrames = 4096

var registerOnce sync.Once

// commits counts the write transactions committed on this process's SQLite connections.
// The checkpointer skips its pass while it stays the same: an idle Parley would otherwise
// run a checkpoint query four times a second, its largest cost at rest. One counter serves
// every database of the process; a commit to another one costs a pass that finds nothing.
var commits atomic.Uint64

func openSQLite(dsn string, gcfg *gorm.Config, log *slog.Logger) (*gorm.DB, error) {
	registerOnce.Do(func() {
		sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			c.RegisterCommitHook(func() int { commits.Add(1); return 0 })
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864", nil)
			return err
		}})
	})
	if dir := filepath.Dir(dsn); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("database: create %s: %w", dir, err)
		}
	}
	if err := privateFiles(dsn); err != nil {
		return nil, err
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
	if err := g.Use(&Gate{}); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if err := startCheckpointer(g, sqlDB, log); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return g, nil
}

// checkpointer is the background checkpointer of one database, kept as a gorm plugin so
// the *gorm.DB itself carries it to Close (no process-wide registry).
type checkpointer struct {
	stop   func()
	passes atomic.Int64 // passes that ran a checkpoint, for tests that pace a writer by them
}

const checkpointerName = "parley:checkpointer"

func (*checkpointer) Name() string              { return checkpointerName }
func (*checkpointer) Initialize(*gorm.DB) error { return nil }

func startCheckpointer(g *gorm.DB, sqlDB *sql.DB, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c := &checkpointer{}
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		failing, seen, settled := false, uint64(0), false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Read before the pass: a commit during it is seen by the next one.
			n := commits.Load()
			if n == seen && settled {
				continue
			}
			seen = n
			complete, err := checkpoint(ctx, sqlDB, WriteGate(g))
			c.passes.Add(1)
			if err != nil && ctx.Err() == nil && !failing {
				log.Warn("database: WAL checkpoint failed; retrying", "err", err)
			}
			failing, settled = err != nil, err == nil && complete
		}
	}()
	c.stop = func() { cancel(); <-done }
	if err := g.Use(c); err != nil {
		c.stop()
		return err
	}
	return nil
}

func stopCheckpointer(g *gorm.DB) {
	if c, ok := g.Config.Plugins[checkpointerName].(*checkpointer); ok {
		c.stop()
		delete(g.Config.Plugins, checkpointerName)
	}
}

// checkpoint copies the WAL into the database file without blocking anyone (PASSIVE); if
// the WAL is still long it then waits for the writer to finish its transaction and for the
// readers to leave the WAL (RESTART, which holds writers off only while it copies what the
// first pass left), so that the next write starts the WAL from its beginning.
//
// The RESTART holds the write gate (writegate.go): writers would wait for it anyway, on
// the gate they start the moment it ends rather than after a busy handler's sleep.
//
// complete is whether every frame of the WAL is in the database file now; until it is, the
// next pass runs even without a new commit.
func checkpoint(ctx context.Context, sqlDB *sql.DB, gate *Gate) (complete bool, err error) {
	var busy, frames, done int
	if err := sqlDB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		return false, err
	}
	if frames < restartFrames {
		return done == frames, nil
	}
	gate.Lock()
	defer gate.Unlock()
	err = sqlDB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &done)
	return err == nil && busy == 0 && done == frames, err
}

// privateFiles makes the database file and its WAL and shared-memory files readable by
// Parley's user only (0600), whoever created them and with whatever umask: they hold
// password hashes and session tokens. The database file is created 0600 when missing, and
// SQLite gives the -wal and -shm files it creates later the database file's mode.
func privateFiles(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	if path == "" || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil // URI and in-memory databases are the caller's business
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("database: open %s: %w", path, err)
	}
	_ = f.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(name, 0o600); err != nil {
			return fmt.Errorf("database: %s is readable by others and could not be fixed (%w): chmod 600 it", name, err)
		}
	}
	return nil
}
