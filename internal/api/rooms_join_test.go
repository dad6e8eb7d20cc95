package api

import (
	"strings"
	"testing"

	"github.com/livekit/protocol/auth"
	"github.com/parley/parley/internal/room"
)

// TestJoinRules covers the join decision and its codes; each case has its own room.
func TestJoinRules(t *testing.T) {
	e := newRoomEnv(t)
	yes, two := true, 2
	cases := []struct {
		name  string
		in    room.Input
		setup func(name string)
		token string
		body  map[string]any
		want  int
		code  string
	}{
		{name: "invite code admits a stranger", token: "stranger", body: map[string]any{"inviteCode": "{code}"}, want: 200},
		{name: "wrong invite code", token: "stranger", body: map[string]any{"inviteCode": "nope"}, want: 403, code: "not_invited"},
		{name: "locked refuses a newcomer", in: room.Input{Public: &yes, Locked: &yes}, token: "stranger", want: 422, code: "room_locked"},
		{name: "locked admits a participant reconnecting", in: room.Input{Public: &yes, Locked: &yes}, token: "member", want: 200},
		{name: "locked admits the owner", in: room.Input{Locked: &yes}, token: "owner", want: 200},
		{name: "locked admits an admin", in: room.Input{Locked: &yes}, token: "admin", want: 200},
		{name: "full refuses a newcomer", in: room.Input{Public: &yes, MaxParticipants: &two}, token: "stranger", want: 422, code: "room_full"},
		{name: "full admits a moderator", in: room.Input{MaxParticipants: &two}, token: "mod", want: 200},
		{name: "banned user", in: room.Input{Public: &yes}, token: "target", want: 403, code: "banned",
			setup: func(name string) {
				if got := e.call("POST", "/api/rooms/"+name+"/participants/target/kick", map[string]any{"ban": true}, "owner"); got.status != 204 {
					t.Fatalf("kick: %d %s", got.status, got.raw)
				}
			}},
		{name: "a lock applies to the very next join", in: room.Input{Public: &yes}, token: "stranger", want: 422, code: "room_locked",
			setup: func(name string) {
				if got := e.call("POST", "/api/rooms/"+name+"/join", nil, "stranger"); got.status != 200 {
					t.Fatalf("join before the lock: %d %s", got.status, got.raw)
				}
				if got := e.call("PATCH", "/api/rooms/"+name, map[string]any{"locked": true}, "owner"); got.status != 200 {
					t.Fatalf("lock: %d %s", got.status, got.raw)
				}
			}},
		{name: "a rotated invite code stops working at once", token: "stranger", body: map[string]any{"inviteCode": "{code}"}, want: 403, code: "not_invited",
			setup: func(name string) {
				if got := e.call("POST", "/api/rooms/"+name+"/invite-code", nil, "owner"); got.status != 200 {
					t.Fatalf("rotate: %d %s", got.status, got.raw)
				}
			}},
		{name: "livekit down", in: room.Input{Public: &yes}, token: "stranger", want: 503, code: "livekit_unavailable",
			setup: func(string) { e.lk.mu.Lock(); e.lk.down = true; e.lk.mu.Unlock() }},
		{name: "display name too long", in: room.Input{Public: &yes}, token: "stranger", body: map[string]any{"displayName": string(make([]byte, 101))}, want: 400, code: "invalid_field"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { e.lk.mu.Lock(); e.lk.down = false; e.lk.mu.Unlock() }()
			name := "join-" + string(rune('a'+i)) + "-room"
			v := e.seed(name, tc.in)
			if tc.setup != nil {
				tc.setup(name)
			}
			body := tc.body
			if code, ok := body["inviteCode"]; ok && code == "{code}" {
				body = map[string]any{"inviteCode": v.InviteCode}
			}
			got := e.call("POST", "/api/rooms/"+name+"/join", body, tc.token)
			if got.status != tc.want || got.errCode() != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", got.status, got.errCode(), tc.want, tc.code, got.raw)
			}
		})
	}
}

// TestJoinToken checks the grants of the token the join route hands out.
func TestJoinToken(t *testing.T) {
	e := newRoomEnv(t)
	yes := true
	e.seed("token-room", room.Input{Public: &yes, AllowGuests: &yes, Defaults: &room.PermissionsInput{Sources: &[]string{"microphone"}}})
	check := func(token string, body map[string]any, role string, sources []string) {
		t.Helper()
		got := e.call("POST", "/api/rooms/token-room/join", body, token)
		if got.status != 200 {
			t.Fatalf("join as %q: %d %s", token, got.status, got.raw)
		}
		if got.body["role"] != role || got.body["url"] != "ws://lk" {
			t.Errorf("join as %q: role %v url %v, want %s ws://lk", token, got.body["role"], got.body["url"], role)
		}
		v, err := auth.ParseAPIToken(got.body["token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		_, claims, err := v.Verify("secret-secret-secret-secret-secret-00")
		if err != nil {
			t.Fatal(err)
		}
		g := claims.Video
		if !g.RoomJoin || g.Room != "token-room" || g.RoomAdmin || g.RoomCreate || g.RoomList || g.GetCanUpdateOwnMetadata() {
			t.Errorf("join as %q: bad grant %+v", token, g)
		}
		if !g.GetCanSubscribe() || len(g.CanPublishSources) != len(sources) {
			t.Errorf("join as %q: sources %v, want %v", token, g.CanPublishSources, sources)
		}
		if claims.Identity != got.body["identity"] || claims.Name != got.body["name"] {
			t.Errorf("token identity/name %q/%q differ from the answer %v/%v", claims.Identity, claims.Name, got.body["identity"], got.body["name"])
		}
		if want := `"role":"` + role + `"`; !strings.Contains(claims.Metadata, want) {
			t.Errorf("metadata %s lacks %s", claims.Metadata, want)
		}
	}
	check("stranger", nil, "participant", []string{"microphone"})
	check("mod", nil, "moderator", room.AllSources())
	check("owner", map[string]any{"displayName": "The Owner"}, "owner", room.AllSources())
	check("", map[string]any{"displayName": "Visitor"}, "guest", []string{"microphone"})
	e.lk.mu.Lock()
	creates := e.lk.creates
	e.lk.mu.Unlock()
	if creates != 1 {
		t.Errorf("CreateRoom called %d times for 4 joins of one room, want 1 (remembered)", creates)
	}
}
