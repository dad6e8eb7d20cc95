package live_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
)

// restartableLiveKit lists one room whose sid (and participants) the test changes, the way
// a restarted LiveKit lists a re-created room.
type restartableLiveKit struct {
	mu    sync.Mutex
	sid   string // "" lists no room
	alice bool
}

func (f *restartableLiveKit) set(sid string, alice bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sid, f.alice = sid, alice
}

func (f *restartableLiveKit) ListRooms(context.Context, *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sid == "" {
		return &livekit.ListRoomsResponse{}, nil
	}
	return &livekit.ListRoomsResponse{Rooms: []*livekit.Room{{Name: "r1", Sid: f.sid, CreationTime: time.Now().Unix()}}}, nil
}

func (f *restartableLiveKit) ListParticipants(context.Context, *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.alice {
		return &livekit.ListParticipantsResponse{}, nil
	}
	return &livekit.ListParticipantsResponse{Participants: []*livekit.ParticipantInfo{participant("PA_1", "alice", time.Now())}}, nil
}

// TestMeetingResumedAfterLiveKitRestart: while held, a pass against a LiveKit that lists no
// rooms (restarted) ends nothing; ResumeRooms moves the meeting to the re-created room's
// sid and ends the lost session as livekit_lost, which still counts as in the meeting for
// alice's rejoin; the next pass keeps the meeting running.
func TestMeetingResumedAfterLiveKitRestart(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			lk := &restartableLiveKit{}
			lk.set("RM_1", true)
			f := newFixture(t, d.open(t), func(o *live.Options) { o.LiveKit = lk })
			ctx := context.Background()
			if _, err := f.svc.ReconcileNow(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := f.svc.ActiveCount(ctx, "r1"); n != 1 {
				t.Fatalf("alice not in the meeting: %d", n)
			}

			f.svc.HoldRooms()
			lk.set("", false) // LiveKit restarted: no rooms
			if rep, err := f.svc.ReconcileNow(ctx); err != nil || len(rep) != 0 {
				t.Fatalf("pass while held: %v %v, want no repairs", rep, err)
			}
			if n, _ := f.svc.ActiveCount(ctx, "r1"); n != 1 || !f.svc.RoomsHeld() {
				t.Fatalf("held meeting changed: %d participants, held %v", n, f.svc.RoomsHeld())
			}

			resumed, err := f.svc.ResumeRooms(ctx, func(_ context.Context, room string) (string, error) {
				lk.set("RM_2", false)
				return "RM_2", nil
			})
			if err != nil || len(resumed) != 1 || resumed[0] != "r1" || f.svc.RoomsHeld() {
				t.Fatalf("resume: %v %v, held %v; want r1 resumed and the hold released", resumed, err, f.svc.RoomsHeld())
			}
			var alice struct{ State, LeaveReason string }
			if err := f.db.Raw(`SELECT state, leave_reason FROM live_participants WHERE sid = 'PA_1'`).Scan(&alice).Error; err != nil {
				t.Fatal(err)
			}
			if alice.State != live.StateLeft || alice.LeaveReason != live.ReasonLiveKitLost {
				t.Errorf("alice after the resume: %+v, want left as %s", alice, live.ReasonLiveKitLost)
			}
			if _, ok := f.participants(t, "r1")["alice"]; ok {
				t.Errorf("alice's lost session is still listed in the room")
			}
			if in, err := f.svc.IsParticipant(ctx, "r1", "u-alice"); err != nil || !in {
				t.Errorf("alice's rejoin is not a participant's: %v %v", in, err)
			}
			if rep, err := f.svc.ReconcileNow(ctx); err != nil || rep[live.RepairRoomFinished] != 0 {
				t.Fatalf("pass after the resume: %v %v, want the meeting kept", rep, err)
			}
			rooms, err := f.svc.ActiveRooms(ctx)
			if err != nil || len(rooms) != 1 || rooms[0].Sid != "RM_2" {
				t.Fatalf("active rooms %+v %v, want r1 under RM_2", rooms, err)
			}
		})
	}
}
