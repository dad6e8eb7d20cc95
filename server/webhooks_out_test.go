package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/outbox"
	"github.com/parley/parley/internal/testenv"
)

// hookReceiver is an integration's webhook endpoint on loopback: it can fail its first
// attempts, go down (nothing listens on its port) and come back on the same port.
type hookReceiver struct {
	t         *testing.T
	addr      string
	failFirst int
	mu        sync.Mutex
	srv       *http.Server
	secret    string
	attempts  int
	got       []gotHook // accepted (2xx), in arrival order
	bad       []string  // signature failures
}

type gotHook struct {
	ID, Type, Room, Identity string
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.attempts <= r.failFirst {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
		return
	}
	id := req.Header.Get("webhook-id")
	if err := outbox.Verify(r.secret, id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"),
		body, time.Now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, id+": "+err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p struct {
		Type string
		Data struct{ Room, Identity string }
	}
	_ = json.Unmarshal(body, &p)
	r.got = append(r.got, gotHook{ID: id, Type: p.Type, Room: p.Data.Room, Identity: p.Data.Identity})
}

func (r *hookReceiver) up() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver back on %s: %v", r.addr, err)
	}
	r.mu.Lock()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	srv := r.srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// down closes the listener and every connection: attempts meet a refused connection.
func (r *hookReceiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	_ = srv.Close()
}

func (r *hookReceiver) snapshot() []gotHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

type deliveryLog struct {
	Items []struct {
		ID, EventID, EventType, Status, LastError string
		Attempts                                  int
	}
}

// TestOutboundWebhooksSurviveFailuresAndRestart: a real meeting (real livekit-server, real
// WebRTC participants, one publishing, a recording by the built-in recorder) reaches an endpoint that fails its first three deliveries, is down
// while the meeting goes on and while Parley restarts, and comes back: it gets every event
// exactly once per id, in the order of the outbox, each with a valid signature. The down
// period is defined by what happens in it (retries seen failing, a restart), with a backoff
// scaled down (100 ms doubling to 400 ms) so that it spans as many attempts as a minute does
// at the default settings (5 s doubling: 5, 10, 20 s).
func TestOutboundWebhooksSurviveFailuresAndRestart(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg", err)
	}
	env := testEnv(t, "PARLEY_RECORDING_BACKEND=builtin", "PARLEY_WEBHOOKS_RETRY_BASE=100ms", "PARLEY_WEBHOOKS_RETRY_MAX=400ms", "PARLEY_WEBHOOKS_TIMEOUT=2s")
	lk := lktest.Start(t, lktest.Options{WebhookURL: "http://" + envValue(env, "PARLEY_SERVER_LISTEN") + "/api/livekit/webhook"})
	env = append(env, "PARLEY_LIVEKIT_EXTERNAL=true", "PARLEY_LIVEKIT_HOST="+lk.WSURL, "PARLEY_LIVEKIT_INTERNAL_HOST="+lk.HTTPURL,
		"PARLEY_LIVEKIT_API_KEY="+lk.APIKey, "PARLEY_LIVEKIT_API_SECRET="+lk.APISecret)
	rcv := &hookReceiver{t: t, addr: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)), failFirst: 3}
	rcv.up()
	t.Cleanup(rcv.down)

	p := startParley(t, env)
	admin, _ := user(t, p, "admin@example.com")
	ep := admin.must(201, "POST", "/api/admin/webhooks", map[string]any{"url": "http://" + rcv.addr + "/hooks", "events": []string{"*"}})
	rcv.mu.Lock()
	rcv.secret = ep["secret"].(string)
	rcv.mu.Unlock()
	endpoint := ep["id"].(string)

	owner, _ := user(t, p, "owner@example.com")
	guest, _ := user(t, p, "carol@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "standup", "public": true})
	tok, url, alice := owner.join("standup", nil)
	stopAlice := publishSynthetic(t, url, tok) // publishes a camera and a microphone
	tok, url, bob := admin.join("standup", nil)
	bobSeat := connectWith(t, url, tok, bob)
	eventually(t, 30*time.Second, "room.started and two joins delivered", func() bool {
		return count(rcv.snapshot(), outbox.TypeParticipantJoined) == 2 && count(rcv.snapshot(), outbox.TypeRoomStarted) == 1
	})
	// A recording of alice's tracks (the built-in recorder, a hidden participant).
	rec := owner.must(201, "POST", "/api/rooms/standup/recordings", nil)["id"].(string)
	eventually(t, 30*time.Second, "recording.started delivered", func() bool { return count(rcv.snapshot(), outbox.TypeRecordingStarted) == 1 })
	time.Sleep(2 * time.Second) // what is recorded: two seconds of media (not a synchronisation)
	owner.must(200, "POST", "/api/recordings/"+rec+"/stop", nil)
	eventually(t, 90*time.Second, "recording.completed delivered", func() bool { return count(rcv.snapshot(), outbox.TypeRecordingCompleted) == 1 })

	// Down: the meeting goes on, the attempts fail, and Parley restarts meanwhile.
	rcv.down()
	tok, url, carol := guest.join("standup", nil)
	carolSeat := connectWith(t, url, tok, carol)
	stopAlice()
	var log deliveryLog
	eventually(t, 30*time.Second, "the head delivery retried three times while the receiver is down", func() bool {
		deliveries(admin, endpoint, "?status=pending", &log)
		return slices.ContainsFunc(log.Items, func(d struct {
			ID, EventID, EventType, Status, LastError string
			Attempts                                  int
		}) bool {
			return d.Attempts >= 3 && d.LastError != ""
		})
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("parley did not stop cleanly: %v\n%s", err, p.Output())
	}
	p = startParley(t, env)
	rcv.up()

	bobSeat.room.Disconnect()
	carolSeat.room.Disconnect()
	owner.must(204, "POST", "/api/rooms/standup/end", nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("received %v\nlog %+v", rcv.snapshot(), log)
		}
	})
	eventually(t, 60*time.Second, "room.finished delivered and nothing pending", func() bool {
		if count(rcv.snapshot(), outbox.TypeRoomFinished) == 0 {
			return false
		}
		deliveries(admin, endpoint, "?limit=200", &log)
		return !slices.ContainsFunc(log.Items, func(d struct {
			ID, EventID, EventType, Status, LastError string
			Attempts                                  int
		}) bool {
			return d.Status != outbox.StatusDelivered
		})
	})

	got := rcv.snapshot()
	rcv.mu.Lock()
	bad, attempts := rcv.bad, rcv.attempts
	rcv.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("signatures refused: %v", bad)
	}
	// The outbox's order is the order of the state changes; the log lists it newest first.
	var want []string
	for i := len(log.Items) - 1; i >= 0; i-- {
		want = append(want, log.Items[i].EventID)
	}
	var ids []string
	for _, g := range got {
		ids = append(ids, g.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("received ids (in order)\n%v\nwant the outbox's\n%v", ids, want)
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g.ID] {
			t.Errorf("event %s (%s) delivered twice", g.ID, g.Type)
		}
		seen[g.ID] = true
	}
	if got[0].Type != outbox.TypeRoomStarted || got[len(got)-1].Type != outbox.TypeRoomFinished {
		t.Errorf("first %s, last %s: want room.started first and room.finished last", got[0].Type, got[len(got)-1].Type)
	}
	started := slices.IndexFunc(got, func(g gotHook) bool { return g.Type == outbox.TypeRecordingStarted })
	completed := slices.IndexFunc(got, func(g gotHook) bool { return g.Type == outbox.TypeRecordingCompleted })
	if started < 0 || completed < started || count(got, outbox.TypeTrackPublished) < 2 {
		t.Errorf("recording.started at %d, completed at %d, %d tracks published: want both in order, and alice's two tracks",
			started, completed, count(got, outbox.TypeTrackPublished))
	}
	if j, l := count(got, outbox.TypeParticipantJoined), count(got, outbox.TypeParticipantLeft); j != 3 || l != 3 {
		t.Errorf("%d joined, %d left: want alice, bob and carol once each (the recorder is no participant)", j, l)
	}
	for _, who := range []string{alice, bob, carol} {
		joined := slices.IndexFunc(got, func(g gotHook) bool { return g.Type == outbox.TypeParticipantJoined && g.Identity == who })
		left := slices.IndexFunc(got, func(g gotHook) bool { return g.Type == outbox.TypeParticipantLeft && g.Identity == who })
		if joined < 0 || left < joined {
			t.Errorf("%s: joined at %d, left at %d: want both, joined first", who, joined, left)
		}
	}
	// The receiver saw its three refusals and each event once; the log also counts the
	// attempts of the down period, which never reached it.
	logged := 0
	for _, d := range log.Items {
		logged += d.Attempts
	}
	if attempts != len(got)+3 || logged < attempts+3 {
		t.Errorf("receiver saw %d attempts, the log counts %d, for %d events: want %d and at least %d",
			attempts, logged, len(got), len(got)+3, len(got)+6)
	}
	t.Logf("%d events delivered; %d attempts reached the receiver, %d in all: %v", len(got), attempts, logged, got)
}

// deliveries reads an endpoint's delivery log as the admin b.
func deliveries(b *browser, endpoint, query string, out *deliveryLog) {
	b.t.Helper()
	raw, _ := json.Marshal(b.must(200, "GET", "/api/admin/webhooks/"+endpoint+"/deliveries"+query, nil))
	*out = deliveryLog{}
	if err := json.Unmarshal(raw, out); err != nil {
		b.t.Fatal(err)
	}
}

func count(got []gotHook, typ string) int {
	n := 0
	for _, g := range got {
		if g.Type == typ {
			n++
		}
	}
	return n
}
