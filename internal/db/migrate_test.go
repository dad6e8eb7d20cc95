package db_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

type widget struct {
	ID   uint `gorm:"primaryKey"`
	Name string
	Size int
}

var testMigrations = []db.Migration{
	{ID: "test_0001_widgets", Up: func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").Error
	}},
	{ID: "test_0002_widget_size", Up: func(tx *gorm.DB) error {
		return tx.Exec("ALTER TABLE widgets ADD COLUMN size INTEGER NOT NULL DEFAULT 0").Error
	}},
}

func checkMigrations(t *testing.T, g *gorm.DB) {
	t.Helper()
	// dbtest applied both already: a second run is a no-op.
	applied, err := db.Migrate(g, testMigrations)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, err %v; want nothing", applied, err)
	}
	if err := g.Create(&widget{ID: 1, Name: "a", Size: 3}).Error; err != nil {
		t.Fatalf("schema not usable: %v", err)
	}
	var n int64
	g.Table("schema_migrations").Count(&n)
	if n != 2 {
		t.Errorf("schema_migrations has %d rows, want 2", n)
	}
	// A failing migration is rolled back and not recorded.
	bad := append(testMigrations, db.Migration{ID: "test_0003_bad", Up: func(tx *gorm.DB) error {
		if err := tx.Exec("CREATE TABLE half_done (id INTEGER)").Error; err != nil {
			return err
		}
		return tx.Exec("THIS IS NOT SQL").Error
	}})
	if _, err := db.Migrate(g, bad); err == nil {
		t.Fatal("bad migration succeeded")
	}
	g.Table("schema_migrations").Count(&n)
	if n != 2 || g.Migrator().HasTable("half_done") {
		t.Errorf("failed migration left traces: rows=%d half_done=%v", n, g.Migrator().HasTable("half_done"))
	}
	if _, err := db.Migrate(g, testMigrations, testMigrations[:1]); err == nil {
		t.Error("duplicate migration id accepted")
	}
	// An older binary (it knows only the first migration) refuses the newer database and
	// changes nothing, even when it has a migration of its own to apply.
	older := []db.Migration{testMigrations[0], {ID: "test_0099_other", Up: func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE other (id INTEGER)").Error
	}}}
	_, err = db.Migrate(g, older)
	if !errors.Is(err, db.ErrNewerSchema) || !strings.Contains(err.Error(), "test_0002_widget_size") || !strings.Contains(err.Error(), "restore") {
		t.Errorf("older binary on a newer database: %v, want ErrNewerSchema naming test_0002_widget_size and the fix", err)
	}
	g.Table("schema_migrations").Count(&n)
	if n != 2 || g.Migrator().HasTable("other") {
		t.Errorf("the refused run changed the database: rows=%d other=%v", n, g.Migrator().HasTable("other"))
	}
}

func TestMigrationsSQLite(t *testing.T) { checkMigrations(t, dbtest.SQLite(t, testMigrations)) }

func TestMigrationsPostgres(t *testing.T) { checkMigrations(t, dbtest.Postgres(t, testMigrations)) }

func TestSQLitePragmas(t *testing.T) {
	g, err := db.Open("sqlite", filepath.Join(t.TempDir(), "p.db"), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(g)
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1",
		"wal_autocheckpoint": "8192", "journal_size_limit": "67108864"} {
		var got string
		g.Raw("PRAGMA " + pragma).Scan(&got)
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

// Automatic checkpoints wait for 8192 pages (they run inside a request's commit); the
// background checkpointer moves committed pages into the database file long before.
func TestSQLiteBackgroundCheckpoint(t *testing.T) {
	g, path := openSQLiteFile(t, "c.db")
	before := fileSize(t, path)
	if err := g.Exec("CREATE TABLE blob (b BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := g.Exec("INSERT INTO blob VALUES (zeroblob(4096))").Error; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < before+20*4096 {
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes after 10 s, want the 20 rows checkpointed into it", fileSize(t, path))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An idle database costs the checkpointer no query: it runs a pass after a commit only.
func TestSQLiteCheckpointerRestsWhileIdle(t *testing.T) {
	g, _ := openSQLiteFile(t, "idle.db")
	if err := g.Exec("CREATE TABLE t (n INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	// The pass after the CREATE, and one more if that pass found readers in the way.
	waitCheckpointPass(t, g, 0)
	time.Sleep(600 * time.Millisecond)
	n := db.CheckpointPasses(g)
	var count int
	for range 20 { // reads commit nothing
		if err := g.Raw("SELECT count(*) FROM t").Scan(&count).Error; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // four periods
	if got := db.CheckpointPasses(g); got != n {
		t.Fatalf("%d checkpoint passes in a second without a commit, want none", got-n)
	}
	if err := g.Exec("INSERT INTO t VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	waitCheckpointPass(t, g, n)
}

// Under a steady write load the WAL stays bounded: the checkpointer restarts it.
func TestSQLiteWALStaysBoundedUnderLoad(t *testing.T) {
	g, path := openSQLiteFile(t, "w.db")
	if err := g.Exec("CREATE TABLE blob (b BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	// The writer runs flat out beside the checkpointer, but never more than pace bytes past
	// the last completed pass: on a loaded machine the checkpointer's thread can be
	// descheduled for seconds, and what is tested is what a pass does (restart a long WAL
	// while writes go on), not how often the scheduler runs it.
	const total, limit, pace = 96 << 20, 48 << 20, 8 << 20
	var maxWAL int64
	passes, mark := db.CheckpointPasses(g), 0
	for written := 0; written < total; written += 64 * 4096 {
		if err := g.Exec("INSERT INTO blob SELECT zeroblob(4096) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 64) SELECT i FROM n)").Error; err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			maxWAL = max(maxWAL, fi.Size())
		}
		if written-mark >= pace {
			passes, mark = waitCheckpointPass(t, g, passes), written
		}
	}
	if maxWAL > limit {
		t.Fatalf("WAL grew to %d MiB while writing %d MiB, want at most %d MiB", maxWAL>>20, total>>20, limit>>20)
	}
	t.Logf("largest WAL: %d MiB", maxWAL>>20)
}

// openSQLiteFile opens a SQLite database in a file of the test's own, closed when it ends.
func openSQLiteFile(t *testing.T, name string) (*gorm.DB, string) {
	path := filepath.Join(t.TempDir(), name)
	g, err := db.Open("sqlite", path, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(g) })
	return g, path
}

// waitCheckpointPass waits, a minute at most, until the checkpointer has run more than after
// passes, and returns their number.
func waitCheckpointPass(t *testing.T, g *gorm.DB, after int64) int64 {
	for deadline := time.Now().Add(time.Minute); db.CheckpointPasses(g) == after; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the background checkpointer ran no pass in a minute")
		}
	}
	return db.CheckpointPasses(g)
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestOpenErrors(t *testing.T) {
	if _, err := db.Open("mysql", "x", slog.Default()); err == nil {
		t.Error("unknown driver accepted")
	}
	if _, err := db.Open("postgres", "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=1", slog.Default()); err == nil {
		t.Error("unreachable postgres accepted")
	}
}
