package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
)

// A room marked finished while LiveKit still runs it under the same sid (a cluster re-hosts
// a dead node's room and keeps its sid; here a room_finished arrives for a live room) is
// active again after the next reconciliation. Sessions the finish ended stay ended ("left"
// is final; in a re-hosted room participants come back as new sessions), and a new one is
// listed joined.
func TestReconcilerReactivatesARoomLiveKitStillRuns(t *testing.T) {
	e := startLiveKit(t, time.Hour)
	e.createRoom(t, "moved")
	e.connect(t, "moved", "m1")
	waitFor(t, 5*time.Second, "m1 joined", func() bool { return e.state(t, "moved", "m1").State == live.StateJoined })
	res, err := e.rc.ListRooms(context.Background(), &livekit.ListRoomsRequest{Names: []string{"moved"}})
	if err != nil || len(res.Rooms) != 1 {
		t.Fatalf("list rooms: %v %v", res, err)
	}
	sid := res.Rooms[0].Sid
	e.send(t, event("room_finished", "moved", sid, nil, time.Now()))
	if active(t, e, "moved") {
		t.Fatal("room still active after room_finished")
	}
	time.Sleep(5 * time.Millisecond) // the snapshot must be later than the finish
	if _, err := e.svc.ReconcileNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !active(t, e, "moved") {
		t.Fatal("room LiveKit runs is not active after reconciliation")
	}
	e.connect(t, "moved", "m2")
	waitFor(t, 5*time.Second, "m2 joined", func() bool { return e.state(t, "moved", "m2").State == live.StateJoined })
	if !active(t, e, "moved") {
		t.Fatal("room inactive after a new participant joined")
	}
	if got := repairs(t, e.reg, live.RepairRoomStarted); got < 1 {
		t.Errorf("room_started repairs = %v, want >= 1", got)
	}
}

func active(t *testing.T, e *lkEnv, room string) bool {
	rooms, err := e.svc.ActiveRooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == room {
			return true
		}
	}
	return false
}
