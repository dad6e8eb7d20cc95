package recording

import (
	"context"
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

// stagingDir holds uploads in progress, inside the root so that the final rename is atomic.
const stagingDir = ".staging"

// FSStorage keeps recordings under a directory: <root>/<room>/<yyyy>/<mm>/<dd>/<id>.mp4.
// A file is written under <root>/.staging and renamed into place only once complete, so a
// listing of the tree never shows a partial recording.
type FSStorage struct {
	root string
	now  func() time.Time
}

// NewFSStorage creates the root (and its staging directory) and checks it is writable.
func NewFSStorage(root string, now func() time.Time) (*FSStorage, error) {
	if root == "" {
		return nil, fmt.Errorf("recording.storage.root is empty: set a directory: %w", ErrInvalid)
	}
	if now == nil {
		now = time.Now
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("recording.storage.root %q: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, stagingDir), 0o750); err != nil {
		return nil, fmt.Errorf("recording.storage.root %q: %w (check the path and its permissions)", root, err)
	}
	probe, err := os.CreateTemp(filepath.Join(abs, stagingDir), "probe-*")
	if err != nil {
		return nil, fmt.Errorf("recording.storage.root %q is not writable: %w", root, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &FSStorage{root: abs, now: now}, nil
}

// Root is the absolute storage directory.
func (f *FSStorage) Root() string { return f.root }

// path maps a key to a file under the root, refusing keys that would escape it.
func (f *FSStorage) path(key string) (string, error) {
	clean := path.Clean("/" + key)[1:]
	if key == "" || clean != key || strings.HasPrefix(key, stagingDir+"/") || strings.Contains(key, "\\") {
		return "", fmt.Errorf("storage key %q is not a clean relative path: %w", key, ErrInvalid)
	}
	return filepath.Join(f.root, filepath.FromSlash(key)), nil
}

// Location is the file's absolute path.
func (f *FSStorage) Location(key string) string {
	p, err := f.path(key)
	if err != nil {
		return key
	}
	return p
}

// Put streams r into a staged file, syncs it and renames it to key. size < 0 means unknown;
// otherwise a short copy is an error and nothing appears under key.
func (f *FSStorage) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error) {
	final, err := f.path(key)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.root, stagingDir), "put-*"+path.Ext(key))
	if err != nil {
		return 0, fmt.Errorf("storage: stage %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		return n, fmt.Errorf("storage: write %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("storage: write %s: got %d bytes, expected %d", key, n, size)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("storage: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("storage: close %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return n, fmt.Errorf("storage: move %s into place: %w", key, err)
	}
	committed = true
	return n, nil
}

// Open returns the file for streaming; a missing file is ErrNoFile.
func (f *FSStorage) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, 0, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("storage: %s: %w", key, ErrNoFile)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("storage: open %s: %w", key, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return file, st.Size(), nil
}

// PresignGet: a filesystem cannot presign; the API streams the file instead.
func (f *FSStorage) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	return "", false, nil
}

// Delete removes the file (a missing one is fine) and the date directories it leaves empty.
func (f *FSStorage) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	// The staged copy under its own key is what LiveKit Egress writes before the move.
	for _, p := range []string{p, filepath.Join(f.root, stagingDir, filepath.FromSlash(key))} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("storage: delete %s: %w", key, err)
		}
		for dir := filepath.Dir(p); dir != f.root && dir != filepath.Join(f.root, stagingDir) && strings.HasPrefix(dir, f.root); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil { // not empty, or already gone
				break
			}
		}
	}
	return nil
}

// StagingKey is .staging/<key>: inside the root, so that Promote's rename is atomic.
func (f *FSStorage) StagingKey(key string) string { return stagingDir + "/" + key }

// Promote renames the staged file of key into place (see Stager).
func (f *FSStorage) Promote(ctx context.Context, key string) (int64, error) {
	final, err := f.path(key)
	if err != nil {
		return 0, err
	}
	staged := filepath.Join(f.root, filepath.FromSlash(f.StagingKey(key)))
	st, err := os.Stat(staged)
	if errors.Is(err, fs.ErrNotExist) {
		if st, err = os.Stat(final); errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("storage: %s: neither staged nor in place: %w", key, ErrNoFile)
		}
		if err != nil {
			return 0, fmt.Errorf("storage: stat %s: %w", key, err)
		}
		return st.Size(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: stat staged %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(staged, final); err != nil {
		return 0, fmt.Errorf("storage: move %s into place: %w", key, err)
	}
	return st.Size(), nil
}

// SweepStaging removes staged files untouched for olderThan (left by a crash mid-upload).
func (f *FSStorage) SweepStaging(ctx context.Context, olderThan time.Duration) (int, error) {
	dir := filepath.Join(f.root, stagingDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("storage: sweep %s: %w", dir, err)
	}
	cutoff := f.now().Add(-olderThan)
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || !info.ModTime().Before(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
