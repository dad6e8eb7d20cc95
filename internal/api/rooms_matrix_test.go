package api

import (
	"testing"

	"github.com/parley/parley/internal/room"
)

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
