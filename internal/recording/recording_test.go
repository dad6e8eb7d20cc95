package recording

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

var allStatuses = []Status{StatusStarting, StatusActive, StatusEnding, StatusComplete, StatusFailed, StatusAborted}

// legal is the state machine written out by hand, independently of CanTransition.
var legal = map[Status][]Status{
	StatusStarting: {StatusActive, StatusEnding, StatusComplete, StatusFailed, StatusAborted},
	StatusActive:   {StatusEnding, StatusComplete, StatusFailed, StatusAborted},
	StatusEnding:   {StatusComplete, StatusFailed, StatusAborted},
}

func isLegal(from, to Status) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

func TestCanTransitionEveryPair(t *testing.T) {
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			if got, want := CanTransition(from, to), isLegal(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
		if CanTransition(from, "bogus") || CanTransition("bogus", from) {
			t.Errorf("a bogus status must never be a legal transition from/to %s", from)
		}
	}
}

// seed puts a recording directly in state st (as if it had got there legally).
func seed(t *testing.T, st store, id, room string, s Status) {
	t.Helper()
	now := time.Now().UTC()
	if err := st.insert(context.Background(), Recording{ID: id, Room: room, Backend: "fake", Status: s, StartedAt: now, UpdatedAt: now}); err != nil {
		t.Fatalf("seed %s: %v", id, err)
	}
}

// TestStoreTransitions applies every (from, to) pair through the conditional UPDATE on SQLite
// and PostgreSQL: legal ones apply once, a repeat is ErrDuplicate, illegal ones change nothing.
func TestStoreTransitions(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *gorm.DB{
		"sqlite":   func(t *testing.T) *gorm.DB { return dbtest.SQLite(t, Migrations()) },
		"postgres": func(t *testing.T) *gorm.DB { return dbtest.Postgres(t, Migrations()) },
	} {
		t.Run(name, func(t *testing.T) {
			st := store{db: open(t)}
			ctx := context.Background()
			for _, from := range allStatuses {
				for _, to := range allStatuses {
					id := fmt.Sprintf("%s-%s", from, to)
					seed(t, st, id, "room-"+id, from)
					got, err := st.transition(ctx, id, Update{Status: to, Error: "why"}, time.Now())
					switch {
					case isLegal(from, to):
						if err != nil || got.Status != to {
							t.Errorf("%s -> %s: got %s, %v; want applied", from, to, got.Status, err)
						}
						if to.Terminal() && got.EndedAt == nil {
							t.Errorf("%s -> %s: endedAt not set", from, to)
						}
						// Delivered again: a duplicate, still in `to`.
						again, err := st.transition(ctx, id, Update{Status: to}, time.Now())
						if !errors.Is(err, ErrDuplicate) || again.Status != to {
							t.Errorf("%s -> %s twice: got %s, %v; want ErrDuplicate", from, to, again.Status, err)
						}
					case from == to:
						if !errors.Is(err, ErrDuplicate) || got.Status != from {
							t.Errorf("%s -> %s: got %s, %v; want ErrDuplicate", from, to, got.Status, err)
						}
					default:
						if !errors.Is(err, ErrIllegalTransition) || got.Status != from || got.Error != "" {
							t.Errorf("%s -> %s: got %s (error %q), %v; want ErrIllegalTransition and no change", from, to, got.Status, got.Error, err)
						}
					}
				}
			}
		})
	}
}

// TestTransitionRace: many sources deliver the same and competing transitions at once;
// exactly one wins, whatever the interleaving.
func TestTransitionRace(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *gorm.DB{
		"sqlite":   func(t *testing.T) *gorm.DB { return dbtest.SQLite(t, Migrations()) },
		"postgres": func(t *testing.T) *gorm.DB { return dbtest.Postgres(t, Migrations()) },
	} {
		t.Run(name, func(t *testing.T) {
			st := store{db: open(t)}
			seed(t, st, "race", "room", StatusActive)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					to := []Status{StatusComplete, StatusFailed, StatusAborted, StatusEnding}[i%4]
					_, err := st.transition(context.Background(), "race", Update{Status: to}, time.Now())
					if err == nil {
						wins.Add(1)
					} else if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrIllegalTransition) {
						t.Errorf("unexpected error: %v", err)
					}
				}()
			}
			wg.Wait()
			r, _ := st.get(context.Background(), "race")
			// At most: active -> ending, then ending -> one terminal state.
			if w := wins.Load(); w < 1 || w > 2 {
				t.Fatalf("%d transitions applied, want 1 or 2 (ending then a terminal state); final %s", w, r.Status)
			}
			if wins.Load() == 2 && !r.Status.Terminal() {
				t.Fatalf("two wins must end in a terminal state, got %s", r.Status)
			}
		})
	}
}

func TestOneLiveRecordingPerRoom(t *testing.T) {
	st := store{db: dbtest.SQLite(t, Migrations())}
	ctx := context.Background()
	seed(t, st, "a", "standup", StatusStarting)
	now := time.Now().UTC()
	err := st.insert(ctx, Recording{ID: "b", Room: "standup", Backend: "fake", Status: StatusStarting, StartedAt: now, UpdatedAt: now})
	if !errors.Is(err, ErrAlreadyRecording) {
		t.Fatalf("second live recording: got %v, want ErrAlreadyRecording", err)
	}
	seed(t, st, "other-room", "retro", StatusStarting) // other rooms are independent
	if _, err := st.transition(ctx, "a", Update{Status: StatusFailed}, time.Now()); err != nil {
		t.Fatal(err)
	}
	seed(t, st, "c", "standup", StatusStarting) // the slot is free once the first has finished
}

func TestFileAndManifestKeys(t *testing.T) {
	at := time.Date(2025, 3, 7, 23, 30, 0, 0, time.FixedZone("x", -2*3600))
	if got, want := FileKey("standup", "abc", at), "standup/2025/03/08/abc.mp4"; got != want {
		t.Errorf("FileKey = %q, want %q (UTC date)", got, want)
	}
	if got, want := ManifestKey("standup/2025/03/08/abc.mp4"), "standup/2025/03/08/abc.json"; got != want {
		t.Errorf("ManifestKey = %q, want %q", got, want)
	}
}
