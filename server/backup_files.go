package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// backupManifest is backup.json, the first thing restore reads: what the backup holds and
// each file's size and SHA-256, so a damaged or incomplete backup is refused before
// anything is written.
type backupManifest struct {
	Format        int          `json:"format"`
	ParleyVersion string       `json:"parleyVersion"`
	CreatedAt     time.Time    `json:"createdAt"`
	Database      string       `json:"database"`          // "sqlite" (parley.db inside), or "postgres" (pg_dump's, beside it)
	Recordings    string       `json:"recordingsStorage"` // "fs" (files inside) or "s3" (objects stay in the bucket)
	Files         []backupFile `json:"files"`
}

type backupFile struct {
	Path   string `json:"path"` // slash-separated, relative to the backup folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

const (
	manifestName   = "backup.json"
	backupDBName   = "parley.db"
	recordingsDir  = "recordings"
	indexName      = "recordings.json"
	manifestFormat = 1
)

// emptyDir reports whether dir is absent or an empty directory.
func emptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

// copyFile copies src to the new file dest (0600, parents 0700) and returns its size and
// SHA-256.
func copyFile(src, dest string) (int64, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return 0, "", err
	}
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", fmt.Errorf("copy %s: %w", src, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile is the size and SHA-256 of a file.
func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// copyTree copies every regular file under src into dest/rel, adding each to files.
// An absent src copies nothing.
func copyTree(src, dest, rel string, files *[]backupFile) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // directories are made as needed; links and sockets are not data
		}
		sub, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(rel, filepath.ToSlash(sub))
		n, sum, err := copyFile(p, filepath.Join(dest, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		*files = append(*files, backupFile{Path: name, Size: n, SHA256: sum})
		return nil
	})
}

// readManifest reads DIR/backup.json and checks every file it lists against its size and
// checksum, and that no listed path leaves the backup folder.
func readManifest(dir string) (backupManifest, error) {
	var m backupManifest
	raw, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, fmt.Errorf("%s is not a Parley backup (no %s): %w", dir, manifestName, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%s: %s is damaged: %w", dir, manifestName, err)
	}
	if m.Format != manifestFormat {
		return m, fmt.Errorf("%s: backup format %d is not one this Parley reads (%d)", dir, m.Format, manifestFormat)
	}
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) || f.Path == manifestName {
			return m, fmt.Errorf("%s: %s lists %q, which is not a path inside the backup", dir, manifestName, f.Path)
		}
		n, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return m, fmt.Errorf("%s: %s is missing from the backup: %w", dir, f.Path, err)
		}
		if n != f.Size || sum != f.SHA256 {
			return m, fmt.Errorf("%s: %s does not match the backup's checksum (damaged or changed since the backup)", dir, f.Path)
		}
	}
	return m, nil
}

// underRecordings is the path of f inside the recordings folder, if it is in it.
func underRecordings(p string) (string, bool) {
	return strings.CutPrefix(p, recordingsDir+"/")
}
