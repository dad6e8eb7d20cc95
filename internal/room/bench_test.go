package room

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/db/dbtest"
)

type createdLiveKit struct{ LiveKit }

func (createdLiveKit) CreateRoom(context.Context, *livekit.CreateRoomRequest) (*livekit.Room, error) {
	return &livekit.Room{NumParticipants: 1}, nil // a running meeting
}

// BenchmarkJoin measures the join decision and token signing on SQLite, LiveKit room
// already created (the hot path minus HTTP and auth).
func BenchmarkJoin(b *testing.B) {
	s, err := New(Config{APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", TokenTTL: time.Minute, DepartureTimeout: time.Hour},
		dbtest.SQLite(b, Migrations()), createdLiveKit{}, nilLive{}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	name, pub := "bench-room", true
	if _, err := s.Create(ctx, Caller{UserID: "owner"}, Input{Name: &name, Public: &pub}); err != nil {
		b.Fatal(err)
	}
	b.Run("lookup", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, _, err := s.lookup(ctx, name, "user", "user"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("join", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Join(ctx, name, Caller{UserID: "user"}, JoinRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
