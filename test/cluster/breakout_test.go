package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/testenv"
)

// clusterMover is a guest (a browser: its own cookies) that follows Parley's move messages
// as the web app does, connecting through one chosen node of the cluster.
type clusterMover struct {
	t    *testing.T
	p    *parley
	http *http.Client
	name string
	ws   string
	mu   sync.Mutex
	room *lksdk.Room
}

func (m *clusterMover) post(path string) (int, map[string]any) {
	body, _ := json.Marshal(map[string]any{"displayName": m.name})
	resp, err := m.http.Post(m.p.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, map[string]any{"err": err.Error()}
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// move asks the breakout join route where to be and reconnects there unless it is there.
func (m *clusterMover) move(path string) {
	m.mu.Lock() // one move at a time, the question included: a stale answer must not win
	defer m.mu.Unlock()
	code, out := m.post(path)
	if code != 200 {
		m.t.Errorf("%s %s: %d %v", m.name, path, code, out)
		return
	}
	target := "class"
	if bo, ok := out["breakout"].(map[string]any); ok {
		target = fmt.Sprintf("class_breakout_%v", bo["room"])
	}
	if m.room != nil && m.room.Name() == target {
		return // already there (a repeated move message)
	}
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if p, ok := data.(*lksdk.UserDataPacket); ok && p.Topic == "parley.breakout" && params.SenderIdentity == "" {
			go m.move("/api/rooms/class/breakouts/join")
		}
	}
	if m.room != nil {
		m.room.Disconnect()
	}
	// A media connection that does not come up on a loaded machine is tried again, as the
	// web app does.
	var err error
	for try := 0; try < 3; try++ {
		var r *lksdk.Room
		if r, err = lksdk.ConnectToRoomWithToken(m.ws, out["token"].(string), cb, lksdk.WithAutoSubscribe(false)); err == nil {
			m.room = r
			return
		}
	}
	m.t.Errorf("%s connects through %s: %v", m.name, m.ws, err)
}

func (m *clusterMover) where() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.room == nil {
		return ""
	}
	return m.room.Name()
}

// TestBreakoutsOnCluster: four participants, connected through both nodes of a LiveKit
// cluster, are split into two breakout rooms hosted on different nodes and called back.
func TestBreakoutsOnCluster(t *testing.T) {
	port := testenv.FreePort(t)
	lk := startCluster(t, fmt.Sprintf("http://127.0.0.1:%d/api/livekit/webhook", port))
	n0, n1 := lk.Nodes[0], lk.Nodes[1]
	env := parleyEnv(n0.WSURL, n0.HTTPURL)
	env["PARLEY_LIVEKIT_REDIS_ADDRESS"], env["PARLEY_LIVEKIT_REDIS_DB"] = lk.Addr, fmt.Sprint(lk.DB)
	p := startParley(t, "parley", port, env)
	admin, _ := p.login(t, adminEmail, adminPass)
	p.must(t, 201, "POST", "/api/rooms", admin, map[string]any{"name": "class", "allowGuests": true, "public": true})
	// Breakout room 2 is made through node 1 first, as a cluster spreading rooms would place
	// it; Parley's CreateRoom through node 0 then finds it there.
	rs := lksdk.NewRoomServiceClient(n1.HTTPURL, lkKey, lkSecret)
	if _, err := rs.CreateRoom(context.Background(), &livekit.CreateRoomRequest{Name: "class_breakout_2", EmptyTimeout: 300, DepartureTimeout: 5}); err != nil {
		t.Fatalf("create breakout 2 on node 1: %v", err)
	}
	var movers []*clusterMover
	for i, name := range []string{"ann", "ben", "cat", "dan"} {
		jar, _ := cookiejar.New(nil)
		m := &clusterMover{t: t, p: p, http: &http.Client{Jar: jar, Timeout: 15 * time.Second}, name: name, ws: []string{n0.WSURL, n1.WSURL}[i%2]}
		m.move("/api/rooms/class/join")
		movers = append(movers, m)
	}
	t.Cleanup(func() {
		for _, m := range movers {
			if r := m.room; r != nil {
				r.Disconnect()
			}
		}
	})
	eventually(t, 20*time.Second, "the four in the live state", func() (bool, string) {
		ps := participants(p, admin, "class")
		n := 0
		for _, x := range ps {
			if x["state"] == "joined" {
				n++
			}
		}
		return n == 4, states(ps)
	})
	placement := func() (map[string]int, string) {
		at := map[string]int{}
		for _, m := range movers {
			at[m.where()]++
		}
		return at, fmt.Sprint(at)
	}
	started := time.Now()
	p.must(t, 201, "POST", "/api/rooms/class/breakouts", admin, map[string]any{"rooms": 2, "random": true})
	eventually(t, 20*time.Second, "two in each breakout room", func() (bool, string) {
		at, s := placement()
		return at["class_breakout_1"] == 2 && at["class_breakout_2"] == 2, s
	})
	t.Logf("split across the cluster after %v", time.Since(started).Round(time.Millisecond))
	if a, b := lk.RegionOf(t, "class_breakout_1"), lk.RegionOf(t, "class_breakout_2"); a == b {
		t.Fatalf("both breakout rooms on one node (%s): the test does not span the cluster", a)
	}
	called := time.Now()
	p.must(t, 204, "DELETE", "/api/rooms/class/breakouts", admin, nil)
	eventually(t, 20*time.Second, "everyone back in the main room", func() (bool, string) {
		at, s := placement()
		return at["class"] == 4, s
	})
	t.Logf("called back across the cluster after %v", time.Since(called).Round(time.Millisecond))
}
