package room

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
)

// The breakout timer sleeps until the next split's end, at most breakoutRecheck, and comes
// back within a second to a due split it could not end.
func TestBreakoutTimerSleepsUntilTheNextEnd(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	s, err := New(Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute}, dbtest.SQLite(t, Migrations()),
		nilLiveKit{}, nilLive{}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got := s.endDueBreakouts(ctx); got != breakoutRecheck {
		t.Fatalf("no timer: sleeps %s, want %s", got, breakoutRecheck)
	}
	split := func(room string, in time.Duration) {
		ends := now.Add(in)
		if err := s.st.startBreakouts(ctx, breakoutRow{RoomID: room, Rooms: 1, StartedBy: "u1", CreatedAt: now, EndsAt: &ends}, nil); err != nil {
			t.Fatal(err)
		}
	}
	split("late", time.Minute)
	split("soon", 3*time.Second)
	if got := s.endDueBreakouts(ctx); got != 3*time.Second {
		t.Fatalf("timers in 3 s and 1 min: sleeps %s, want 3s", got)
	}
	split("gone", -time.Second) // due, but its room does not exist: it cannot be ended
	if got := s.endDueBreakouts(ctx); got != time.Second {
		t.Fatalf("a due split that could not be ended: sleeps %s, want 1s", got)
	}
}
