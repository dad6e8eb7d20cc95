package recording

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
)

// fakeBackend is a Backend for unit tests of the service.
type fakeBackend struct {
	mu       sync.Mutex
	startErr error
	stopErr  error
	listErr  error
	started  []StartRequest
	stopped  []string
	list     []BackendRecording
	block    chan struct{} // when set, Start waits for it or ctx
}

func (f *fakeBackend) Name() string { return "fake" }

func (f *fakeBackend) Start(ctx context.Context, req StartRequest) (string, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return "", f.startErr
	}
	f.started = append(f.started, req)
	return "h-" + req.RecordingID, nil
}

func (f *fakeBackend) Stop(ctx context.Context, handle string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, handle)
	return f.stopErr
}

func (f *fakeBackend) List(ctx context.Context) ([]BackendRecording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list, f.listErr
}

// clock is a settable now().
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	svc     *Service
	be      *fakeBackend
	clk     *clock
	fs      *FSStorage
	mu      sync.Mutex
	notices []Recording
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{be: &fakeBackend{}, clk: &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}}
	fs, err := NewFSStorage(t.TempDir(), h.clk.now)
	if err != nil {
		t.Fatal(err)
	}
	h.fs = fs
	n := 0
	o := Options{Now: h.clk.now, Storage: fs, StartTimeout: 30 * time.Second, CallTimeout: 300 * time.Millisecond,
		WriteManifest: true, NewID: func() string { n++; return fmt.Sprintf("rec%d", n) },
		Notify: func(r Recording) { h.mu.Lock(); h.notices = append(h.notices, r); h.mu.Unlock() }}
	if mod != nil {
		mod(&o)
	}
	svc, err := New(dbtest.SQLite(t, Migrations()), o)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetBackend(h.be, "")
	h.svc = svc
	return h
}

func (h *harness) status(t *testing.T, id string) Recording {
	t.Helper()
	r, err := h.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStartStopComplete(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	r, err := h.svc.Start(ctx, StartParams{Room: "standup", RoomID: "RM_1", StartedBy: "u1"})
	if err != nil || r.Status != StatusStarting || r.Handle != "h-rec1" || r.Backend != "fake" {
		t.Fatalf("start: %+v, %v", r, err)
	}
	if _, err := h.svc.Start(ctx, StartParams{Room: "standup"}); !errors.Is(err, ErrAlreadyRecording) {
		t.Fatalf("second start: %v, want ErrAlreadyRecording", err)
	}
	if err := h.svc.Report(ctx, Update{Handle: "h-rec1", Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	h.clk.add(90 * time.Second)
	r, err = h.svc.Stop(ctx, r.ID)
	if err != nil || r.Status != StatusEnding || len(h.be.stopped) != 1 {
		t.Fatalf("stop: %+v, %v, stopped %v", r, err, h.be.stopped)
	}
	if r2, err := h.svc.Stop(ctx, r.ID); err != nil || r2.Status != StatusEnding || len(h.be.stopped) != 1 {
		t.Fatalf("stop again must be a no-op: %+v, %v", r2, err)
	}
	// The recorder stores the file, then reports completion.
	key := h.be.started[0].FileKey
	if _, err := h.fs.Put(ctx, key, strings.NewReader("mp4 bytes"), 9, "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusComplete, SizeBytes: 9}); err != nil {
		t.Fatal(err)
	}
	r = h.status(t, r.ID)
	if r.Status != StatusComplete || r.FileKey != key || r.DurationSeconds != 90 || r.SizeBytes != 9 || r.EndedAt == nil {
		t.Fatalf("complete: %+v", r)
	}
	// Duplicate completion (a retried report) is fine and changes nothing.
	if err := h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusComplete, SizeBytes: 1}); err != nil {
		t.Fatalf("duplicate report: %v", err)
	}
	if err := h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusActive}); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("late active report: %v, want ErrIllegalTransition", err)
	}
	if _, err := h.svc.Stop(ctx, r.ID); !errors.Is(err, ErrNotLive) {
		t.Fatalf("stop finished: %v", err)
	}
	// Manifest beside the file.
	b, err := os.ReadFile(filepath.Join(h.fs.Root(), ManifestKey(key)))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || m.RecordingID != r.ID || m.RoomName != "standup" || m.RoomID != "RM_1" ||
		len(m.Files) != 1 || m.Files[0].Size != 9 || m.StartedAt != r.StartedAt.UnixNano() || m.EndedAt == 0 ||
		m.Files[0].Location != filepath.Join(h.fs.Root(), key) {
		t.Fatalf("manifest: %s (%v)", b, err)
	}
	var seen []Status
	for _, n := range h.notices {
		seen = append(seen, n.Status)
	}
	if fmt.Sprint(seen) != "[starting active ending complete]" {
		t.Fatalf("notifications: %v", seen)
	}
	// Download streams the file; delete removes file and manifest.
	f, err := h.svc.OpenFile(ctx, r.ID)
	if err != nil || f.Size != 9 || f.URL != "" {
		t.Fatalf("open: %+v %v", f, err)
	}
	got, _ := io.ReadAll(f.Reader)
	f.Reader.Close()
	if string(got) != "mp4 bytes" {
		t.Fatalf("file: %q", got)
	}
	if err := h.svc.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.fs.Root(), key)); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
	if _, err := h.svc.Get(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestDisabledManifestAndLiveDelete(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.WriteManifest = false })
	ctx := context.Background()
	r, _ := h.svc.Start(ctx, StartParams{Room: "a"})
	if err := h.svc.Delete(ctx, r.ID); !errors.Is(err, ErrLive) {
		t.Fatalf("delete live: %v, want ErrLive", err)
	}
	if _, err := h.svc.OpenFile(ctx, r.ID); !errors.Is(err, ErrNoFile) {
		t.Fatalf("download live: %v, want ErrNoFile", err)
	}
	if err := h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusComplete}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.fs.Root(), ManifestKey(h.be.started[0].FileKey))); !os.IsNotExist(err) {
		t.Fatalf("manifest written although disabled: %v", err)
	}
}

func TestStartFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("backend error fails the recording and frees the room", func(t *testing.T) {
		h := newHarness(t, nil)
		h.be.startErr = errors.New("no worker")
		if _, err := h.svc.Start(ctx, StartParams{Room: "a"}); !errors.Is(err, ErrBackendUnavailable) {
			t.Fatalf("got %v, want ErrBackendUnavailable", err)
		}
		if r := h.status(t, "rec1"); r.Status != StatusFailed || !strings.Contains(r.Error, "no worker") {
			t.Fatalf("recording: %+v", r)
		}
		h.be.startErr = nil
		if _, err := h.svc.Start(ctx, StartParams{Room: "a"}); err != nil {
			t.Fatalf("start after a failed one: %v", err)
		}
	})
	t.Run("backend timeout", func(t *testing.T) {
		h := newHarness(t, nil)
		h.be.block = make(chan struct{})
		t0 := time.Now()
		if _, err := h.svc.Start(ctx, StartParams{Room: "a"}); !errors.Is(err, ErrBackendUnavailable) || time.Since(t0) > 2*time.Second {
			t.Fatalf("got %v after %s, want ErrBackendUnavailable after the call timeout", err, time.Since(t0))
		}
	})
	t.Run("room not active changes nothing", func(t *testing.T) {
		h := newHarness(t, nil)
		h.be.startErr = fmt.Errorf("requested room does not exist: %w", ErrRoomNotActive)
		if _, err := h.svc.Start(ctx, StartParams{Room: "a"}); !errors.Is(err, ErrRoomNotActive) {
			t.Fatalf("got %v", err)
		}
		if list, _, _ := h.svc.List(ctx, Filter{}); len(list) != 0 {
			t.Fatalf("a recording was left behind: %+v", list)
		}
	})
	t.Run("no backend", func(t *testing.T) {
		h := newHarness(t, nil)
		h.svc.SetBackend(nil, "the built-in recorder is not available in this build")
		_, err := h.svc.Start(ctx, StartParams{Room: "a"})
		if !errors.Is(err, ErrBackendUnavailable) || !strings.Contains(err.Error(), "not available in this build") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestStartTimeout(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	stuck, _ := h.svc.Start(ctx, StartParams{Room: "stuck"})
	fine, _ := h.svc.Start(ctx, StartParams{Room: "fine"})
	if err := h.svc.Report(ctx, Update{RecordingID: fine.ID, Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	h.clk.add(29 * time.Second)
	if n, err := h.svc.CheckStartTimeouts(ctx); err != nil || n != 0 {
		t.Fatalf("before the timeout: %d, %v", n, err)
	}
	h.clk.add(2 * time.Second)
	if n, err := h.svc.CheckStartTimeouts(ctx); err != nil || n != 1 {
		t.Fatalf("after the timeout: %d, %v", n, err)
	}
	r := h.status(t, stuck.ID)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "within 30s") {
		t.Fatalf("stuck: %+v", r)
	}
	if h.status(t, fine.ID).Status != StatusActive {
		t.Fatal("an active recording was touched")
	}
	if len(h.be.stopped) != 1 || h.be.stopped[0] != stuck.Handle {
		t.Fatalf("the stuck recording was not stopped at the backend: %v", h.be.stopped)
	}
	// A late "active" from the recorder cannot revive it.
	if err := h.svc.Report(ctx, Update{RecordingID: stuck.ID, Status: StatusActive}); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("late active: %v", err)
	}
}
