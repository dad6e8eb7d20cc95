package doctor

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

// fakeLiveKit is a LiveKit RoomService of func fields; nil ones succeed.
type fakeLiveKit struct {
	list   func() error
	create func(name string) error
	mu     sync.Mutex
	delete []string
}

func (f *fakeLiveKit) ListRooms(context.Context, *lkp.ListRoomsRequest) (*lkp.ListRoomsResponse, error) {
	if f.list != nil {
		if err := f.list(); err != nil {
			return nil, err
		}
	}
	return &lkp.ListRoomsResponse{Rooms: []*lkp.Room{{Name: "a"}}}, nil
}

func (f *fakeLiveKit) CreateRoom(_ context.Context, req *lkp.CreateRoomRequest) (*lkp.Room, error) {
	if f.create != nil {
		if err := f.create(req.Name); err != nil {
			return nil, err
		}
	}
	return &lkp.Room{Name: req.Name}, nil
}

func (f *fakeLiveKit) DeleteRoom(_ context.Context, req *lkp.DeleteRoomRequest) (*lkp.DeleteRoomResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delete = append(f.delete, req.Room)
	return &lkp.DeleteRoomResponse{}, nil
}

func TestLiveKitAPI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status Status
		words  []string
	}{
		{"accepted", nil, Pass, []string{`accepts the API key "APIkey" (1 rooms open)`}},
		{"wrong key", twirp.NewError(twirp.Unauthenticated, "invalid token"), Fail, []string{`LiveKit rejected the API key "APIkey"`, "PARLEY_LIVEKIT_API_SECRET"}},
		{"unreachable", twirp.NewError(twirp.Unavailable, "connection refused"), Fail, []string{"does not answer", "livekit.internalHost (PARLEY_LIVEKIT_INTERNAL_HOST)"}},
		{"other", errors.New("boom"), Fail, []string{"boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{APIKey: "APIkey", LiveKitAPI: "http://127.0.0.1:7880"}, e: Env{LiveKit: &fakeLiveKit{list: func() error { return tc.err }}}}
			wantResult(t, d.checkLiveKitAPI(context.Background()), tc.status, tc.words...)
		})
	}
}

func TestWebhooks(t *testing.T) {
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	t.Run("the test room's webhook arrives", func(t *testing.T) {
		var mu sync.Mutex
		var last time.Time
		lk := &fakeLiveKit{create: func(string) error {
			mu.Lock()
			defer mu.Unlock()
			last = start.Add(40 * time.Millisecond) // LiveKit posts room_started
			return nil
		}}
		d := &doctor{e: Env{Now: func() time.Time { return start }, LiveKit: lk, WebhookWait: time.Minute,
			LastWebhook: func(context.Context) (time.Time, error) { mu.Lock(); defer mu.Unlock(); return last, nil }}}
		wantResult(t, d.checkWebhooks(context.Background()), Pass, "arrived after 40ms")
		if len(lk.delete) != 1 || !strings.HasPrefix(lk.delete[0], "parley-doctor-") {
			t.Errorf("test room not deleted: %v", lk.delete)
		}
	})
	t.Run("none arrives", func(t *testing.T) {
		lk := &fakeLiveKit{}
		d := &doctor{e: Env{Now: func() time.Time { return start }, LiveKit: lk, WebhookWait: 300 * time.Millisecond,
			LastWebhook: func(context.Context) (time.Time, error) { return start.Add(-time.Hour), nil }}}
		wantResult(t, d.checkWebhooks(context.Background()), Fail, "did not reach Parley within 300ms", "the last one arrived 1h0m0s ago", "failed to send webhook")
		if len(lk.delete) != 1 {
			t.Errorf("test room not deleted: %v", lk.delete)
		}
		d.t.External = true // then LiveKit's own config names where to post
		wantResult(t, d.checkWebhooks(context.Background()), Fail, "webhook.urls", "webhook.api_key")
	})
	t.Run("LiveKit refuses the test room", func(t *testing.T) {
		d := &doctor{e: Env{Now: time.Now, LiveKit: &fakeLiveKit{create: func(string) error { return twirp.NewError(twirp.Unauthenticated, "no") }},
			LastWebhook: func(context.Context) (time.Time, error) { return time.Time{}, nil }}}
		wantResult(t, d.checkWebhooks(context.Background()), Warn, "rejected the API key")
	})
	t.Run("the log cannot be read", func(t *testing.T) {
		d := &doctor{e: Env{Now: time.Now, LiveKit: &fakeLiveKit{},
			LastWebhook: func(context.Context) (time.Time, error) { return time.Time{}, errors.New("no such table") }}}
		wantResult(t, d.checkWebhooks(context.Background()), Fail, "no such table", "database.dsn")
	})
}

func TestChecksRunAndTable(t *testing.T) {
	embedded := Checks(Target{HTTPListen: ":80", TURN: TURN{Enabled: true, Domain: "turn.example.com", UDPPort: 3478, TLSAddr: "127.0.0.1:5349"}}, Env{})
	var names []string
	for _, c := range embedded {
		names = append(names, c.Name)
	}
	want := "DNS public name,node_ip,certificate,port server.listen,port server.httpListen,LiveKit API,LiveKit signalling,webhooks,port livekit.port," +
		"port livekit.rtc.tcpPort,UDP livekit.rtc range,DNS TURN name,TURN/UDP allocation,TURN/TLS allocation"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("checks:\n got %s\nwant %s", got, want)
	}
	if n := len(Checks(Target{External: true}, Env{})); n != 7 {
		t.Errorf("external LiveKit: %d checks, want 7 (no LiveKit ports, no TURN)", n)
	}

	rs := Run(context.Background(), []Check{
		{"slow", func(ctx context.Context) Result { time.Sleep(20 * time.Millisecond); return pass("done") }},
		{"bounded", func(ctx context.Context) Result { <-ctx.Done(); return fail("wait less", "timed out") }},
		{"fast", func(context.Context) Result { return warn("look", "multi\nline") }},
	}, 100*time.Millisecond)
	if rs[0].Check != "slow" || rs[1].Status != Fail || rs[2].Check != "fast" || !Failed(rs) || Failed(rs[:1]) {
		t.Fatalf("results: %+v", rs)
	}
	var b bytes.Buffer
	if err := WriteTable(&b, rs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "CHECK") || !strings.Contains(lines[1], "PASS") || !strings.HasSuffix(lines[1], "-") ||
		!strings.Contains(lines[3], "multi line") {
		t.Errorf("table:\n%s", b.String())
	}
}
