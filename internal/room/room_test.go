package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/fielderr"
)

func TestValidation(t *testing.T) {
	s, err := New(Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute}, dbtest.SQLite(t, Migrations()),
		nilLiveKit{}, nilLive{}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	num := func(v int) *int { return &v }
	cases := []struct {
		name  string
		in    Input
		field string
	}{
		{"too short", Input{Name: str("ab")}, "name"},
		{"too long", Input{Name: str(strings.Repeat("a", 64))}, "name"},
		{"uppercase", Input{Name: str("Standup")}, "name"},
		{"leading hyphen", Input{Name: str("-standup")}, "name"},
		{"slash", Input{Name: str("a/b/c")}, "name"},
		{"long title", Input{Title: str(strings.Repeat("x", 201))}, "title"},
		{"negative max", Input{MaxParticipants: num(-1)}, "maxParticipants"},
		{"huge max", Input{MaxParticipants: num(MaxParticipantsCap + 1)}, "maxParticipants"},
		{"unknown source", Input{Defaults: &PermissionsInput{Sources: &[]string{"webcam"}}}, "defaultPermissions.canPublishSources"},
		{"empty moderator", Input{Moderators: &[]string{""}}, "moderators"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Create(context.Background(), Caller{UserID: "u1"}, tc.in)
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
	if n, _ := s.Count(context.Background()); n != 0 {
		t.Fatalf("invalid input created %d rooms", n)
	}
	v, err := s.Create(context.Background(), Caller{UserID: "u1"}, Input{})
	if err != nil || ValidateName(v.Name) != nil || v.Title != v.Name || len(v.InviteCode) < 16 {
		t.Fatalf("generated room %+v, %v", v, err)
	}
	if _, err := s.Create(context.Background(), Caller{UserID: "u2"}, Input{Name: &v.Name}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v, want ErrNameTaken", err)
	}
}

func TestCreatedRoomsForgetRace(t *testing.T) {
	c := newCreatedRooms(time.Second)
	now := time.Now()
	gen := c.generation()
	c.forgetAll() // LiveKit restarted while CreateRoom was in flight
	c.remember("r", gen, now)
	if c.fresh("r", now) {
		t.Fatal("a creation from before a LiveKit restart was remembered")
	}
	c.remember("r", c.generation(), now)
	if !c.fresh("r", now) || c.fresh("r", now.Add(time.Second)) {
		t.Fatal("remembered room should be fresh for the TTL only")
	}
	c.forget("r")
	if c.fresh("r", now) {
		t.Fatal("forgotten room still fresh")
	}
}

type nilLiveKit struct{ LiveKit }
type nilLive struct{ Live }

// TestStorePostgres runs the hand-written lookup and the writes on PostgreSQL.
func TestStorePostgres(t *testing.T) {
	g := dbtest.Postgres(t, Migrations())
	s, err := New(Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute}, g, nilLiveKit{}, nilLive{}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := "pg-room"
	if _, err := s.Create(ctx, Caller{UserID: "owner"}, Input{Name: &name, Moderators: &[]string{"mod"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who       string
		moderator bool
	}{{"owner", true}, {"mod", true}, {"other", false}} {
		a, err := s.Access(ctx, name, Caller{UserID: c.who})
		if err != nil || a.Moderator != c.moderator || a.Room.OwnerID != "owner" {
			t.Errorf("access of %s: %+v %v", c.who, a, err)
		}
	}
	if err := s.st.ban(ctx, mustAccess(t, s, name).Room.ID, "owner", "", time.Now(), "other"); err != nil {
		t.Fatal(err)
	}
	s.rooms.invalidate(name) // as Kick does
	if _, err := s.Join(ctx, name, Caller{UserID: "other"}, JoinRequest{}); !errors.Is(err, ErrBanned) {
		t.Errorf("banned join: %v, want ErrBanned", err)
	}
	if _, err := s.Access(ctx, "nope", Caller{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown room: %v, want ErrNotFound", err)
	}
}

func mustAccess(t *testing.T, s *Service, name string) Access {
	t.Helper()
	a, err := s.Access(context.Background(), name, Caller{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// createLiveKit records CreateRoom requests and answers a room with a new sid each time.
type createLiveKit struct {
	LiveKit
	reqs []*livekit.CreateRoomRequest
}

func (f *createLiveKit) CreateRoom(_ context.Context, r *livekit.CreateRoomRequest) (*livekit.Room, error) {
	f.reqs = append(f.reqs, r)
	return &livekit.Room{Name: r.Name, Sid: fmt.Sprintf("RM_%d", len(f.reqs)), MaxParticipants: r.MaxParticipants, Metadata: r.Metadata}, nil
}

func (f *createLiveKit) DeleteRoom(context.Context, *livekit.DeleteRoomRequest) (*livekit.DeleteRoomResponse, error) {
	return &livekit.DeleteRoomResponse{}, nil
}

type endedLive struct{ Live }

func (endedLive) MarkRoomEnded(context.Context, string) error { return nil }

// TestRecreateLiveKitRoom: a lost LiveKit room is created again with the room's settings
// and metadata even though a join just created it (the remembered creation was of the lost
// room), and a deleted room is not found.
func TestRecreateLiveKitRoom(t *testing.T) {
	lk := &createLiveKit{}
	s, err := New(Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute, EmptyTimeout: 5 * time.Minute, DepartureTimeout: 20 * time.Second},
		dbtest.SQLite(t, Migrations()), lk, endedLive{}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name, title, max := "standup", "Daily standup", 7
	v, err := s.Create(ctx, Caller{UserID: "u1"}, Input{Name: &name, Title: &title, MaxParticipants: &max})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Join(ctx, name, Caller{UserID: "u1"}, JoinRequest{}); err != nil {
		t.Fatal(err)
	}
	sid, err := s.RecreateLiveKitRoom(ctx, name)
	if err != nil || sid != "RM_2" || len(lk.reqs) != 2 {
		t.Fatalf("recreate: %q %v after %d CreateRoom calls, want RM_2 from a second call", sid, err, len(lk.reqs))
	}
	var md RoomMetadata
	r := lk.reqs[1]
	if err := json.Unmarshal([]byte(r.Metadata), &md); err != nil || md.ID != v.ID || md.Title != title ||
		r.MaxParticipants != 0 || r.EmptyTimeout != 300 || r.DepartureTimeout != 20 || r.Metadata != lk.reqs[0].Metadata {
		t.Errorf("re-created with %+v (metadata %+v), want the room's settings as the join created them", r, md)
	}
	if err := s.Delete(ctx, name, Caller{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecreateLiveKitRoom(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Errorf("recreate of a deleted room: %v, want ErrNotFound", err)
	}
}

func TestMainRoomName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		main string
		n    int
	}{
		{"standup", "standup", 0},
		{BreakoutRoomName("standup", 3), "standup", 3},
		{"standup_breakout_x", "standup_breakout_x", 0},
		{"standup_breakout_0", "standup_breakout_0", 0},
	} {
		if main, n := MainRoomName(tc.in); main != tc.main || n != tc.n {
			t.Errorf("MainRoomName(%q) = %q, %d; want %q, %d", tc.in, main, n, tc.main, tc.n)
		}
	}
}

// The lobby never holds the owner, moderators or admins, whatever the room's settings.
func TestHeld(t *testing.T) {
	r := Room{Lobby: true, LobbyUsers: true, Locked: true}
	for _, tc := range []struct {
		name  string
		a     Access
		guest bool
		want  bool
	}{
		{"guest", Access{}, true, true},
		{"user", Access{}, false, true},
		{"moderator", Access{Moderator: true}, false, false},
		{"owner", Access{Owner: true, Moderator: true}, false, false},
	} {
		if got := held(r, tc.a, tc.guest); got != tc.want {
			t.Errorf("%s: held = %v, want %v", tc.name, got, tc.want)
		}
	}
	if held(Room{Lobby: true}, Access{}, false) {
		t.Error("a signed-in user is held without lobbyUsers")
	}
}
