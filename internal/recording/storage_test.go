package recording

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFSStoragePut(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	fs, err := NewFSStorage(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	key := "standup/2026/05/04/r1.mp4"
	if n, err := fs.Put(ctx, key, strings.NewReader("hello"), 5, "video/mp4"); err != nil || n != 5 {
		t.Fatalf("put: %d, %v", n, err)
	}
	rd, size, err := fs.Open(ctx, key)
	if err != nil || size != 5 {
		t.Fatalf("open: %d, %v", size, err)
	}
	b, _ := io.ReadAll(rd)
	rd.Close()
	if string(b) != "hello" {
		t.Fatalf("content %q", b)
	}
	staged, _ := os.ReadDir(filepath.Join(fs.Root(), stagingDir))
	if len(staged) != 0 {
		t.Fatalf("staging not empty after a put: %v", staged)
	}

	// A short or failing stream leaves nothing under the key and nothing staged.
	if _, err := fs.Put(ctx, "a/b.mp4", strings.NewReader("abc"), 10, "video/mp4"); err == nil {
		t.Fatal("short write accepted")
	}
	if _, err := fs.Put(ctx, "a/c.mp4", io.MultiReader(strings.NewReader("abc"), errReader{}), -1, "video/mp4"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing stream: %v", err)
	}
	for _, k := range []string{"a/b.mp4", "a/c.mp4"} {
		if _, _, err := fs.Open(ctx, k); !errors.Is(err, ErrNoFile) {
			t.Fatalf("%s after a failed put: %v, want ErrNoFile", k, err)
		}
	}
	if staged, _ := os.ReadDir(filepath.Join(fs.Root(), stagingDir)); len(staged) != 0 {
		t.Fatalf("failed puts left staged files: %v", staged)
	}

	for _, bad := range []string{"", "../x.mp4", "/etc/passwd", "a/../../x", ".staging/x.mp4", "a//b.mp4"} {
		if _, err := fs.Put(ctx, bad, strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("key %q: %v, want ErrInvalid", bad, err)
		}
	}

	if err := fs.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := fs.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fs.Root(), "standup")); !os.IsNotExist(err) {
		t.Fatalf("empty date directories left behind: %v", err)
	}

	// Sweep: abandoned staged files older than the limit go, fresh ones stay.
	oldF := filepath.Join(fs.Root(), stagingDir, "put-old.mp4")
	newF := filepath.Join(fs.Root(), stagingDir, "put-new.mp4")
	os.WriteFile(oldF, []byte("x"), 0o600)
	os.WriteFile(newF, []byte("x"), 0o600)
	os.Chtimes(oldF, now.Add(-7*time.Hour), now.Add(-7*time.Hour))
	if n, err := fs.SweepStaging(ctx, 6*time.Hour); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if _, err := os.Stat(newF); err != nil {
		t.Fatal("a fresh staged file was swept")
	}
}

// TestFSStorageFull writes to a real full filesystem: a 64 KiB tmpfs (needs root to mount).
func TestFSStorageFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("!!! cannot mount a small tmpfs to fill (%v: %s): SKIPPING the full-disk test", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	fs, err := NewFSStorage(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fs.Put(context.Background(), "a/x.mp4", bytes.NewReader(make([]byte, 256<<10)), -1, "video/mp4")
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "a/x.mp4") {
		t.Fatalf("got %v, want a no-space error naming the key", err)
	}
	if staged, _ := os.ReadDir(filepath.Join(dir, stagingDir)); len(staged) != 0 {
		t.Fatalf("the failed put left %d staged files", len(staged))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk full") }

func TestNewStorageErrors(t *testing.T) {
	if _, err := NewFSStorage("", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty root: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := NewFSStorage(filepath.Join(file, "sub"), nil); err == nil || !strings.Contains(err.Error(), "recording.storage.root") {
		t.Errorf("unusable root: %v", err)
	}
	if _, err := NewS3Storage(S3Config{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("no bucket: %v", err)
	}
	if _, err := NewS3Storage(S3Config{Bucket: "b", Endpoint: "ftp://x"}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad endpoint: %v", err)
	}
}
