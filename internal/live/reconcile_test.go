package live_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
	"github.com/twitchtv/twirp"
)

// fakeLiveKit is one room with one participant; down makes every call fail as unreachable.
type fakeLiveKit struct {
	calls atomic.Int64
	down  atomic.Bool
}

func (f *fakeLiveKit) ListRooms(context.Context, *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, twirp.NewError(twirp.Unavailable, "livekit unreachable")
	}
	return &livekit.ListRoomsResponse{Rooms: []*livekit.Room{{Name: "r1", Sid: "RM_1", CreationTime: time.Now().Unix()}}}, nil
}

func (f *fakeLiveKit) ListParticipants(context.Context, *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error) {
	return &livekit.ListParticipantsResponse{Participants: []*livekit.ParticipantInfo{participant("PA_1", "alice", time.Now())}}, nil
}

// TestReconcilerLease: two instances on one database; one reconciles at a time, the other
// takes over when the holder stops or its lease expires.
func TestReconcilerLease(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			g := d.open(t)
			clock := atomic.Int64{}
			clock.Store(time.Now().UnixMilli())
			now := func() time.Time { return time.UnixMilli(clock.Load()) }
			lkA, lkB := &fakeLiveKit{}, &fakeLiveKit{}
			a := newFixture(t, g, func(o *live.Options) { o.Instance, o.LiveKit, o.Now, o.ReconcileInterval = "A", lkA, now, time.Second })
			b := newFixture(t, g, func(o *live.Options) { o.Instance, o.LiveKit, o.Now, o.ReconcileInterval = "B", lkB, now, time.Second })
			ctx := context.Background()
			if rep, err := a.svc.ReconcileNow(ctx); err != nil || rep[live.RepairParticipantAdded] != 1 || rep[live.RepairRoomStarted] != 1 {
				t.Fatalf("A's pass: %v, %v; want the room and alice added", rep, err)
			}
			if rep, err := b.svc.ReconcileNow(ctx); err != nil || rep != nil || lkB.calls.Load() != 0 {
				t.Fatalf("B's pass while A holds the lease: %v, %v, %d LiveKit calls; want standby", rep, err, lkB.calls.Load())
			}
			clock.Add((4 * time.Second).Milliseconds()) // A stopped renewing: its lease expired
			if _, err := b.svc.ReconcileNow(ctx); err != nil || lkB.calls.Load() != 1 {
				t.Fatalf("B after A's lease expired: %v, %d calls", err, lkB.calls.Load())
			}
			if _, err := a.svc.ReconcileNow(ctx); err != nil || lkA.calls.Load() != 1 {
				t.Fatalf("A while B holds the lease: %v, %d calls (want still 1)", err, lkA.calls.Load())
			}
			// LiveKit unreachable: nothing is ended because of it.
			lkB.down.Store(true)
			if _, err := b.svc.ReconcileNow(ctx); err == nil {
				t.Fatal("pass with LiveKit down: no error")
			}
			if n, _ := b.svc.ActiveCount(ctx, "r1"); n != 1 {
				t.Fatalf("active count with LiveKit down: %d, want 1 (unchanged)", n)
			}
		})
	}
}
