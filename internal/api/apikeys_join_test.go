package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/room"
)

// TestKeyJoinHasItsOwnIdentity: a join made with an API key gets an identity of its own
// (the key's id and a random suffix, new on each join), named by the request or by the key,
// and a token that names the key, not the administrator who created it; a ban of that
// participant bans that identity only, and its kick removes no one else.
func TestKeyJoinHasItsOwnIdentity(t *testing.T) {
	e := newMatrixEnv(t)
	yes := true
	e.createRoom("owner", "keyjoin", room.Input{Public: &yes})
	k, secret, err := e.keys.Create(context.Background(), e.ids["admin"],
		apikey.NewKey{Name: "Scheduler bot", Scopes: []string{apikey.ScopeRoomsWrite}})
	if err != nil {
		t.Fatal(err)
	}
	e.token["key"] = secret
	first := e.do("POST", "/api/rooms/keyjoin/join", map[string]any{}, "key")
	second := e.do("POST", "/api/rooms/keyjoin/join", map[string]any{"displayName": "Front desk"}, "key")
	mine := e.do("POST", "/api/rooms/keyjoin/join", map[string]any{}, "admin")
	for _, r := range []matrixResp{first, second, mine} {
		if r.status != 200 {
			t.Fatalf("join: %d %s", r.status, r.raw)
		}
	}
	id1, _ := first.body["identity"].(string)
	id2, _ := second.body["identity"].(string)
	if !strings.HasPrefix(id1, "key-"+k.ID+"-") || !strings.HasPrefix(id2, "key-"+k.ID+"-") || id1 == id2 {
		t.Errorf("key identities %q, %q: want key-%s-<random>, a new one per join", id1, id2, k.ID)
	}
	if mine.body["identity"] != e.ids["admin"] || id1 == e.ids["admin"] {
		t.Errorf("the admin joined as %v, the key as %q: they must differ", mine.body["identity"], id1)
	}
	if first.body["name"] != "Scheduler bot" || second.body["name"] != "Front desk" {
		t.Errorf("names %v, %v: want the key's name, then the requested one", first.body["name"], second.body["name"])
	}
	md := tokenMetadata(t, first.body["token"])
	if md.UserID != "" || md.KeyID != k.ID {
		t.Errorf("key token metadata %+v: want no userId and keyId %s", md, k.ID)
	}

	// LiveKit reports the key's participant with the token's metadata; the owner bans it.
	raw, _ := json.Marshal(md)
	e.lk.mu.Lock()
	e.lk.participants["keyjoin/"+id1] = &livekit.ParticipantInfo{Identity: id1, Name: "Scheduler bot", Metadata: string(raw)}
	e.lk.calls = nil
	e.lk.mu.Unlock()
	if r := e.do("POST", "/api/rooms/keyjoin/participants/"+id1+"/kick", map[string]any{"ban": true}, "owner"); r.status != 204 {
		t.Fatalf("ban of the key's participant: %d %s", r.status, r.raw)
	}
	var subjects []string
	if err := e.db.Raw(`SELECT b.subject FROM room_bans b JOIN rooms r ON r.id = b.room_id WHERE r.name = ?`, "keyjoin").
		Scan(&subjects).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(subjects, []string{id1}) {
		t.Errorf("bans %v: want the key participant's identity %s only, never the admin %s", subjects, id1, e.ids["admin"])
	}
	e.lk.mu.Lock()
	calls := slices.Clone(e.lk.calls)
	e.lk.mu.Unlock()
	for _, c := range calls {
		if strings.HasPrefix(c, "remove ") && c != "remove "+id1 {
			t.Errorf("the kick removed %q, want only %s", c, id1)
		}
	}
}

// tokenMetadata reads the metadata claim of a LiveKit join token (its signature is the
// room package's business).
func tokenMetadata(t *testing.T, tok any) room.Metadata {
	t.Helper()
	s, _ := tok.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", s)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Metadata string `json:"metadata"`
	}
	var md room.Metadata
	if err := json.Unmarshal(payload, &claims); err != nil || json.Unmarshal([]byte(claims.Metadata), &md) != nil {
		t.Fatalf("token claims %s: %v", payload, err)
	}
	return md
}
