package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/recording"
	"gorm.io/gorm"
)

// dataDirFiles are the files of the data directory a backup carries besides the database
// and the recordings: the generated secrets (sessions and guest cookies stay valid), the
// instance id (the built-in recorder's recordings stay this instance's), and certs/ (the
// ACME account, certificates and the local CA that devices already trust).
var dataDirFiles = []string{config.SecretsFile, instanceFile}

// backupCommand is `parley backup --to DIR`: a consistent copy of the database (SQLite,
// while Parley runs) and of the data directory's files and recordings, into a new folder.
func backupCommand(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) (err error) {
	to, err := oneFolderFlag("backup", "to", args)
	if err != nil {
		return err
	}
	for _, dir := range []string{cfg.Server.DataDir, cfg.Recording.Storage.Root} {
		if dir != "" && inside(to, dir) {
			return fmt.Errorf("backup: --to %s is inside %s, which the backup copies: put the backup somewhere else (ideally another disk)", to, dir)
		}
	}
	if ok, err := emptyDir(to); err != nil || !ok {
		return fmt.Errorf("backup: --to %s must be a new or empty folder (a backup never overwrites one): %v", to, orExists(err))
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil { // leave the folder empty, as it was
			clearDir(to)
		}
	}()
	m := backupManifest{Format: manifestFormat, ParleyVersion: version, CreatedAt: time.Now().UTC(),
		Database: cfg.Database.Driver, Recordings: cfg.Recording.Storage.Type}
	var index *gorm.DB
	if cfg.Database.Driver == "sqlite" {
		dest := filepath.Join(to, backupDBName)
		if err := db.BackupSQLite(ctx, cfg.Database.DSN, dest); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		n, sum, err := hashFile(dest)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, backupFile{Path: backupDBName, Size: n, SHA256: sum})
		if index, err = db.OpenSQLiteReadOnly(dest); err != nil {
			return err
		}
	} else if index, err = db.Open(cfg.Database.Driver, cfg.Database.DSN, nil); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	recs, err := recording.Index(ctx, index)
	_ = db.Close(index)
	if err != nil {
		return fmt.Errorf("backup: the recordings index: %w", err)
	}
	dataDir := cfg.Server.DataDir
	for _, name := range dataDirFiles {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err == nil {
			n, sum, err := copyFile(filepath.Join(dataDir, name), filepath.Join(to, name))
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			m.Files = append(m.Files, backupFile{Path: name, Size: n, SHA256: sum})
		}
	}
	trees := map[string]string{"certs": filepath.Join(dataDir, "certs")}
	if cfg.Recording.Storage.Type == "fs" {
		// The finished files, and the recorder's kept track files of recordings to retry.
		trees[recordingsDir], trees["recorder"] = cfg.Recording.Storage.Root, filepath.Join(dataDir, "recorder")
	}
	for rel, src := range trees {
		if err := copyTree(src, to, rel, &m.Files); err != nil {
			return fmt.Errorf("backup: %s: %w", rel, err)
		}
	}
	if err := writeIndex(to, recs, &m); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(m, "", "  ")
	// backup.json comes last and whole: a folder without it is an unfinished backup.
	if err := writeNew(filepath.Join(to, manifestName), raw); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	files, size := 0, int64(0)
	for _, f := range m.Files {
		if _, ok := underRecordings(f.Path); ok {
			files, size = files+1, size+f.Size
		}
	}
	fmt.Fprintf(stdout, "backup written to %s: %d recordings indexed, %d recording files (%d bytes)\n", to, len(recs), files, size)
	if cfg.Database.Driver == "postgres" {
		fmt.Fprintf(stdout, "the PostgreSQL database is not in it: back it up with pg_dump, for example\n"+
			"  pg_dump --format=custom --file %s \"$PARLEY_DATABASE_DSN\"\n", filepath.Join(to, "parley.pgdump"))
	}
	if cfg.Recording.Storage.Type == "s3" {
		fmt.Fprintf(stdout, "recording files stay in bucket %q (recordings.json lists their keys): back the bucket up with your S3 provider's tools\n", cfg.Recording.Storage.Bucket)
	}
	fmt.Fprintln(stdout, "the backup holds Parley's secrets: keep it as private as the data directory; restore with `parley restore --from "+to+"`")
	return nil
}

// indexEntry is one recording as recordings.json lists it.
type indexEntry struct {
	ID              string     `json:"id"`
	Room            string     `json:"room"`
	RoomID          string     `json:"roomId"`
	OwnerID         string     `json:"ownerId"`
	Status          string     `json:"status"`
	StartedAt       time.Time  `json:"startedAt"`
	EndedAt         *time.Time `json:"endedAt,omitempty"`
	DurationSeconds float64    `json:"durationSeconds"`
	SizeBytes       int64      `json:"sizeBytes"`
	FileKey         string     `json:"fileKey,omitempty"`
	InBackup        bool       `json:"inBackup"` // the file is under recordings/ in this backup
}

func writeIndex(to string, recs []recording.Recording, m *backupManifest) error {
	have := map[string]bool{}
	for _, f := range m.Files {
		if key, ok := underRecordings(f.Path); ok {
			have[key] = true
		}
	}
	out := make([]indexEntry, 0, len(recs))
	for _, r := range recs {
		out = append(out, indexEntry{ID: r.ID, Room: r.Room, RoomID: r.RoomID, OwnerID: r.OwnerID, Status: string(r.Status),
			StartedAt: r.StartedAt, EndedAt: r.EndedAt, DurationSeconds: r.DurationSeconds, SizeBytes: r.SizeBytes,
			FileKey: r.FileKey, InBackup: r.FileKey != "" && have[r.FileKey]})
	}
	raw, _ := json.MarshalIndent(out, "", "  ")
	p := filepath.Join(to, indexName)
	if err := writeNew(p, raw); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, sum, err := hashFile(p)
	m.Files = append(m.Files, backupFile{Path: indexName, Size: n, SHA256: sum})
	return err
}

// oneFolderFlag parses the single `--NAME DIR` (or `--NAME=DIR`) a command takes.
func oneFolderFlag(cmd, name string, args []string) (string, error) {
	var dir string
	for i := 0; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || flag != name {
			return "", usageError(fmt.Sprintf("%s: unexpected argument %q", cmd, args[i]))
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		dir = value
	}
	if dir == "" {
		return "", usageError(fmt.Sprintf("%s needs --%s DIR", cmd, name))
	}
	return filepath.Clean(dir), nil
}

// writeNew writes a new file, 0600, whole or not at all.
func writeNew(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// clearDir removes what is in dir (never dir itself, which may be a mount point).
func clearDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

func orExists(err error) any {
	if err != nil {
		return err
	}
	return "it holds files"
}
