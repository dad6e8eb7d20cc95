package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The lobby with the real parley binary, its embedded LiveKit and real WebRTC participants.

// ticketStream follows GET /api/lobby/{ticket}/events and hands over each status.
func ticketStream(t *testing.T, b *browser, ticket string) <-chan map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", b.base+"/api/lobby/"+ticket+"/events", nil)
	resp, err := b.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ticket stream: %v %v", err, resp)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan map[string]any, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				_ = json.Unmarshal([]byte(data), &m)
				out <- m
			}
		}
	}()
	return out
}

// nextStatus waits for the stream's next status that satisfies ok.
func nextStatus(t *testing.T, ch <-chan map[string]any, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, open := <-ch:
			if !open {
				t.Fatalf("%s: the ticket stream ended first", what)
			}
			if ok(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// waitIn asks to join as a guest of the lobby room and returns the lobby ticket; the answer
// must hold no token.
func waitIn(t *testing.T, g *browser, name, display string) (holder, id string) {
	t.Helper()
	code, out, _ := g.do("POST", "/api/rooms/"+name+"/join", map[string]any{"displayName": display})
	if code != 202 {
		t.Fatalf("%s joins the lobby room: %d %v, want 202", display, code, out)
	}
	if _, has := out["token"]; has {
		t.Fatalf("%s got a token while waiting: %v", display, out)
	}
	l := out["lobby"].(map[string]any)
	return l["ticket"].(string), l["id"].(string)
}

func TestLobby(t *testing.T) {
	p := startParley(t, testEnv(t, "PARLEY_ROOMS_LOBBY_TIMEOUT=10s"))
	owner, _ := user(t, p, "owner@example.com")
	admin, _ := user(t, p, "admin@example.com")
	member, _ := user(t, p, "member@example.com")
	mod, modID := user(t, p, "mod@example.com")
	// Locked too: the lock and the lobby together must still let the host in (jitsi-meet#7561).
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "waiting-room", "public": true, "allowGuests": true,
		"lobby": true, "locked": true, "moderators": []string{modID}})

	t.Run("owner, moderators and admins are never held", func(t *testing.T) {
		for who, b := range map[string]*browser{"owner": owner, "moderator": mod, "admin": admin} {
			if out := b.must(200, "POST", "/api/rooms/waiting-room/join", nil); out["token"] == "" {
				t.Fatalf("%s: no token", who)
			}
		}
	})
	// The lock refuses the others before any lobby: unlock to let people knock.
	owner.must(200, "PATCH", "/api/rooms/waiting-room", map[string]any{"locked": false})

	guest := newBrowser(t, p)
	holder, id := waitIn(t, guest, "waiting-room", "Visitor")
	t.Run("the waiting guest is told no moderator is there", func(t *testing.T) {
		st := guest.must(200, "GET", "/api/lobby/"+holder, nil)
		if st["status"] != "waiting" || st["moderatorPresent"] != false || st["join"] != nil {
			t.Fatalf("ticket: %v", st)
		}
		guest.must(404, "GET", "/api/lobby/"+id+".wrong-secret", nil)
		guest.must(404, "GET", "/api/lobby/"+id, nil)
	})
	t.Run("only moderators see and decide", func(t *testing.T) {
		member.must(403, "GET", "/api/rooms/waiting-room/lobby", nil)
		member.must(403, "POST", "/api/rooms/waiting-room/lobby/"+id+"/admit", nil)
		guest.must(401, "POST", "/api/rooms/waiting-room/lobby/"+id+"/admit", nil)
		items := owner.must(200, "GET", "/api/rooms/waiting-room/lobby", nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["name"] != "Visitor" || items[0].(map[string]any)["ticket"] != id ||
			items[0].(map[string]any)["since"] == nil {
			t.Fatalf("lobby list: %v", items)
		}
	})

	token, url, ownerIdentity := owner.join("waiting-room", nil)
	connectWith(t, url, token, ownerIdentity)
	stream := ticketStream(t, guest, holder)
	nextStatus(t, stream, "moderator present", func(m map[string]any) bool { return m["moderatorPresent"] == true })

	t.Run("admitted: a join answer on the stream, a real connection", func(t *testing.T) {
		clicked := time.Now()
		owner.must(204, "POST", "/api/rooms/waiting-room/lobby/"+id+"/admit", nil)
		st := nextStatus(t, stream, "admitted", func(m map[string]any) bool { return m["status"] != "waiting" })
		if st["status"] != "admitted" {
			t.Fatalf("after admit: %v", st)
		}
		j := st["join"].(map[string]any)
		connectWith(t, j["url"].(string), j["token"].(string), j["identity"].(string))
		t.Logf("admit click to connected: %v", time.Since(clicked))
		if j["role"] != "guest" || !strings.HasPrefix(j["identity"].(string), "guest-") {
			t.Fatalf("join answer: %v", j)
		}
		// A second decision on a decided request says so; the admitted guest's next join
		// (a reconnect, a reload) is not held again.
		owner.must(409, "POST", "/api/rooms/waiting-room/lobby/"+id+"/deny", nil)
		again := guest.must(200, "POST", "/api/rooms/waiting-room/join", map[string]any{"displayName": "Visitor"})
		if again["identity"] != j["identity"] {
			t.Fatalf("rejoin identity %v, want %v", again["identity"], j["identity"])
		}
	})

	t.Run("denied: told so, never a token", func(t *testing.T) {
		other := newBrowser(t, p)
		h2, id2 := waitIn(t, other, "waiting-room", "Pest")
		s2 := ticketStream(t, other, h2)
		mod.must(204, "POST", "/api/rooms/waiting-room/lobby/"+id2+"/deny", nil)
		st := nextStatus(t, s2, "denied", func(m map[string]any) bool { return m["status"] != "waiting" })
		if st["status"] != "denied" || st["join"] != nil {
			t.Fatalf("after deny: %v", st)
		}
		waitIn(t, other, "waiting-room", "Pest") // may ask again: a new request
	})

	t.Run("admit all, and signed-in users wait only when chosen", func(t *testing.T) {
		member.must(200, "POST", "/api/rooms/waiting-room/join", nil)
		owner.must(200, "PATCH", "/api/rooms/waiting-room", map[string]any{"lobbyUsers": true})
		waitIn(t, member, "waiting-room", "Member")
		out := owner.must(200, "POST", "/api/rooms/waiting-room/lobby/admit", nil)
		if out["count"].(float64) != 2 { // Member and Pest's second request
			t.Fatalf("admit all: %v", out)
		}
		if n := len(owner.must(200, "GET", "/api/rooms/waiting-room/lobby", nil)["items"].([]any)); n != 0 {
			t.Fatalf("%d still waiting after admit all", n)
		}
	})

	t.Run("a request expires", func(t *testing.T) {
		late := newBrowser(t, p)
		h3, _ := waitIn(t, late, "waiting-room", "Late")
		st := nextStatus(t, ticketStream(t, late, h3), "expired", func(m map[string]any) bool { return m["status"] != "waiting" })
		if st["status"] != "expired" {
			t.Fatalf("after the timeout: %v", st)
		}
	})
}
