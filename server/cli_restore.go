package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
)

// restoreCommand is `parley restore --from DIR`: a backup made by `parley backup` is checked
// whole (every checksum) and then written into the configured, empty, data directory (and
// the database and recordings folder the configuration names). It never overwrites: on any
// error the targets are left as empty as they were.
func restoreCommand(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) (err error) {
	from, err := oneFolderFlag("restore", "from", args)
	if err != nil {
		return err
	}
	m, err := readManifest(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if m.Database != cfg.Database.Driver {
		return fmt.Errorf("restore: the backup is of a %s database but database.driver (PARLEY_DATABASE_DRIVER) is %s: restore with the configuration the backup was made with",
			m.Database, cfg.Database.Driver)
	}
	fileRecordings := false
	for _, f := range m.Files {
		if _, ok := underRecordings(f.Path); ok {
			fileRecordings = true
		}
	}
	if fileRecordings && cfg.Recording.Storage.Type != "fs" {
		return fmt.Errorf("restore: the backup holds recording files but recording.storage.type (PARLEY_RECORDING_STORAGE_TYPE) is %s: restore with storage type fs, then move the files",
			cfg.Recording.Storage.Type)
	}
	dataDir, root := cfg.Server.DataDir, cfg.Recording.Storage.Root
	targets := []struct{ dir, key string }{{dataDir, "server.dataDir (PARLEY_SERVER_DATA_DIR)"}}
	if fileRecordings && !inside(root, dataDir) {
		targets = append(targets, struct{ dir, key string }{root, "recording.storage.root (PARLEY_RECORDING_STORAGE_ROOT)"})
	}
	for _, t := range targets {
		if ok, err := emptyDir(t.dir); err != nil || !ok {
			return fmt.Errorf("restore: %s %s must be empty or absent (a restore never overwrites; is a Parley using it?): %v; move it away or point %s at a new folder",
				t.key, t.dir, orExists(err), t.key)
		}
	}
	if m.Database == "sqlite" {
		if _, err := os.Stat(db.SQLitePath(cfg.Database.DSN)); err == nil {
			return fmt.Errorf("restore: database.dsn (PARLEY_DATABASE_DSN) %s already exists: a restore never overwrites a database; move it away first", cfg.Database.DSN)
		}
	}
	if err := config.PrivateDataDir(dataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	wroteDB := false
	defer func() {
		if err != nil {
			for _, t := range targets {
				clearDir(t.dir)
			}
			if wroteDB {
				_ = os.Remove(db.SQLitePath(cfg.Database.DSN))
			}
		}
	}()
	restored := 0
	for _, f := range m.Files {
		src := filepath.Join(from, filepath.FromSlash(f.Path))
		key, isRecording := underRecordings(f.Path)
		switch {
		case f.Path == backupDBName:
			err = db.RestoreSQLite(ctx, src, cfg.Database.DSN)
			wroteDB = err == nil
		case f.Path == indexName:
			continue // a listing for people; the database is the index Parley reads
		case isRecording:
			_, _, err = copyFile(src, filepath.Join(root, filepath.FromSlash(key)))
			restored++
		default:
			_, _, err = copyFile(src, filepath.Join(dataDir, filepath.FromSlash(f.Path)))
		}
		if err != nil {
			return fmt.Errorf("restore: %s: %w", f.Path, err)
		}
	}
	fmt.Fprintf(stdout, "restored the backup of %s (Parley %s) into %s: %d recording files\n",
		m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.ParleyVersion, dataDir, restored)
	if m.Database == "postgres" {
		fmt.Fprintf(stdout, "the PostgreSQL database is restored with pg_restore, before Parley starts, for example\n"+
			"  pg_restore --clean --if-exists --no-owner --dbname \"$PARLEY_DATABASE_DSN\" %s\n", filepath.Join(from, "parley.pgdump"))
	}
	fmt.Fprintln(stdout, "start Parley with `parley serve`: it applies the migrations of a newer version itself")
	return nil
}

// inside reports whether p is dir or below it (relative paths are from the working directory).
func inside(p, dir string) bool {
	absP, err1 := filepath.Abs(p)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(absDir, absP)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
