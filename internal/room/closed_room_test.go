package room

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestJoinAfterLiveKitClosedTheRoom, on the real livekit-server: the last participant
// leaves, a join meets the room empty, LiveKit closes it (departure timeout), and the next
// join must still connect. Parley's clock stands still, so every join happens within the
// time a remembered creation stays fresh: the moment a join that trusted the emptied room
// handed out a token for a room that was gone ("requested room does not exist").
func TestJoinAfterLiveKitClosedTheRoom(t *testing.T) {
	lksdk.SetLogger(protologger.GetDiscardLogger())
	srv := lktest.Start(t, lktest.Options{})
	lk := lksdk.NewRoomServiceClient(srv.HTTPURL, srv.APIKey, srv.APISecret)
	frozen := time.Now()
	// A short departure timeout so LiveKit closes the room soon; an empty timeout long
	// enough for a participant to connect to a room just created on a loaded machine.
	s, err := New(Config{APIKey: srv.APIKey, APISecret: srv.APISecret, URL: srv.WSURL, TokenTTL: 10 * time.Minute,
		EmptyTimeout: 10 * time.Second, DepartureTimeout: 2 * time.Second},
		dbtest.SQLite(t, Migrations()), lk, nilLive{}, slog.New(slog.DiscardHandler), func() time.Time { return frozen })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name, public := "closing", true
	if _, err := s.Create(ctx, Caller{UserID: "owner"}, Input{Name: &name, Public: &public}); err != nil {
		t.Fatal(err)
	}
	connect := func(who string) (*lksdk.Room, error) {
		g, err := s.Join(ctx, name, Caller{UserID: who}, JoinRequest{})
		if err != nil {
			t.Fatalf("%s's join: %v", who, err)
		}
		return lksdk.ConnectToRoomWithToken(g.URL, g.Token, lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	}
	listed := func() []*livekit.Room {
		res, err := lk.ListRooms(ctx, &livekit.ListRoomsRequest{Names: []string{name}})
		if err != nil {
			t.Fatalf("ListRooms: %v", err)
		}
		return res.Rooms
	}

	bob, err := connect("bob")
	if err != nil {
		t.Fatalf("bob connects: %v", err)
	}
	bob.Disconnect()
	testenv.Eventually(t, 30*time.Second, "LiveKit to list the room empty or not at all", func() bool {
		rooms := listed()
		return len(rooms) == 0 || rooms[0].NumParticipants == 0
	})
	if _, err := s.Join(ctx, name, Caller{UserID: "carol"}, JoinRequest{}); err != nil {
		t.Fatalf("carol's join of the emptied room: %v", err)
	}
	testenv.Eventually(t, 30*time.Second, "LiveKit to close the room", func() bool { return len(listed()) == 0 })

	alice, err := connect("alice")
	if err != nil {
		t.Fatalf("alice's join of the room LiveKit closed: connect: %v (want the room created again)", err)
	}
	alice.Disconnect()
}
