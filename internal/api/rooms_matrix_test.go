package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/internal/room"
)

// TestRoomAuthorisationMatrix sends every room route as every kind of caller, each cell
// against its own freshly seeded private room (owner "owner", moderator "mod", "member"
// currently joined), and checks the status.
func TestRoomAuthorisationMatrix(t *testing.T) {
	// Callers, in column order; tokens are what roomAuth understands.
	callers := []struct{ name, token string }{
		{"owner", "owner"}, {"moderator", "mod"}, {"participant", "member"}, {"stranger", "stranger"},
		{"guest", ""}, {"admin", "admin"}, {"disabled", "disabled"},
	}
	type route struct {
		method, path string // {r} is the room name
		body         any
		want         [7]int
	}
	const (
		ok, created, none        = 200, 201, 204
		unauth, forbid, disabled = 401, 403, 403 // a disabled account is refused by auth (user_disabled)
		notInvited               = 403
	)
	mod := [7]int{none, none, forbid, forbid, unauth, none, disabled}
	owner := [7]int{none, forbid, forbid, forbid, unauth, none, disabled}
	routes := []route{
		{"POST", "/api/rooms", map[string]any{"title": "New"}, [7]int{created, created, created, created, unauth, created, disabled}},
		{"GET", "/api/rooms", nil, [7]int{ok, ok, ok, ok, unauth, ok, disabled}},
		{"GET", "/api/rooms/{r}", nil, [7]int{ok, ok, ok, ok, unauth, ok, disabled}},
		{"PATCH", "/api/rooms/{r}", map[string]any{"locked": true}, [7]int{ok, forbid, forbid, forbid, unauth, ok, disabled}},
		{"DELETE", "/api/rooms/{r}", nil, owner},
		{"POST", "/api/rooms/{r}/join", nil, [7]int{ok, ok, notInvited, notInvited, unauth, ok, disabled}},
		{"GET", "/api/rooms/{r}/participants", nil, [7]int{ok, ok, ok, forbid, unauth, ok, disabled}},
		{"POST", "/api/rooms/{r}/invite-code", nil, [7]int{ok, ok, forbid, forbid, unauth, ok, disabled}},
		{"POST", "/api/rooms/{r}/participants/target/kick", map[string]any{"ban": true}, mod},
		{"POST", "/api/rooms/{r}/participants/target/mute", map[string]any{"source": "microphone", "muted": true}, mod},
		{"PUT", "/api/rooms/{r}/participants/target/permissions", map[string]any{"canPublishSources": []string{"microphone"}},
			[7]int{ok, ok, forbid, forbid, unauth, ok, disabled}},
		{"POST", "/api/rooms/{r}/moderators/someone", nil, owner},
		{"DELETE", "/api/rooms/{r}/moderators/mod", nil, owner},
		{"POST", "/api/rooms/{r}/end", nil, mod},
	}
	e := newRoomEnv(t)
	n := 0
	for _, rt := range routes {
		for i, c := range callers {
			name := fmt.Sprintf("%s %s as %s", rt.method, rt.path, c.name)
			t.Run(name, func(t *testing.T) {
				n++
				r := fmt.Sprintf("matrix-%03d", n)
				e.seed(r, room.Input{})
				got := e.call(rt.method, strings.ReplaceAll(rt.path, "{r}", r), rt.body, c.token)
				if got.status != rt.want[i] {
					t.Errorf("got %d, want %d: %s", got.status, rt.want[i], got.raw)
				}
				if got.status >= 400 && got.errCode() == "" {
					t.Errorf("error without a code: %s", got.raw)
				}
			})
		}
	}
}

// TestRoomPublicAndGuestAccess covers what changes for public rooms and rooms open to guests.
func TestRoomPublicAndGuestAccess(t *testing.T) {
	e := newRoomEnv(t)
	yes := true
	e.seed("open-room", room.Input{Public: &yes, AllowGuests: &yes})
	e.seed("private-room", room.Input{})
	e.seed("guest-room", room.Input{AllowGuests: &yes})
	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
		code                      string
	}{
		{"anonymous reads a public room", "GET", "/api/rooms/open-room", "", nil, 200, ""},
		{"anonymous cannot read a private room", "GET", "/api/rooms/private-room", "", nil, 401, "unauthorized"},
		{"anonymous cannot read a private room open to guests", "GET", "/api/rooms/guest-room", "", nil, 401, "unauthorized"},
		{"stranger joins a public room", "POST", "/api/rooms/open-room/join", "stranger", nil, 200, ""},
		{"guest joins with a name", "POST", "/api/rooms/open-room/join", "", map[string]any{"displayName": "Ann"}, 200, ""},
		{"guest without a name", "POST", "/api/rooms/open-room/join", "", map[string]any{}, 400, "invalid_field"},
		{"guest where guests are not allowed", "POST", "/api/rooms/private-room/join", "", map[string]any{"displayName": "Ann"}, 401, "guests_not_allowed"},
		{"unknown room", "POST", "/api/rooms/no-such-room/join", "stranger", nil, 404, "room_not_found"},
		{"unknown field", "POST", "/api/rooms/open-room/join", "stranger", map[string]any{"role": "owner"}, 400, "unknown_field"},
		{"stranger does not see the invite code", "GET", "/api/rooms/open-room", "stranger", nil, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.call(tc.method, tc.path, tc.body, tc.token)
			if got.status != tc.want || got.errCode() != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", got.status, got.errCode(), tc.want, tc.code, got.raw)
			}
			if _, shown := got.body["inviteCode"]; shown {
				t.Errorf("invite code shown to a non-moderator: %s", got.raw)
			}
		})
	}
}
