package room

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/db/dbtest"
)

// gateUsers: "off" is disabled, "root" an administrator, everyone else an enabled user.
type gateUsers struct{}

func (gateUsers) UserState(_ context.Context, id string) (bool, bool, error) {
	return id != "off", id == "root", nil
}

// gateAttendance: "back" was in the meeting a moment ago.
type gateAttendance struct{}

func (gateAttendance) WasIn(_ context.Context, _, identity, _ string, _ time.Time) (bool, error) {
	return identity == "back", nil
}

// TestGatekeeperVerdicts: the gate refuses exactly what Join would refuse now, and lowers
// a moderator token whose holder no longer moderates.
func TestGatekeeperVerdicts(t *testing.T) {
	ctx := context.Background()
	s, err := New(Config{APIKey: "k", APISecret: "s", TokenTTL: time.Minute}, dbtest.SQLite(t, Migrations()),
		nilLiveKit{}, nilLive{}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGatekeeper(s, gateUsers{}, gateAttendance{}, nilRooms{})
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, in Input) Room {
		in.Name = &name
		v, err := s.Create(ctx, Caller{UserID: "owner"}, in)
		if err != nil {
			t.Fatal(err)
		}
		return v.Room
	}
	yes, no := true, false
	open := create("open", Input{Public: &yes, AllowGuests: &yes, Moderators: &[]string{"mod"}})
	create("locked", Input{Public: &yes, AllowGuests: &yes, Locked: &yes})
	create("closed", Input{Public: &yes, AllowGuests: &no})
	if err := s.st.ban(ctx, open.ID, "owner", "", time.Now(), "banned", "guest-banned"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, room, identity string
		md                   Metadata
		fresh                bool
		want                 verdict
	}{
		{"a participant in good standing", "open", "alice", Metadata{Role: RoleParticipant, UserID: "alice", RoomID: open.ID}, true, verdict{}},
		{"a banned user", "open", "banned", Metadata{Role: RoleParticipant, UserID: "banned"}, false, verdict{remove: true}},
		{"a banned guest", "open", "guest-banned", Metadata{Role: RoleGuest}, false, verdict{remove: true}},
		{"a disabled account", "open", "off", Metadata{Role: RoleParticipant, UserID: "off"}, false, verdict{remove: true}},
		{"a token for an earlier room of the name", "open", "alice", Metadata{Role: RoleParticipant, UserID: "alice", RoomID: "gone"}, false, verdict{remove: true}},
		{"a deleted room", "nope", "alice", Metadata{Role: RoleParticipant, UserID: "alice", RoomID: "gone"}, false, verdict{remove: true}},
		{"a room Parley does not manage", "nope", "alice", Metadata{Role: RoleParticipant, UserID: "alice"}, false, verdict{}},
		{"a guest where guests are no longer admitted", "closed", "guest-x", Metadata{Role: RoleGuest}, false, verdict{remove: true}},
		{"a newcomer to a locked room", "locked", "guest-new", Metadata{Role: RoleGuest}, true, verdict{remove: true}},
		{"someone back in a locked room", "locked", "back", Metadata{Role: RoleParticipant, UserID: "back"}, true, verdict{}},
		{"a locked room's participant already judged", "locked", "carol", Metadata{Role: RoleParticipant, UserID: "carol"}, false, verdict{}},
		{"a moderator still moderating", "open", "mod", Metadata{Role: RoleModerator, UserID: "mod"}, true, verdict{}},
		{"a moderator no longer", "locked", "mod", Metadata{Role: RoleModerator, UserID: "mod"}, false, verdict{demote: true}},
		{"an administrator passes a ban", "open", "root", Metadata{Role: RoleModerator, UserID: "root"}, true, verdict{}},
		{"a recorder", "nope", "rec", Metadata{Role: RoleParticipant}, true, verdict{}},
		{"a token Parley did not mint", "nope", "foreign", Metadata{}, true, verdict{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, _ := json.Marshal(tc.md)
			p := &livekit.ParticipantInfo{Sid: "PA_1", Identity: tc.identity, Metadata: string(md)}
			if tc.identity == "rec" {
				p.Permission = &livekit.ParticipantPermission{Hidden: true, Recorder: true}
			}
			got, err := g.judge(ctx, tc.room, p, tc.fresh)
			if err != nil {
				t.Fatal(err)
			}
			if got.remove != tc.want.remove || got.demote != tc.want.demote {
				t.Fatalf("got %+v, want remove=%v demote=%v", got, tc.want.remove, tc.want.demote)
			}
		})
	}
}

type nilRooms struct{ RoomLister }
