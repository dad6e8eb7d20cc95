package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/api/openapitest"
)

// Refusals that hold: the real parley binary with its embedded LiveKit, which signs and
// sends its webhooks to Parley; real WebRTC participants from server-sdk-go.

// browser is an HTTP client with its own cookies, as one browser.
type browser struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

func newBrowser(t *testing.T, p *proc) *browser {
	jar, _ := cookiejar.New(nil)
	// Every answer is held to the OpenAPI document (internal/api/openapi.yaml).
	return &browser{t: t, base: "http://" + p.addr, http: openapitest.Client(&http.Client{Jar: jar}, api.OpenAPIYAML(), t.Errorf)}
}

func (b *browser) do(method, path string, body any) (int, map[string]any, http.Header) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// must is do that fails the test unless the answer has the wanted status.
func (b *browser) must(want int, method, path string, body any) map[string]any {
	b.t.Helper()
	code, out, _ := b.do(method, path, body)
	if code != want {
		b.t.Fatalf("%s %s: %d %v, want %d", method, path, code, out, want)
	}
	return out
}

// user registers an account (or logs in as the bootstrap admin) in a new browser.
func user(t *testing.T, p *proc, email string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, p)
	var out map[string]any
	if email == "admin@example.com" {
		out = b.must(200, "POST", "/api/auth/login", map[string]any{"email": email, "password": "admin-password-1234"})
	} else {
		out = b.must(201, "POST", "/api/auth/register", map[string]any{"email": email, "password": "a-long-password-123", "name": email})
	}
	b.token = out["accessToken"].(string)
	return b, out["user"].(map[string]any)["id"].(string)
}

// seat is one participant connected with a token from the join route.
type seat struct {
	room     *lksdk.Room
	identity string
	removed  chan struct{}
	once     sync.Once
}

// join asks for a token, and connects with it unless connect is false (see connectWith).
func (b *browser) join(name string, body map[string]any) (token, url, identity string) {
	b.t.Helper()
	out := b.must(200, "POST", "/api/rooms/"+name+"/join", body)
	return out["token"].(string), out["url"].(string), out["identity"].(string)
}

// newSeat is a participant's seat and the callbacks that report its removal.
func newSeat(identity string) (*seat, *lksdk.RoomCallback) {
	s := &seat{identity: identity, removed: make(chan struct{})}
	cb := lksdk.NewRoomCallback()
	cb.OnDisconnectedWithReason = func(r lksdk.DisconnectionReason) {
		if r == lksdk.ParticipantRemoved {
			s.once.Do(func() { close(s.removed) })
		}
	}
	return s, cb
}

func connectWith(t *testing.T, url, token, identity string) *seat {
	t.Helper()
	s, cb := newSeat(identity)
	r, err := lksdk.ConnectToRoomWithToken(url, token, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("connect %s: %v", identity, err)
	}
	s.room = r
	t.Cleanup(r.Disconnect)
	return s
}

// connectRefused connects with a token Parley should refuse now and waits for LiveKit to
// remove the participant. The removal may win the race with the SDK's own connection
// set-up, whose connect then fails: that is a refusal too.
func connectRefused(t *testing.T, url, token, identity, what string) time.Duration {
	t.Helper()
	s, cb := newSeat(identity)
	t0 := time.Now()
	r, err := lksdk.ConnectToRoomWithToken(url, token, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Logf("%s: removed while connecting (%v)", what, err)
		return time.Since(t0)
	}
	t.Cleanup(r.Disconnect)
	return s.waitRemoved(t, what)
}

// waitRemoved waits for LiveKit to remove the participant (the Parley side under test).
func (s *seat) waitRemoved(t *testing.T, what string) time.Duration {
	t.Helper()
	t0 := time.Now()
	select {
	case <-s.removed:
		return time.Since(t0)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: %s was not removed within 20 s", what, s.identity)
		return 0
	}
}

// TestGuestBanHoldsAcrossJoins: the guest cookie keeps a browser's identity, so banning a
// guest refuses that browser's next join; another browser is another guest.
func TestGuestBanHoldsAcrossJoins(t *testing.T) {
	p := startParley(t, testEnv(t))
	owner, _ := user(t, p, "owner@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "open-house", "public": true, "allowGuests": true})
	guest := newBrowser(t, p)
	code, out, header := guest.do("POST", "/api/rooms/open-house/join", map[string]any{"displayName": "Visitor"})
	if code != 200 {
		t.Fatalf("guest join: %d %v", code, out)
	}
	cookie := header.Get("Set-Cookie")
	for _, want := range []string{"parley_guest=", "httponly", "samesite=lax", "path=/"} {
		if !strings.Contains(strings.ToLower(cookie), want) {
			t.Fatalf("guest cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(strings.ToLower(cookie), "secure") {
		t.Fatalf("guest cookie over plain HTTP is Secure (the browser would drop it): %q", cookie)
	}
	identity := out["identity"].(string)
	token, url, again := guest.join("open-house", map[string]any{"displayName": "Visitor"})
	if again != identity {
		t.Fatalf("the same browser joined as %q, then %q", identity, again)
	}
	s := connectWith(t, url, token, identity)
	owner.must(204, "POST", "/api/rooms/open-house/participants/"+identity+"/kick", map[string]any{"ban": true, "reason": "spam"})
	s.waitRemoved(t, "kick")
	code, out, _ = guest.do("POST", "/api/rooms/open-house/join", map[string]any{"displayName": "Visitor again"})
	if code != 403 || out["error"].(map[string]any)["code"] != "banned" {
		t.Fatalf("banned guest joins again from the same browser: %d %v, want 403 banned", code, out)
	}
	if _, _, other := newBrowser(t, p).join("open-house", map[string]any{"displayName": "Other"}); other == identity {
		t.Fatal("another browser got the banned guest's identity")
	}
	// A forged cookie is a new guest, never the one it names.
	forged := newBrowser(t, p)
	req, _ := http.NewRequest("POST", forged.base+"/api/rooms/open-house/join", strings.NewReader(`{"displayName":"Forger"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "parley_guest="+strings.TrimPrefix(identity, "guest-")+".bm90LWEtc2lnbmF0dXJl")
	resp, err := forged.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out["identity"] == identity {
		t.Fatalf("forged cookie: %d %v", resp.StatusCode, out)
	}
}

// noReconcile keeps the reconciler from running again after startup, so what a test sees
// is the webhook path's (or the API's) doing, not the next reconcile pass's.
const noReconcile = "PARLEY_LIVEKIT_RECONCILE_INTERVAL=1h"

// TestOldTokensMeetNewRefusals: tokens handed out before a ban, a lock or a demotion are
// still valid for LiveKit; Parley removes (or demotes) whoever enters with one, on the
// participant_joined webhook.
func TestOldTokensMeetNewRefusals(t *testing.T) {
	p := startParley(t, testEnv(t, noReconcile))
	owner, _ := user(t, p, "owner@example.com")
	bob, _ := user(t, p, "bob@example.com")
	carol, carolID := user(t, p, "carol@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "board", "public": true, "allowGuests": true,
		"moderators": []string{carolID}, "defaultPermissions": map[string]any{"canPublishSources": []string{"microphone"}}})

	t.Run("a kicked and banned user comes back with the old token", func(t *testing.T) {
		token, url, identity := bob.join("board", nil)
		first := connectWith(t, url, token, identity)
		owner.must(204, "POST", "/api/rooms/board/participants/"+identity+"/kick", map[string]any{"ban": true})
		first.waitRemoved(t, "kick")
		took := connectRefused(t, url, token, identity, "reconnect with the token issued before the ban")
		t.Logf("banned user's old token: removed %s after connecting", took.Round(time.Millisecond))
	})

	t.Run("an old guest token enters a locked room", func(t *testing.T) {
		token, url, identity := newBrowser(t, p).join("board", map[string]any{"displayName": "Early guest"})
		owner.must(200, "PATCH", "/api/rooms/board", map[string]any{"locked": true})
		took := connectRefused(t, url, token, identity, "guest token issued before the lock")
		t.Logf("pre-lock guest token: removed %s after connecting", took.Round(time.Millisecond))
		owner.must(200, "PATCH", "/api/rooms/board", map[string]any{"locked": false})
	})

	t.Run("a demoted moderator comes back with the moderator token", func(t *testing.T) {
		token, url, identity := carol.join("board", nil)
		owner.must(204, "DELETE", "/api/rooms/board/moderators/"+carolID, nil)
		s := connectWith(t, url, token, identity)
		t0 := time.Now()
		eventually(t, 20*time.Second, "carol's permissions lowered to the room's defaults", func() bool {
			perm := s.room.LocalParticipant.Permissions()
			var md struct{ Role string }
			_ = json.Unmarshal([]byte(s.room.LocalParticipant.Metadata()), &md)
			return md.Role == "participant" && perm != nil && perm.CanPublish &&
				len(perm.CanPublishSources) == 1 && perm.CanPublishSources[0] == livekit.TrackSource_MICROPHONE
		})
		t.Logf("demoted moderator's old token: lowered %s after connecting", time.Since(t0).Round(time.Millisecond))
	})
}

// TestDisablingRemovesFromEveryRoom: an administrator disabling an account removes its
// participants from every live room at once, and its old tokens get it nowhere.
func TestDisablingRemovesFromEveryRoom(t *testing.T) {
	p := startParley(t, testEnv(t, noReconcile))
	admin, _ := user(t, p, "admin@example.com")
	dave, daveID := user(t, p, "dave@example.com")
	var seats []*seat
	var token, url, identity string
	for _, name := range []string{"first", "second"} {
		dave.must(201, "POST", "/api/rooms", map[string]any{"name": name, "public": true})
		token, url, identity = dave.join(name, nil)
		seats = append(seats, connectWith(t, url, token, identity))
	}
	t0 := time.Now()
	admin.must(200, "PATCH", "/api/admin/users/"+daveID, map[string]any{"disabled": true})
	for i, s := range seats {
		s.waitRemoved(t, "disable")
		t.Logf("disabled account removed from room %d %s after the PATCH", i+1, time.Since(t0).Round(time.Millisecond))
	}
	connectRefused(t, url, token, identity, "reconnect with a token issued before disabling")
}
