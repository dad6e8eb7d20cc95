package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestMeetingHealsAfterNodeLoss (issue 16): Parley in front of a LiveKit cluster of two
// nodes sharing Redis; two people meet in a room that node 1 hosts while their signalling
// goes through node 0. Node 1 is killed with SIGKILL and stays dead. Both pages come back
// by themselves (the app rejoins with a fresh token, LiveKit hosts the room again on node 0)
// without touching the page and without "You left", and each sees the other's video again.
// Heals take about 18 s: node 0 keeps a dead node's sessions' signalling open for about
// 17.5 s.
//
// In 2 of 10 runs before the app compared its room with Parley's list after a heal
// (web/src/meeting/roster.ts), one person came back alone: their session, restarted by
// livekit-client with the same token before node 0 had dropped the other's signalling, was
// connected in the re-hosted room but never heard of the other person, whose own restart a
// moment later did see them. That race cannot be forced; TestMeetingRejoinsForSomeoneMissing
// makes its signature and checks the repair.
func TestMeetingHealsAfterNodeLoss(t *testing.T) {
	browser := newBrowser(t) // first: it empties the test's output folder, where Parley logs
	port := testenv.FreePort(t)
	const key, secret = "devkey", "lktest-secret-0123456789-0123456789-abcd"
	lk := lktest.StartCluster(t, lktest.Options{APIKey: key, APISecret: secret,
		WebhookURL: fmt.Sprintf("http://127.0.0.1:%d/api/livekit/webhook", port)})
	nodes := lk.Nodes
	s := startParleyWith(t, launch{port: port, env: []string{
		"PARLEY_LIVEKIT_EXTERNAL=true",
		"PARLEY_LIVEKIT_HOST=" + nodes[0].WSURL,
		"PARLEY_LIVEKIT_INTERNAL_HOST=" + nodes[0].HTTPURL,
		"PARLEY_LIVEKIT_API_KEY=" + key,
		"PARLEY_LIVEKIT_API_SECRET=" + secret,
		"PARLEY_LIVEKIT_REDIS_ADDRESS=" + lk.Addr,
		fmt.Sprintf("PARLEY_LIVEKIT_REDIS_DB=%d", lk.DB),
		"PARLEY_LIVEKIT_RECONCILE_INTERVAL=1s",
	}})
	alice := newPage(t, browser, s, "alice")
	bob := newPage(t, browser, s, "bob")
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	room := alice.createRoom("Node loss "+uniq(""), true, false)
	// Created through node 1's API first: node 1 hosts it, and Parley's CreateRoom through
	// node 0 finds it there.
	rs := lksdk.NewRoomServiceClient(nodes[1].HTTPURL, key, secret)
	if _, err := rs.CreateRoom(context.Background(), &livekit.CreateRoomRequest{Name: room, EmptyTimeout: 300, DepartureTimeout: 20}); err != nil {
		t.Fatalf("create %s on node 1: %v", room, err)
	}
	alice.join(room, "")
	bob.join(room, "")
	alice.waitRemoteVideoPlaying(bob.identity())
	bob.waitRemoteVideoPlaying(alice.identity())
	if r := lk.RegionOf(t, room); r != "r1" {
		t.Fatalf("%s is hosted in region %q, want node 1's r1", room, r)
	}
	for _, p := range []*page{alice, bob} {
		p.eval(overWatch)
		p.eval(frameWatch)
	}

	nodes[1].Kill()
	killed := time.Now()
	t.Logf("killed node 1, which hosted %s", room)
	for _, p := range []*page{alice, bob} {
		p.waitJS("node loss: meeting back", `Number(document.querySelector('[data-testid=meeting]')?.dataset.heals) >= 1`, 90*time.Second)
	}
	for _, p := range []*page{alice, bob} {
		t.Logf("%s: heal timeline: %s", p.name, p.healTimeline(killed))
	}
	for _, p := range []*page{alice, bob} {
		p.waitHealed("node loss", 1, 1, killed)
	}
	if r := lk.RegionOf(t, room); r != "r0" {
		t.Errorf("%s is hosted in region %q after node 1 died, want node 0's r0", room, r)
	}
	for _, p := range []*page{alice, bob} {
		if back, ok := p.videoBack(killed); ok {
			t.Logf("%s: the other person's video back %.1f s after node 1 died", p.name, back.Seconds())
		} else {
			t.Errorf("%s: no frame of the other person's video from a new track after node 1 died", p.name)
		}
	}
}

// TestMeetingRejoinsForSomeoneMissing: after a heal, Parley is told by a real signed
// participant_joined of someone who joined after both pages' sessions and whom LiveKit never
// shows them (what a session that missed someone looks like; see
// TestMeetingHealsAfterNodeLoss). Both pages rejoin by themselves and meet again. The
// reconciler is slowed so that it does not remove the unseen participant first.
func TestMeetingRejoinsForSomeoneMissing(t *testing.T) {
	browser := newBrowser(t)
	lkPort := testenv.FreePort(t)
	const key, secret = "rostertest", "roster-secret-0123456789-0123456789-abcd"
	s := startParleyWith(t, launch{env: []string{
		fmt.Sprintf("PARLEY_LIVEKIT_PORT=%d", lkPort),
		"PARLEY_LIVEKIT_API_KEY=" + key,
		"PARLEY_LIVEKIT_API_SECRET=" + secret,
		"PARLEY_LIVEKIT_RECONCILE_INTERVAL=10m",
	}})
	if s.PID == 0 {
		t.Skip("PARLEY_TEST_URL: the test cannot kill that server's LiveKit")
	}
	alice := newPage(t, browser, s, "alice")
	bob := newPage(t, browser, s, "bob")
	room := meetTwo(alice, bob, "Roster")
	for _, p := range []*page{alice, bob} {
		p.eval(overWatch)
		p.eval(frameWatch)
	}
	// The app compares the two lists only after a heal.
	killLiveKit(t, s.PID, 0)
	killed := time.Now()
	for _, p := range []*page{alice, bob} {
		p.waitHealed("crash", 1, 1, killed)
	}
	rejoinsForMissing(t, s, fmt.Sprintf("http://127.0.0.1:%d", lkPort), key, secret, room, alice, bob)
}

// rejoinsForMissing tells Parley, by a signed participant_joined, of someone in room whom
// LiveKit never shows the pages, and waits for each page to rejoin by itself (a new session)
// and to see the other's video again.
func rejoinsForMissing(t *testing.T, s *server, lkURL, key, secret, room string, pages ...*page) {
	t.Helper()
	rooms, err := lksdk.NewRoomServiceClient(lkURL, key, secret).ListRooms(context.Background(), &livekit.ListRoomsRequest{Names: []string{room}})
	if err != nil || len(rooms.GetRooms()) != 1 {
		t.Fatalf("list %s: %v %v", room, rooms, err)
	}
	before := map[*page]string{}
	for _, p := range pages {
		before[p] = p.evalString(`document.querySelector('[data-testid=meeting]').dataset.sessions`)
	}
	now := time.Now()
	ev := &livekit.WebhookEvent{Event: "participant_joined", Id: "EV_" + uniq("missing"), CreatedAt: now.Unix(),
		Room: rooms.GetRooms()[0],
		Participant: &livekit.ParticipantInfo{Sid: "PA_" + uniq("missing"), Identity: uniq("missing"), Name: "Missing",
			State: livekit.ParticipantInfo_ACTIVE, JoinedAt: now.Unix(), JoinedAtMs: now.UnixMilli()}}
	body, authz := lktest.SignWebhook(t, key, secret, ev)
	if code := lktest.PostWebhook(s.client, s.URL+"/api/livekit/webhook", body, authz); code != 200 {
		t.Fatalf("participant_joined for someone the pages never see: %d", code)
	}
	for _, p := range pages {
		p.waitJS("a rejoin for someone missing", fmt.Sprintf(`(m => !!m && m.dataset.sessions !== %q)(document.querySelector('[data-testid=meeting]'))`, before[p]), 60*time.Second)
	}
	for _, p := range pages {
		p.waitHealed("someone missing", 1, 1, now)
		if tl := p.healTimeline(now); !strings.Contains(tl, "never heard of") {
			t.Errorf("%s: the rejoin's timeline does not say why: %s", p.name, tl)
		}
	}
}
