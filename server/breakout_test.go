package main

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

// Breakout rooms with the real parley binary, its embedded LiveKit and real WebRTC
// participants that do what the web app does: follow Parley's move message, ask the
// breakout join route where to go and reconnect there, with no step of their own.

// mover is one participant that follows move messages.
type mover struct {
	t    *testing.T
	b    *browser
	main string
	name string // display name (guests must give one)
	mu   sync.Mutex
	room *lksdk.Room
}

func (m *mover) callback() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		p, ok := data.(*lksdk.UserDataPacket)
		if !ok || p.Topic != "parley.breakout" || params.SenderIdentity != "" {
			return
		}
		go m.move()
	}
	return cb
}

// move asks where to be and reconnects there unless it is there already. Moves run one at
// a time, the question included: an answer overtaken by a later one must not win.
func (m *mover) move() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var body map[string]any
	if m.name != "" {
		body = map[string]any{"displayName": m.name}
	}
	code, out, _ := m.b.do("POST", "/api/rooms/"+m.main+"/breakouts/join", body)
	if code != 200 {
		m.t.Errorf("breakout join: %d %v", code, out)
		return
	}
	target := m.main
	if bo, ok := out["breakout"].(map[string]any); ok {
		target = m.main + "_breakout_" + jsonNumber(bo["room"])
	}
	if m.room != nil && m.room.Name() == target {
		return
	}
	if m.room != nil {
		m.room.Disconnect()
	}
	// A media connection that does not come up on a loaded machine is tried again, as the
	// web app does.
	var err error
	for try := 0; try < 3; try++ {
		var r *lksdk.Room
		if r, err = lksdk.ConnectToRoomWithToken(out["url"].(string), out["token"].(string), m.callback(), lksdk.WithAutoSubscribe(false)); err == nil {
			m.room = r
			return
		}
	}
	m.t.Errorf("connect to %s: %v", target, err)
}

func (m *mover) where() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.room == nil {
		return ""
	}
	return m.room.Name()
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBreakoutRooms(t *testing.T) {
	p := startParley(t, testEnv(t))
	owner, _ := user(t, p, "owner@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "workshop", "public": true, "allowGuests": true})
	host := &mover{t: t, b: owner, main: "workshop"}
	host.move()
	var movers []*mover
	for _, name := range []string{"Ann", "Ben", "Cat", "Dan"} {
		g := newBrowser(t, p)
		g.must(200, "POST", "/api/rooms/workshop/join", map[string]any{"displayName": name})
		m := &mover{t: t, b: g, main: "workshop", name: name}
		m.move()
		movers = append(movers, m)
	}
	t.Cleanup(func() {
		for _, m := range append(movers, host) {
			if r := m.room; r != nil {
				r.Disconnect()
			}
		}
	})
	// A random split deals the people the live state lists in the main room.
	inMain := func() {
		t.Helper()
		eventually(t, 20*time.Second, "the five are in the main room's live state", func() bool {
			_, out, _ := owner.do("GET", "/api/rooms/workshop/participants", nil)
			n := 0
			for _, it := range out["items"].([]any) {
				if it.(map[string]any)["state"] == "joined" {
					n++
				}
			}
			return n == 5
		})
	}
	inMain()
	placement := func() map[string]int {
		at := map[string]int{}
		for _, m := range movers {
			at[m.where()]++
		}
		return at
	}

	t.Run("split at random into 2, visit, call back", func(t *testing.T) {
		owner.must(400, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 0})
		movers[0].b.must(401, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 2, "random": true})
		started := time.Now()
		out := owner.must(201, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 2, "random": true})
		if rooms := out["rooms"].([]any); len(rooms) != 2 || len(rooms[0].(map[string]any)["identities"].([]any)) != 2 {
			t.Fatalf("split: %v", out)
		}
		eventually(t, 20*time.Second, "everyone in a breakout room", func() bool {
			at := placement()
			return at["workshop_breakout_1"] == 2 && at["workshop_breakout_2"] == 2
		})
		t.Logf("split to all 4 connected in their breakout rooms: %v", time.Since(started))
		owner.must(409, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 2, "random": true})
		// The moderator visits room 2 and meets its two people there, in LiveKit.
		visit := owner.must(200, "POST", "/api/rooms/workshop/breakouts/join", map[string]any{"room": 2})
		if visit["breakout"].(map[string]any)["room"].(float64) != 2 {
			t.Fatalf("visit: %v", visit)
		}
		r, err := lksdk.ConnectToRoomWithToken(visit["url"].(string), visit["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the visitor sees room 2's people", func() bool { return len(r.GetRemoteParticipants()) == 2 })
		r.Disconnect()
		called := time.Now()
		owner.must(204, "DELETE", "/api/rooms/workshop/breakouts", nil)
		eventually(t, 20*time.Second, "everyone back in the main room", func() bool { return placement()["workshop"] == 4 })
		t.Logf("call back to all 4 connected in the main room: %v", time.Since(called))
		if rooms := owner.must(200, "GET", "/api/rooms/workshop/breakouts", nil)["rooms"].([]any); len(rooms) != 0 {
			t.Fatalf("after the call back: %v", rooms)
		}
		owner.must(404, "DELETE", "/api/rooms/workshop/breakouts", nil)
	})

	t.Run("by hand", func(t *testing.T) {
		assign := map[string]any{}
		for i, m := range movers {
			assign[m.room.LocalParticipant.Identity()] = i%2 + 1
		}
		owner.must(201, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 2, "assign": assign})
		eventually(t, 20*time.Second, "assigned rooms", func() bool {
			for i, m := range movers {
				if m.where() != "workshop_breakout_"+jsonNumber(i%2+1) {
					return false
				}
			}
			return true
		})
		owner.must(204, "DELETE", "/api/rooms/workshop/breakouts", nil)
		for end := time.Now().Add(20 * time.Second); placement()["workshop"] != 4; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("not everyone back after the call back: %v", placement())
			}
		}
	})

	t.Run("a timer ends the split", func(t *testing.T) {
		inMain()
		owner.must(201, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 2, "random": true, "durationSeconds": 2})
		// The split's end is the server's (the timer worker), seen through the API; then
		// everyone is back, whether or not they had reached their room by then.
		eventually(t, 30*time.Second, "the timer ended the split", func() bool {
			_, out, _ := owner.do("GET", "/api/rooms/workshop/breakouts", nil)
			rooms, _ := out["rooms"].([]any)
			return out["rooms"] != nil && len(rooms) == 0
		})
		eventually(t, 30*time.Second, "everyone back after the timer", func() bool { return placement()["workshop"] == 4 })
	})

	t.Run("breakouts end with the main meeting", func(t *testing.T) {
		inMain()
		out := owner.must(201, "POST", "/api/rooms/workshop/breakouts", map[string]any{"rooms": 1, "random": true})
		ok := false
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && !ok; time.Sleep(50 * time.Millisecond) {
			ok = placement()["workshop_breakout_1"] == 4
		}
		if !ok {
			_, ps, _ := owner.do("GET", "/api/rooms/workshop/participants", nil)
			t.Fatalf("not all in the breakout room: %v; split %v; live %v", placement(), out, ps)
		}
		owner.must(204, "POST", "/api/rooms/workshop/end", nil)
		eventually(t, 20*time.Second, "the breakout room closed under its four people", func() bool {
			n := 0
			for _, m := range movers {
				m.mu.Lock()
				if m.room.ConnectionState() == lksdk.ConnectionStateDisconnected {
					n++
				}
				m.mu.Unlock()
			}
			return n == 4
		})
	})
}
