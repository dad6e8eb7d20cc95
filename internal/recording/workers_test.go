package recording

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
)

func TestReconcile(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	gone, _ := h.svc.Start(ctx, StartParams{Room: "gone"})
	done, _ := h.svc.Start(ctx, StartParams{Room: "done"})
	same, _ := h.svc.Start(ctx, StartParams{Room: "same"})
	h.be.list = []BackendRecording{
		{Handle: done.Handle, Status: StatusComplete, SizeBytes: 42, DurationSeconds: 3},
		{Handle: same.Handle, Status: StatusStarting},
	}
	h.be.listErr = errors.New("unreachable")
	h.clk.add(time.Minute)
	if err := h.svc.Reconcile(ctx); err == nil {
		t.Fatal("a failing listing must be reported")
	}
	if h.status(t, gone.ID).Status != StatusStarting {
		t.Fatal("a failing listing must change nothing")
	}
	h.be.listErr = nil
	young, _ := h.svc.Start(ctx, StartParams{Room: "young"}) // within the grace period
	if err := h.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]Status{gone.ID: StatusAborted, done.ID: StatusComplete, same.ID: StatusStarting, young.ID: StatusStarting} {
		if got := h.status(t, id); got.Status != want {
			t.Errorf("%s: %s, want %s", id, got.Status, want)
		}
	}
	if r := h.status(t, done.ID); r.SizeBytes != 42 || r.DurationSeconds != 3 {
		t.Errorf("details of the finished one: %+v", r)
	}
	if r := h.status(t, gone.ID); !strings.Contains(r.Error, "no longer knows") {
		t.Errorf("reason: %q", r.Error)
	}
}

func TestStopUnknownToBackendAborts(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	r, _ := h.svc.Start(ctx, StartParams{Room: "a"})
	h.be.stopErr = fmt.Errorf("egress gone: %w", ErrUnknownHandle)
	if _, err := h.svc.Stop(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.status(t, r.ID); got.Status != StatusAborted {
		t.Fatalf("got %s, want aborted", got.Status)
	}
}

func TestRetention(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RetentionDays = 7 })
	ctx := context.Background()
	old, _ := h.svc.Start(ctx, StartParams{Room: "old"})
	key := h.be.started[0].FileKey
	h.fs.Put(ctx, key, strings.NewReader("x"), 1, "video/mp4")
	h.svc.Report(ctx, Update{RecordingID: old.ID, Status: StatusComplete})
	oldLive, _ := h.svc.Start(ctx, StartParams{Room: "still-live"})
	h.clk.add(6 * 24 * time.Hour)
	recent, _ := h.svc.Start(ctx, StartParams{Room: "recent"})
	h.svc.Report(ctx, Update{RecordingID: recent.ID, Status: StatusFailed, Error: "x"})
	h.clk.add(2 * 24 * time.Hour)
	n, err := h.svc.SweepRetention(ctx)
	if err != nil || n != 1 {
		t.Fatalf("swept %d, %v; want 1", n, err)
	}
	if _, err := h.svc.Get(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("the old recording survived")
	}
	if _, err := os.Stat(filepath.Join(h.fs.Root(), key)); !os.IsNotExist(err) {
		t.Fatal("the old file survived")
	}
	for _, id := range []string{oldLive.ID, recent.ID} {
		h.status(t, id) // still there
	}
}

func TestAutoRecord(t *testing.T) {
	ownSetting := map[string]bool{"board": true}
	h := newHarness(t, func(o *Options) {
		o.AutoRooms = []string{"standup-*"}
		o.Room = func(ctx context.Context, room string) (RoomRef, error) {
			return RoomRef{ID: "id-" + room, OwnerID: "owner-" + room, AutoRecord: ownSetting[room], Found: room != "random"}, nil
		}
	})
	ctx := context.Background()
	for _, room := range []string{"standup-mon", "board", "random"} {
		if err := h.svc.OnRoomStarted(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.svc.OnRoomStarted(ctx, "standup-mon"); err != nil { // a second room_started
		t.Fatalf("repeat room_started: %v", err)
	}
	list, _, _ := h.svc.List(ctx, Filter{})
	rooms := map[string]string{}
	for _, r := range list {
		rooms[r.Room] = r.StartedBy
	}
	if len(list) != 2 || rooms["standup-mon"] != AutoStarter || rooms["board"] != AutoStarter {
		t.Fatalf("auto recordings: %v", rooms)
	}
	for _, r := range list { // they belong to their room by id, and to its owner
		if r.RoomID != "id-"+r.Room || r.OwnerID != "owner-"+r.Room {
			t.Fatalf("auto recording of %s: room id %q owner %q", r.Room, r.RoomID, r.OwnerID)
		}
	}
	if err := h.svc.OnRoomFinished(ctx, "board"); err != nil {
		t.Fatal(err)
	}
	list, _, _ = h.svc.List(ctx, Filter{Room: "board"})
	if list[0].Status != StatusEnding || len(h.be.stopped) != 1 {
		t.Fatalf("room_finished did not stop: %+v", list[0])
	}
	if _, err := New(dbtest.SQLite(t, Migrations()), Options{AutoRooms: []string{"[bad"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad pattern: %v", err)
	}
}

func TestListPagination(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for i := range 5 {
		r, _ := h.svc.Start(ctx, StartParams{Room: "a"})
		h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusFailed, Error: "x"})
		if i == 2 {
			h.svc.Start(ctx, StartParams{Room: "b"})
		}
		h.clk.add(time.Second)
	}
	var ids []string
	cursor := ""
	for {
		page, next, err := h.svc.List(ctx, Filter{Room: "a", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			ids = append(ids, r.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(ids) != "[rec6 rec5 rec3 rec2 rec1]" {
		t.Fatalf("pages: %v", ids)
	}
	if _, _, err := h.svc.List(ctx, Filter{Cursor: "garbage"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestReconcileLocalBackend: with the built-in recorder, an instance only judges the
// recordings it started; another instance's are not aborted for being unknown here.
func TestReconcileLocalBackend(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Instance, o.LocalBackend = "host-a", true })
	ctx := context.Background()
	mine, _ := h.svc.Start(ctx, StartParams{Room: "mine"})
	now := h.clk.now()
	theirs := Recording{ID: "theirs", Room: "theirs", Backend: "fake", Handle: "h-theirs", Status: StatusActive,
		StartedAt: now, UpdatedAt: now, Instance: "host-b"}
	if err := h.svc.st.insert(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	h.clk.add(time.Minute)
	if err := h.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.status(t, mine.ID).Status; got != StatusAborted {
		t.Errorf("own unknown recording: %s, want aborted", got)
	}
	if got := h.status(t, "theirs").Status; got != StatusActive {
		t.Errorf("another instance's recording: %s, want untouched", got)
	}
}
