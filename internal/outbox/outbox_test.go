package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

// The test vector published with the Standard Webhooks specification's libraries.
func TestSignMatchesStandardWebhooks(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	now := time.Unix(1614265330, 0)
	if err := Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		"v1,bogus "+got, []byte(`{"test": 2432232314}`), now, 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		got, []byte(`{"test": 2432232315}`), now, 5*time.Minute); err == nil {
		t.Error("Verify accepted a changed body")
	}
}

// receiver records what a test endpoint was sent; fail decides the answer of each attempt.
type receiver struct {
	mu       sync.Mutex
	attempts []string // event ids, every attempt
	accepted []string // event ids answered 2xx
	types    []string
	fail     func(n int) bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var p struct{ Type string }
	_ = json.Unmarshal(body, &p)
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get("webhook-id")
	r.attempts = append(r.attempts, id)
	if r.fail != nil && r.fail(len(r.attempts)) {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	r.accepted, r.types = append(r.accepted, id), append(r.types, p.Type)
}

func (r *receiver) snapshot() (attempts, accepted, types []string) {
	r.mu.Lock()
	seen := map[string]bool{}
	for _, id := range r.accepted {
		if seen[id] {
			panic("event " + id + " accepted twice")
		}
		seen[id] = true
	}
	defer r.mu.Unlock()
	return append([]string(nil), r.attempts...), append([]string(nil), r.accepted...), append([]string(nil), r.types...)
}

func newService(t *testing.T, g *gorm.DB, o Options) *Service {
	t.Helper()
	o.DB, o.Log = g, slog.New(slog.DiscardHandler)
	if o.RetryBase == 0 {
		o.RetryBase, o.RetryMax = 10*time.Millisecond, 40*time.Millisecond
	}
	o.Poll = 10 * time.Millisecond
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Failures hold their room's queue: the first three attempts fail, and still every event
// arrives once, in order, and the delivery log says how many attempts it took.
func TestRetriesKeepRoomOrder(t *testing.T) {
	forEachDriver(t, retriesKeepRoomOrder)
}

func retriesKeepRoomOrder(t *testing.T, g *gorm.DB) {
	rcv := &receiver{fail: func(n int) bool { return n <= 3 }}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	s := newService(t, g, Options{})
	ep, err := s.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{TypeParticipantJoined, TypeParticipantLeft}})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, g, s, Event{Type: TypeParticipantJoined, Room: "a"}, Event{Type: TypeRoomStarted, Room: "a"})
	enqueue(t, g, s, Event{Type: TypeParticipantLeft, Room: "a"})
	run(t, s)
	waitFor(t, "two deliveries", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 2 })
	attempts, acc, types := rcv.snapshot()
	if types[0] != TypeParticipantJoined || types[1] != TypeParticipantLeft {
		t.Errorf("order %v, want joined then left (room.started was not subscribed)", types)
	}
	if len(attempts) != 5 || attempts[0] != acc[0] || attempts[3] != acc[0] {
		t.Errorf("attempts %v: want the first event 4 times, then the second", attempts)
	}
	// The receiver's answer comes before its record: wait for the log to say so.
	waitFor(t, "both recorded delivered", func() bool {
		d, _ := s.Deliveries(context.Background(), ep.ID, StatusDelivered, 0, 10)
		return len(d) == 2
	})
	log, err := s.Deliveries(context.Background(), ep.ID, "", 0, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("log %v %v", log, err)
	}
	if log[1].Attempts != 4 || log[1].Status != StatusDelivered || log[0].Attempts != 1 {
		t.Errorf("log attempts %d/%s and %d, want 4/delivered and 1", log[1].Attempts, log[1].Status, log[0].Attempts)
	}
}

// A receiver that keeps failing: the delivery is dead-lettered once its retry window is
// over, the room's next event goes on, and a replay sends the dead one again.
func TestDeadLetterAndReplay(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	var mu sync.Mutex
	down := true
	rcv := &receiver{fail: func(int) bool { mu.Lock(); defer mu.Unlock(); return down }}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	s := newService(t, g, Options{RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, RetryFor: 100 * time.Millisecond})
	ep, err := s.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{AllTypes}})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, g, s, Event{Type: TypeRoomStarted, Room: "a"})
	run(t, s)
	waitFor(t, "dead letter", func() bool {
		d, _ := s.Deliveries(context.Background(), ep.ID, StatusDead, 0, 10)
		return len(d) == 1
	})
	mu.Lock()
	down = false
	mu.Unlock()
	enqueue(t, g, s, Event{Type: TypeRoomFinished, Room: "a"})
	waitFor(t, "the next event", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 1 })
	dead, _ := s.Deliveries(context.Background(), ep.ID, StatusDead, 0, 10)
	if _, err := s.Replay(context.Background(), ep.ID, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replay", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 2 })
	_, acc, types := rcv.snapshot()
	if types[1] != TypeRoomStarted || acc[1] != dead[0].EventID {
		t.Errorf("replayed %s %s, want %s with its first id %s", types[1], acc[1], TypeRoomStarted, dead[0].EventID)
	}
	if _, err := s.SendTest(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the test event", func() bool { _, _, ty := rcv.snapshot(); return len(ty) == 3 && ty[2] == TypeTest })
}

// A receiver that never answers holds only its own queue: another endpoint's events, and
// the state changes that enqueue them, go on.
func TestHungReceiverHoldsOnlyItsQueue(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hung.Close()
	defer close(hang)
	rcv := &receiver{}
	ok := httptest.NewServer(rcv)
	defer ok.Close()
	s := newService(t, g, Options{Timeout: time.Minute})
	var hungID string
	for _, u := range []string{hung.URL, ok.URL} {
		ep, err := s.Register(context.Background(), NewEndpoint{URL: u, Events: []string{AllTypes}})
		if err != nil {
			t.Fatal(err)
		}
		if u == hung.URL {
			hungID = ep.ID
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	for i := 0; i < 20; i++ {
		enqueue(t, g, s, Event{Type: TypeParticipantJoined, Room: string(rune('a' + i))})
	}
	waitFor(t, "20 deliveries to the answering endpoint", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 20 })
	// Stopping cuts the attempts that hang (after stopGrace), long before their minute.
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return with attempts hanging on a receiver")
	}
	pending, _ := s.Deliveries(context.Background(), hungID, StatusPending, 0, 50)
	if len(pending) != 20 || pending[len(pending)-1].Attempts != 1 {
		t.Errorf("hung endpoint: %d pending deliveries after the stop, want all 20 (the cut attempt recorded as failed)", len(pending))
	}
}

func TestRegisterRefusesBadInput(t *testing.T) {
	s := newService(t, dbtest.SQLite(t, Migrations()), Options{})
	for _, n := range []NewEndpoint{
		{URL: "ftp://x", Events: []string{AllTypes}},
		{URL: "http://u:p@host/", Events: []string{AllTypes}},
		{URL: "http://host/", Events: nil},
		{URL: "http://host/", Events: []string{"room.exploded"}},
		{URL: "http://host/", Events: []string{AllTypes}, Secret: "plain"},
	} {
		if _, err := s.Register(context.Background(), n); err == nil {
			t.Errorf("Register(%+v) accepted", n)
		}
	}
}

// Two instances on one database: one delivers at a time (the lease), every event arrives
// once, and when the holder stops the other takes over.
func TestOneWorkerAcrossInstances(t *testing.T) {
	forEachDriver(t, func(t *testing.T, g *gorm.DB) {
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		a := newService(t, g, Options{Instance: "a", Timeout: time.Second})
		b := newService(t, g, Options{Instance: "b", Timeout: time.Second})
		if _, err := a.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{AllTypes}}); err != nil {
			t.Fatal(err)
		}
		if err := b.reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, stopA := context.WithCancel(context.Background())
		doneA := make(chan struct{})
		go func() { _ = a.Run(ctx); close(doneA) }()
		run(t, b)
		for i := 0; i < 30; i++ {
			svc := a
			if i%2 == 1 {
				svc = b
			}
			enqueue(t, g, svc, Event{Type: TypeParticipantJoined, Room: string(rune('a' + i%5))})
		}
		waitFor(t, "30 deliveries", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 30 })
		stopA()
		<-doneA
		enqueue(t, g, b, Event{Type: TypeRoomFinished, Room: "z"})
		waitFor(t, "the event after the first holder stopped", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 31 })
	})
}

// TestPayloadMatchesEncodingJSON: the hand-written payload is byte for byte what
// encoding/json makes of the same event, awkward strings and non-string values included.
func TestPayloadMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600))
	for _, ev := range []Event{
		{Type: TypeParticipantJoined, Room: "r", At: at, Data: map[string]any{"identity": "a\"b\\c<d>&e\n\t\x01\u2028\u2029é\xff", "sid": "PA_1", "room": "ignored"}},
		{Type: TypeRecordingCompleted, At: at, Data: map[string]any{"recording": map[string]any{"id": "x", "size": 3}, "n": 1.5, "ok": true, "nil": nil, "room": "kept"}},
		{Type: TypeParticipantLeft, Room: "r", Identity: "alice", At: at, Data: map[string]any{"identity": "replaced", "zeta": "z", "a": "1"}},
		{Type: TypeTest, At: at},
	} {
		got, err := payload(ev)
		if err != nil {
			t.Fatal(err)
		}
		data := map[string]any{}
		for k, v := range ev.Data {
			data[k] = v
		}
		if ev.Room != "" {
			data["room"] = ev.Room
		}
		if ev.Identity != "" {
			data["identity"] = ev.Identity
		}
		want, _ := json.Marshal(map[string]any{"type": ev.Type, "timestamp": at.UTC().Format(time.RFC3339Nano), "data": data})
		if string(got) != string(want) {
			t.Errorf("payload\n got %s\nwant %s", got, want)
		}
	}
}

// Attempts in flight to one endpoint (up to PerEndpoint, one per room) keep their
// connections for the next events: a receiver behind TLS would otherwise pay a handshake
// for most of them (net/http keeps two idle connections per host unless told otherwise).
// Events come in bursts of one per room, each delivered before the next burst.
func TestDeliveriesReuseConnections(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	var conns atomic.Int64
	rcv := &receiver{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // a burst's attempts overlap
		rcv.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s := newService(t, g, Options{PerEndpoint: 4})
	if _, err := s.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{AllTypes}}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	const rooms, bursts = 4, 8
	for b := range bursts {
		for r := range rooms {
			enqueue(t, g, s, Event{Type: TypeParticipantJoined, Room: fmt.Sprintf("room-%d", r)})
		}
		waitFor(t, "the burst's deliveries", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == (b+1)*rooms })
	}
	if n := conns.Load(); n > rooms {
		t.Errorf("%d connections for %d bursts of %d deliveries at once, want at most %d", n, bursts, rooms, rooms)
	}
}

// An endpoint registered after an event was written does not get it, even though the
// event was still waiting for its fan-out; the endpoint there at the time does.
func TestEndpointGetsOnlyEventsOfItsLifetime(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	clock := time.Now()
	s := newService(t, g, Options{Now: func() time.Time { return clock }})
	before, after := &receiver{}, &receiver{}
	for _, r := range []*receiver{before, after} {
		srv := httptest.NewServer(r)
		defer srv.Close()
		if _, err := s.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{AllTypes}}); err != nil {
			t.Fatal(err)
		}
		if r == before {
			enqueue(t, g, s, Event{Type: TypeRoomStarted, Room: "r"})
			clock = clock.Add(time.Millisecond)
		}
	}
	enqueue(t, g, s, Event{Type: TypeRoomFinished, Room: "r"})
	run(t, s)
	waitFor(t, "both events at the first endpoint", func() bool { _, acc, _ := before.snapshot(); return len(acc) == 2 })
	waitFor(t, "the second event at the second endpoint", func() bool { _, acc, _ := after.snapshot(); return len(acc) >= 1 })
	time.Sleep(100 * time.Millisecond) // ten polls: anything else would have been sent
	if _, _, types := after.snapshot(); len(types) != 1 || types[0] != TypeRoomFinished {
		t.Fatalf("the endpoint registered after room.started was sent %v, want only room.finished", types)
	}
}
