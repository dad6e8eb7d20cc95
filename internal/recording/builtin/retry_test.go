package builtin

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// refusingStorage is the real filesystem storage refusing the first `refuse` uploads, the
// way a full disk or an S3 outage does.
type refusingStorage struct {
	*recording.FSStorage
	refuse atomic.Int32
}

func (s *refusingStorage) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) (int64, error) {
	if s.refuse.Add(-1) >= 0 {
		return 0, errors.New("storage refused the upload: no space left on device")
	}
	return s.FSStorage.Put(ctx, key, r, size, ct)
}

// retryEnv is a recording service with the built-in recorder against a real LiveKit.
type retryEnv struct {
	*env
	svc     *recording.Service
	storage *refusingStorage
	reg     *prometheus.Registry
	mu      sync.Mutex
	seen    []recording.Recording
}

func newRetryEnv(t *testing.T, refuse int32, maxAttempts int) *retryEnv {
	t.Helper()
	e := &retryEnv{env: &env{lk: lktest.Start(t, lktest.Options{}), work: t.TempDir()}, reg: prometheus.NewRegistry()}
	fs, err := recording.NewFSStorage(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.storage = &refusingStorage{FSStorage: fs}
	e.storage.refuse.Store(refuse)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.svc, err = recording.New(dbtest.SQLite(t, recording.Migrations()), recording.Options{
		Log: log, Storage: e.storage, Instance: "test-instance", LocalBackend: true,
		RetryBackoff: 300 * time.Millisecond, MaxAttempts: maxAttempts,
		Notify: func(r recording.Recording) { e.mu.Lock(); e.seen = append(e.seen, r); e.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.rec, err = New(Config{URL: e.lk.WSURL, APIKey: e.lk.APIKey, APISecret: e.lk.APISecret, WorkDir: e.work,
		Reporter: e.svc, Storage: e.storage, Rooms: lksdk.NewRoomServiceClient(e.lk.HTTPURL, e.lk.APIKey, e.lk.APISecret), Log: log, Registry: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.SetBackend(e.rec, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.svc.RunRetries(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = e.rec.Close(cctx)
	})
	e.env.rooms = lksdk.NewRoomServiceClient(e.lk.HTTPURL, e.lk.APIKey, e.lk.APISecret)
	return e
}

// record runs a ~3 s recording of one publisher through the service and stops it.
func (e *retryEnv) record(t *testing.T, room string) recording.Recording {
	t.Helper()
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	e.createRoom(t, room)
	e.publish(t, room, "alice", red)
	r, err := e.svc.Start(context.Background(), recording.StartParams{Room: room, StartedBy: "u1"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	time.Sleep(3 * time.Second)
	if _, err := e.svc.Stop(context.Background(), r.ID); err != nil {
		t.Fatalf("stop: %v", err)
	}
	return r
}

// waitStatus polls the service until the recording is in want (and cond holds).
func (e *retryEnv) waitStatus(t *testing.T, id string, want recording.Status, within time.Duration, cond func(recording.Recording) bool) recording.Recording {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := e.svc.Get(context.Background(), id)
		if err == nil && r.Status == want && (cond == nil || cond(r)) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording is %s (%q, attempts %d, retryable %v), want %s within %s", r.Status, r.Error, r.Attempts, r.Retryable, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUploadRefusedOnceStillCompletes: the storage refuses the first upload; the recording
// is failed with a scheduled retry (retryable, nextRetryAt, attempts 1), keeps its track
// files, and the retry makes it complete with the file in storage.
func TestUploadRefusedOnceStillCompletes(t *testing.T) {
	e := newRetryEnv(t, 1, 5)
	r := e.record(t, "retry-once")
	final := e.waitStatus(t, r.ID, recording.StatusComplete, 90*time.Second, nil)
	var failed *recording.Recording
	e.mu.Lock()
	for i := range e.seen {
		if e.seen[i].ID == r.ID && e.seen[i].Status == recording.StatusFailed {
			failed = &e.seen[i]
		}
	}
	e.mu.Unlock()
	if failed == nil || !failed.Retryable || failed.NextRetryAt == nil || failed.Attempts != 1 {
		t.Fatalf("the failed state before the retry = %+v, want retryable with a next retry, attempt 1", failed)
	}
	if final.Attempts != 1 || final.Retryable || final.NextRetryAt != nil || final.SizeBytes <= 0 {
		t.Errorf("complete recording: attempts %d retryable %v next %v size %d", final.Attempts, final.Retryable, final.NextRetryAt, final.SizeBytes)
	}
	if _, err := os.Stat(filepath.Join(e.storage.Root(), filepath.FromSlash(final.FileKey))); err != nil {
		t.Errorf("stored file: %v", err)
	}
	if got := testutil.ToFloat64(e.rec.m.failures.WithLabelValues(failUpload)); got != 1 {
		t.Errorf("upload failures metric = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(e.rec.m.duration); got != 1 {
		t.Errorf("composition duration series = %d, want 1", got)
	}
}

// TestDeleteFailedRecordingLeavesNoFiles: a recording that failed for good (every upload
// refused, one attempt allowed) is deleted: its track files, work folder and any stored or
// staged object are gone.
func TestDeleteFailedRecordingLeavesNoFiles(t *testing.T) {
	e := newRetryEnv(t, 100, 1)
	r := e.record(t, "retry-never")
	failed := e.waitStatus(t, r.ID, recording.StatusFailed, 90*time.Second, nil)
	if failed.Retryable || failed.Attempts != 1 {
		t.Errorf("failed recording: retryable %v attempts %d, want no retry after the only attempt", failed.Retryable, failed.Attempts)
	}
	if _, err := os.Stat(filepath.Join(e.work, r.ID)); err != nil {
		t.Fatalf("track files not kept after the failure: %v", err)
	}
	if err := e.svc.Delete(context.Background(), r.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, root := range []string{e.work, e.storage.Root()} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("file left after delete: %s", p)
			}
			return nil
		})
	}
	if _, err := e.svc.Get(context.Background(), r.ID); !errors.Is(err, recording.ErrNotFound) {
		t.Errorf("recording still listed: %v", err)
	}
}
