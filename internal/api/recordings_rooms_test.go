package api

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/room"
)

// TestRecordingsFollowTheRoomNotItsName: once a room is deleted, whoever creates a room of
// the same name gets none of its recordings, and its owner keeps them.
func TestRecordingsFollowTheRoomNotItsName(t *testing.T) {
	e := newRecEnv(t, nil)
	started := e.call("POST", "/api/rooms/standup/recordings", nil, "owner")
	if started.status != 201 {
		t.Fatalf("start: %d %s", started.status, started.raw)
	}
	id := started.body["id"].(string)
	e.complete(id, "old meeting")
	if r := e.call("DELETE", "/api/rooms/standup", nil, "owner"); r.status != 204 {
		t.Fatalf("delete room: %d %s", r.status, r.raw)
	}
	name := "standup"
	if _, err := e.svc.Create(context.Background(), room.Caller{UserID: "stranger"}, room.Input{Name: &name}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"new owner lists the name", "GET", "/api/recordings?room=standup", "stranger", 200},
		{"new owner gets", "GET", "/api/recordings/" + id, "stranger", 403},
		{"new owner downloads", "GET", "/api/recordings/" + id + "/file", "stranger", 403},
		{"new owner deletes", "DELETE", "/api/recordings/" + id, "stranger", 403},
		{"old moderator gets", "GET", "/api/recordings/" + id, "mod", 403},
		{"old owner gets", "GET", "/api/recordings/" + id, "owner", 200},
		{"old owner downloads", "GET", "/api/recordings/" + id + "/file", "owner", 200},
		{"admin gets", "GET", "/api/recordings/" + id, "admin", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.method, tc.path, nil, tc.token)
			if r.status != tc.want {
				t.Fatalf("got %d %s, want %d", r.status, r.raw, tc.want)
			}
			if tc.path == "/api/recordings?room=standup" && len(r.body["items"].([]any)) != 0 {
				t.Fatalf("the new room lists the old room's recordings: %s", r.raw)
			}
		})
	}
	for who, want := range map[string]int{"owner": 1, "stranger": 0, "admin": 1} {
		if r := e.call("GET", "/api/recordings", nil, who); r.status != 200 || len(r.body["items"].([]any)) != want {
			t.Fatalf("%s lists without a room: %d %s, want %d items", who, r.status, r.raw, want)
		}
	}
	if r := e.call("DELETE", "/api/recordings/"+id, nil, "owner"); r.status != 204 {
		t.Fatalf("old owner deletes: %d %s", r.status, r.raw)
	}
}
