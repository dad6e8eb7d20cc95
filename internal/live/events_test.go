package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/live"
)

// fakeAuth knows three bearer tokens: "admin", "mod" and "other".
type fakeAuth struct{ api.AuthService }

func (fakeAuth) Authenticate(_ context.Context, tok string) (auth.Principal, error) {
	switch tok {
	case "admin":
		return auth.Principal{UserID: "u-admin", Role: "admin"}, nil
	case "mod", "other":
		return auth.Principal{UserID: "u-" + tok, Role: "user"}, nil
	}
	return auth.Principal{}, auth.ErrInvalidToken
}

// Recheck keeps the principal: these accounts never change.
func (fakeAuth) Recheck(_ context.Context, p auth.Principal) (auth.Principal, error) { return p, nil }

func sseApp(t *testing.T) (*fixture, string) {
	f := newFixture(t, nil, nil)
	app := newAPI(t, f.svc, func(room, userID string) bool { return room == "r1" && userID == "u-mod" })
	return f, "http://" + serve(t, app)
}

// openStream opens an event stream and returns its lines.
func openStream(t *testing.T, url, token string) (*http.Response, <-chan string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return resp, lines
}

// nextData waits for the next "data:" line of the given event type.
func nextData(t *testing.T, lines <-chan string, typ string) live.Event {
	t.Helper()
	deadline := time.After(3 * time.Second)
	want := "event: " + typ
	seen := false
	var got []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream closed waiting for %s; got %q", typ, got)
			}
			got = append(got, l)
			if l == want {
				seen = true
			} else if seen && strings.HasPrefix(l, "data: ") {
				var e live.Event
				if err := json.Unmarshal([]byte(l[6:]), &e); err != nil {
					t.Fatal(err)
				}
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event; got %q", typ, got)
		}
	}
}

func TestEventStreams(t *testing.T) {
	f, base := sseApp(t)
	resp, adminLines := openStream(t, base+"/api/admin/events", "admin")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("admin stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	_, modLines := openStream(t, base+"/api/rooms/r1/events", "mod")
	if resp, _ := openStream(t, base+"/api/rooms/r1/events", "other"); resp.StatusCode != 403 {
		t.Fatalf("non-moderator room stream: %d, want 403", resp.StatusCode)
	}
	if resp, _ := openStream(t, base+"/api/admin/events", "mod"); resp.StatusCode != 403 {
		t.Fatalf("non-admin admin stream: %d, want 403", resp.StatusCode)
	}
	waitFor(t, 2*time.Second, "two subscribers", func() bool { return f.svc.Subscribers() == 2 })
	now := time.Now()
	f.send(t, event("participant_joined", "r2", "RM_2", participant("PA_2", "bob", now), now))
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
	t.Logf("subscribers after send: %d", f.svc.Subscribers())
	if e := nextData(t, adminLines, "participant_joined"); e.Room != "r2" || e.Participant != "bob" {
		t.Fatalf("admin first event %+v, want bob in r2", e)
	}
	// The room stream skips r2 and sees r1 only.
	if e := nextData(t, modLines, "participant_joined"); e.Room != "r1" || e.Participant != "alice" {
		t.Fatalf("room stream event %+v, want alice in r1", e)
	}
	// Shutdown ends the streams instead of holding the drain.
	f.svc.CloseSubscribers()
	waitFor(t, 2*time.Second, "streams closed", func() bool {
		select {
		case _, ok := <-adminLines:
			return !ok
		default:
			return false
		}
	})
}

func TestSlowConsumerIsDroppedWithoutBlocking(t *testing.T) {
	b := live.NewBus()
	slow, cancel := b.Subscribe(2)
	defer cancel()
	fast, cancelFast := b.Subscribe(100)
	defer cancelFast()
	start := time.Now()
	for i := 0; i < 10; i++ {
		b.Publish(live.Event{Type: "x"})
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("publish blocked for %v", d)
	}
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("slow consumer got %d events before being dropped, want 2", n)
	}
	if len(fast) != 10 || b.Subscribers() != 1 {
		t.Fatalf("fast consumer has %d events, %d subscribers left", len(fast), b.Subscribers())
	}
}

func TestAdminOverviewAndRooms(t *testing.T) {
	f, base := sseApp(t)
	now := time.Now().Add(-10 * time.Minute)
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_2", "bob", now.Add(time.Minute)), now.Add(time.Minute)))
	f.send(t, event("participant_left", "r1", "RM_1", participant("PA_2", "bob", now.Add(time.Minute)), now.Add(6*time.Minute)))
	get := func(path string, v any) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var ov struct {
		LiveKit map[string]any   `json:"livekit"`
		Counts  map[string]int64 `json:"counts"`
		Usage   live.Usage       `json:"usage"`
	}
	get("/api/admin/overview", &ov)
	if ov.Counts["activeRooms"] != 1 || ov.Counts["participants"] != 1 || ov.LiveKit["state"] != "unknown" {
		t.Fatalf("overview %+v", ov)
	}
	u := ov.Usage
	if u.PeakConcurrency != 2 || u.Sessions != 2 || u.ParticipantMinutes < 14.9 || u.ParticipantMinutes > 15.5 || len(u.Daily) == 0 {
		t.Fatalf("usage %+v, want peak 2, 2 sessions, ~15 participant minutes", u)
	}
	if len(u.ByUser) != 2 || u.ByUser[0].Key != "u-alice" {
		t.Fatalf("usage by user %+v", u.ByUser)
	}
	var rooms struct {
		Items []live.RoomState `json:"items"`
	}
	get("/api/admin/rooms", &rooms)
	if len(rooms.Items) != 1 || len(rooms.Items[0].Participants) != 1 || rooms.Items[0].Participants[0].Identity != "alice" {
		t.Fatalf("admin rooms %+v", rooms)
	}
}

// A typed subscriber sees only its types, and other traffic neither fills nor drops it.
func TestTypedSubscriberSkipsOtherEvents(t *testing.T) {
	b := live.NewBus()
	rooms, cancel := b.SubscribeTypes(1, live.EventRoomFinished)
	defer cancel()
	for i := 0; i < 10; i++ {
		b.Publish(live.Event{Type: live.EventParticipantJoined})
	}
	b.Publish(live.Event{Type: live.EventRoomFinished, Room: "r"})
	if ev, ok := <-rooms; !ok || ev.Type != live.EventRoomFinished || ev.Room != "r" {
		t.Fatalf("got %+v (open %v), want the room_finished event", ev, ok)
	}
	if b.Subscribers() != 1 {
		t.Fatalf("%d subscribers, want the typed one kept", b.Subscribers())
	}
}
