package room

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/testenv"
)

// refusingLiveKit answers its first refusals CreateRoom calls as a LiveKit that just died
// does: server-sdk-go's own error for a refused connection (its client points at a port
// nobody listens on).
type refusingLiveKit struct {
	createLiveKit
	dead     *lksdk.RoomServiceClient
	refusals int
}

func (f *refusingLiveKit) CreateRoom(ctx context.Context, r *livekit.CreateRoomRequest) (*livekit.Room, error) {
	if f.refusals > 0 {
		f.refusals--
		return f.dead.CreateRoom(ctx, r)
	}
	return f.createLiveKit.CreateRoom(ctx, r)
}

// A join that reaches LiveKit in the moment between its death and its supervisor noticing
// (the connection refused, the wait still open) is tried again after the wait instead of
// being refused with 503; without a wait to hold it there is no retry.
func TestJoinWaitsOutARefusedLiveKit(t *testing.T) {
	dead := lksdk.NewRoomServiceClient(fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), "k", "secret-of-some-length-for-the-sdk-000")
	for _, held := range []bool{true, false} {
		lk := &refusingLiveKit{dead: dead, refusals: 2}
		waits := 0
		cfg := Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute}
		if held {
			cfg.WaitLiveKit = func(context.Context) error { waits++; return nil }
		}
		s, err := New(cfg, dbtest.SQLite(t, Migrations()), lk, endedLive{}, slog.New(slog.DiscardHandler), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		name := "standup"
		if _, err := s.Create(ctx, Caller{UserID: "u1"}, Input{Name: &name}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Join(ctx, name, Caller{UserID: "u1"}, JoinRequest{})
		switch {
		case held && (err != nil || waits != 3 || len(lk.reqs) != 1):
			t.Errorf("held join: %v after %d waits and %d creations, want a token after 3 waits and 1 creation", err, waits, len(lk.reqs))
		case !held && !errors.Is(err, ErrUnavailable):
			t.Errorf("join without a wait: %v, want ErrUnavailable at once", err)
		}
	}
}
