package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// startCluster is lktest's two-node cluster with this package's keys.
func startCluster(t *testing.T, webhookURL string) *lktest.Cluster {
	t.Helper()
	return lktest.StartCluster(t, lktest.Options{APIKey: lkKey, APISecret: lkSecret, WebhookURL: webhookURL})
}

// guest joins room through Parley's API and connects to LiveKit at wsURL (either node).
func guest(t *testing.T, p *parley, room, name, wsURL string, cb *lksdk.RoomCallback) (*lksdk.Room, string) {
	t.Helper()
	j := p.must(t, 200, "POST", "/api/rooms/"+room+"/join", "", map[string]any{"displayName": name})
	if cb == nil {
		cb = lksdk.NewRoomCallback()
	}
	r, err := lksdk.ConnectToRoomWithToken(wsURL, j["token"].(string), cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("%s connects to %s through %s: %v", name, room, wsURL, err)
	}
	t.Cleanup(r.Disconnect)
	return r, j["identity"].(string)
}

// publishMic publishes a synthetic Opus microphone track fed with silence until the test ends.
func publishMic(t *testing.T, r *lksdk.Room) {
	t.Helper()
	if _, err := lktest.PublishSource(t.Context(), r, livekit.TrackSource_MICROPHONE, "mic", 0, 0); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// participants is Parley's live participant list of a room: identity -> participant.
func participants(p *parley, token, room string) map[string]map[string]any {
	code, b := p.call("GET", "/api/rooms/"+room+"/participants", token, nil)
	out := map[string]map[string]any{}
	if code != 200 {
		return out
	}
	var body struct{ Items []map[string]any }
	_ = json.Unmarshal(b, &body)
	for _, it := range body.Items {
		out[it["identity"].(string)] = it
	}
	return out
}

func states(ps map[string]map[string]any) string {
	var s []string
	for id, p := range ps {
		s = append(s, fmt.Sprintf("%s=%v", id, p["state"]))
	}
	return strings.Join(s, " ")
}

// TestLiveKitCluster: Parley in external mode talks to node 0's API only. Participants
// joining through either node appear in its live state; kick and mute reach participants in
// a room hosted on node 1 (RoomService calls routed through Redis); killing node 1 ends its
// participants' sessions and leaves the room on node 0 alone.
func TestLiveKitCluster(t *testing.T) {
	port := testenv.FreePort(t)
	lk := startCluster(t, fmt.Sprintf("http://127.0.0.1:%d/api/livekit/webhook", port))
	n0, n1 := lk.Nodes[0], lk.Nodes[1]
	env := parleyEnv(n0.WSURL, n0.HTTPURL)
	// The cluster's Redis: Parley reads LiveKit's node registry to notice a dead node.
	env["PARLEY_LIVEKIT_REDIS_ADDRESS"], env["PARLEY_LIVEKIT_REDIS_DB"] = lk.Addr, fmt.Sprint(lk.DB)
	p := startParley(t, "parley", port, env)
	admin, _ := p.login(t, adminEmail, adminPass)

	// "beta" is created through node 1's own API first, as a cluster spreading its rooms
	// would place it; Parley's CreateRoom through node 0 then finds it where it is.
	rs := lksdk.NewRoomServiceClient(n1.HTTPURL, lkKey, lkSecret)
	if _, err := rs.CreateRoom(context.Background(), &livekit.CreateRoomRequest{Name: "beta", EmptyTimeout: 300, DepartureTimeout: 5}); err != nil {
		t.Fatalf("create beta on node 1: %v", err)
	}
	for _, room := range []string{"alpha", "beta"} {
		p.must(t, 201, "POST", "/api/rooms", admin, map[string]any{"name": room, "allowGuests": true, "public": true})
	}
	_, g1 := guest(t, p, "alpha", "g1", n0.WSURL, nil)
	_, g2 := guest(t, p, "alpha", "g2", n1.WSURL, nil)
	kicked := make(chan struct{}, 1)
	cb := lksdk.NewRoomCallback()
	cb.OnDisconnected = func() { kicked <- struct{}{} }
	_, g3 := guest(t, p, "beta", "g3", n1.WSURL, cb)
	r4, g4 := guest(t, p, "beta", "g4", n0.WSURL, nil)
	publishMic(t, r4)
	_, g5 := guest(t, p, "beta", "g5", n1.WSURL, nil)
	if a, b := lk.RegionOf(t, "alpha"), lk.RegionOf(t, "beta"); a != "r0" || b != "r1" {
		t.Fatalf("rooms are hosted in regions alpha=%s beta=%s, want r0 and r1", a, b)
	}

	want := map[string][]string{"alpha": {g1, g2}, "beta": {g3, g4, g5}}
	took := eventually(t, 15*time.Second, "every participant joined in Parley's live state", func() (bool, string) {
		var s []string
		ok := true
		for room, ids := range want {
			ps := participants(p, admin, room)
			s = append(s, room+": "+states(ps))
			for _, id := range ids {
				ok = ok && ps[id] != nil && ps[id]["state"] == "joined"
			}
		}
		return ok, strings.Join(s, "; ")
	})
	t.Logf("5 participants through 2 nodes seen joined after %v", took.Round(time.Millisecond))

	// Mute g4's microphone in beta (hosted on node 1) through Parley, which calls node 0.
	eventually(t, 15*time.Second, "g4's microphone listed", func() (bool, string) {
		tr := tracks(participants(p, admin, "beta")[g4])
		return len(tr) > 0, fmt.Sprint(tr)
	})
	p.must(t, 204, "POST", "/api/rooms/beta/participants/"+g4+"/mute", admin, map[string]any{"source": "microphone", "muted": true})
	eventually(t, 10*time.Second, "g4's microphone muted on node 1", func() (bool, string) {
		res, err := rs.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: "beta"})
		if err != nil {
			return false, err.Error()
		}
		for _, pi := range res.Participants {
			for _, tr := range pi.Tracks {
				if pi.Identity == g4 && tr.Source == livekit.TrackSource_MICROPHONE && tr.Muted {
					return true, ""
				}
			}
		}
		return false, fmt.Sprint(res.Participants)
	})
	eventually(t, 10*time.Second, "Parley shows g4's microphone muted", func() (bool, string) {
		tr := tracks(participants(p, admin, "beta")[g4])
		return len(tr) > 0 && tr[0]["muted"] == true, fmt.Sprint(tr)
	})

	// Kick g3 from beta: LiveKit (node 1) disconnects it, Parley records it left.
	p.must(t, 204, "POST", "/api/rooms/beta/participants/"+g3+"/kick", admin, map[string]any{"reason": "test"})
	select {
	case <-kicked:
	case <-time.After(10 * time.Second):
		t.Fatal("g3 was not disconnected by the kick")
	}
	eventually(t, 10*time.Second, "kicked g3 left in Parley", func() (bool, string) {
		ps := participants(p, admin, "beta")
		return ps[g3] == nil || ps[g3]["state"] == "left", states(ps)
	})

	// Kill node 1 (beta's host). g5 signalled through node 1: its client cannot come back.
	// g4 signalled through node 0: its client reconnects, and LiveKit re-hosts beta on node 0
	// with a new session for g4. Every session that lived on node 1 must end up left (g4's
	// new session is the truth, not a leftover); alpha, on node 0, must not notice.
	sessions := participants(p, admin, "beta")
	oldG4, alphaBefore := sessions[g4]["sid"], participants(p, admin, "alpha")
	n1.Kill()
	took = eventually(t, 45*time.Second, "beta's node-1 sessions left after node 1 died", func() (bool, string) {
		ps := participants(p, admin, "beta")
		g5Left := ps[g5] == nil || ps[g5]["state"] == "left"
		g4Gone := ps[g4] == nil || ps[g4]["state"] == "left" || ps[g4]["sid"] != oldG4
		return g5Left && g4Gone, states(ps)
	})
	// LiveKit keeps listing node 1's participants: later passes must not re-add them.
	for end := time.Now().Add(3 * reconcileInt); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ps := participants(p, admin, "beta"); ps[g5] != nil && ps[g5]["state"] != "left" {
			t.Fatalf("g5 came back after it was marked left: %s", states(ps))
		}
	}
	ps := participants(p, admin, "beta")
	if ps[g5] != nil && ps[g5]["leaveReason"] != "node_lost" {
		t.Errorf("g5 left with reason %v, want node_lost (only Redis shows its node died)", ps[g5]["leaveReason"])
	}
	t.Logf("node 1 killed: its sessions left in Parley after %v; beta now: %s (g4 rejoined: %v, room on %s)",
		took.Round(time.Millisecond), states(ps), ps[g4] != nil && ps[g4]["state"] == "joined", lk.RegionOf(t, "beta"))
	ps = participants(p, admin, "alpha")
	if ps[g1] == nil || ps[g1]["state"] != "joined" || ps[g1]["sid"] != alphaBefore[g1]["sid"] {
		t.Errorf("alpha (node 0) was disturbed by node 1's death: %s", states(ps))
	}
	t.Logf("alpha after node 1 died: %s (g2 signalled through node 1)", states(ps))
}

func tracks(p map[string]any) []map[string]any {
	var out []map[string]any
	if p == nil {
		return nil
	}
	list, _ := p["tracks"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
