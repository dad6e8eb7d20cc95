package recording

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/webhook"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/db/dbtest"
	parleylk "github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/twitchtv/twirp"
)

const (
	whKey    = "devkey"
	whSecret = "lktest-secret-0123456789-0123456789-abcd"
)

// signedPost sends ev the way LiveKit does (lktest.SignWebhook).
func signedPost(t *testing.T, url string, ev *livekit.WebhookEvent) int {
	t.Helper()
	body, authz := lktest.SignWebhook(t, whKey, whSecret, ev)
	code := lktest.PostWebhook(http.DefaultClient, url, body, authz)
	if code == 0 {
		t.Fatalf("post %s: no answer", url)
	}
	return code
}

// sinkServer verifies and decodes webhooks with the protocol's own receiver and hands
// egress events to the sink, as the live work's endpoint does.
func sinkServer(t *testing.T, e *Egress) string {
	keys := auth.NewSimpleKeyProvider(whKey, whSecret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := webhook.ReceiveWebhookEvent(r, keys)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if strings.HasPrefix(ev.GetEvent(), "egress_") {
			if err := e.HandleEgress(r.Context(), ev.GetEgressInfo()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type egressHarness struct {
	svc  *Service
	eg   *Egress
	url  string
	seen map[string]int
}

func newEgressHarness(t *testing.T, api EgressAPI, callTimeout time.Duration) *egressHarness {
	fs, err := NewFSStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(dbtest.SQLite(t, Migrations()), Options{Storage: fs, CallTimeout: callTimeout})
	if err != nil {
		t.Fatal(err)
	}
	eg := NewEgress(api, svc, EgressOptions{FileRoot: fs.Root()})
	svc.SetBackend(eg, "")
	return &egressHarness{svc: svc, eg: eg, url: sinkServer(t, eg)}
}

// seedEgress makes a recording as Start would have, with handle (possibly empty: the
// webhook overtook StartRoomCompositeEgress's answer).
func (h *egressHarness) seedEgress(t *testing.T, id, room, handle string) {
	t.Helper()
	now := time.Now().UTC()
	if err := h.svc.st.insert(context.Background(), Recording{ID: id, Room: room, Backend: "egress", Handle: handle,
		Status: StatusStarting, StartedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func (h *egressHarness) info(id, room, egressID string, s livekit.EgressStatus) *livekit.EgressInfo {
	fp := h.eg.filepath(FileKey(room, id, time.Now()))
	info := &livekit.EgressInfo{EgressId: egressID, RoomName: room, Status: s,
		Request: &livekit.EgressInfo_RoomComposite{RoomComposite: &livekit.RoomCompositeEgressRequest{
			RoomName: room, FileOutputs: []*livekit.EncodedFileOutput{{Filepath: fp}}}}}
	switch s {
	case livekit.EgressStatus_EGRESS_COMPLETE:
		info.FileResults = []*livekit.FileInfo{{Filename: fp, Size: 123456, Duration: int64(61500 * time.Millisecond), Location: fp}}
		info.EndedAt = time.Now().UnixNano()
	case livekit.EgressStatus_EGRESS_FAILED:
		info.Error = "pipeline: no space left on device"
	}
	return info
}

var egressEvent = map[livekit.EgressStatus]string{
	livekit.EgressStatus_EGRESS_STARTING: "egress_started", livekit.EgressStatus_EGRESS_ACTIVE: "egress_updated",
	livekit.EgressStatus_EGRESS_ENDING: "egress_updated", livekit.EgressStatus_EGRESS_COMPLETE: "egress_ended",
	livekit.EgressStatus_EGRESS_FAILED: "egress_ended", livekit.EgressStatus_EGRESS_ABORTED: "egress_ended",
}

// send delivers one egress webhook; a retry reuses the event id, like LiveKit's.
func (h *egressHarness) send(t *testing.T, id, room, egressID string, s livekit.EgressStatus) {
	t.Helper()
	ev := &livekit.WebhookEvent{Event: egressEvent[s], Id: fmt.Sprintf("EV_%s_%d", egressID, s),
		CreatedAt: time.Now().Unix(), EgressInfo: h.info(id, room, egressID, s)}
	if code := signedPost(t, h.url, ev); code != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", ev.Event, s, code)
	}
}

func TestEgressWebhooksInEveryOrder(t *testing.T) {
	const (
		S = livekit.EgressStatus_EGRESS_STARTING
		A = livekit.EgressStatus_EGRESS_ACTIVE
		E = livekit.EgressStatus_EGRESS_ENDING
		C = livekit.EgressStatus_EGRESS_COMPLETE
		F = livekit.EgressStatus_EGRESS_FAILED
		X = livekit.EgressStatus_EGRESS_ABORTED
	)
	h := newEgressHarness(t, nil, time.Second)
	for i, tc := range []struct {
		name      string
		handle    bool // the handle was saved before the first webhook
		seq       []livekit.EgressStatus
		want      Status
		wantError string
	}{
		{"in order", true, []livekit.EgressStatus{S, A, E, C}, StatusComplete, ""},
		{"every event twice", true, []livekit.EgressStatus{S, S, A, A, E, E, C, C}, StatusComplete, ""},
		{"ended before started", true, []livekit.EgressStatus{C, S, A, E}, StatusComplete, ""},
		{"updated before started", true, []livekit.EgressStatus{A, S, C, A}, StatusComplete, ""},
		{"webhooks overtake the start answer", false, []livekit.EgressStatus{S, A, C}, StatusComplete, ""},
		{"failed", true, []livekit.EgressStatus{S, A, F, C, F}, StatusFailed, "no space left on device"},
		{"aborted before started", true, []livekit.EgressStatus{X, S, A}, StatusAborted, "LiveKit aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, room, egressID := fmt.Sprintf("rec-%d", i), fmt.Sprintf("room-%d", i), fmt.Sprintf("EG_%d", i)
			handle := ""
			if tc.handle {
				handle = egressID
			}
			h.seedEgress(t, id, room, handle)
			for _, s := range tc.seq {
				h.send(t, id, room, egressID, s)
			}
			r, err := h.svc.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want || !strings.Contains(r.Error, tc.wantError) || r.Handle != egressID {
				t.Fatalf("got %s (error %q, handle %q), want %s (%q)", r.Status, r.Error, r.Handle, tc.want, tc.wantError)
			}
			if tc.want == StatusComplete {
				if r.SizeBytes != 123456 || r.DurationSeconds != 61.5 || r.FileKey != FileKey(room, id, r.StartedAt) {
					t.Fatalf("file details: size %d, duration %v, key %q", r.SizeBytes, r.DurationSeconds, r.FileKey)
				}
			}
		})
	}
	t.Run("an egress Parley did not start is acknowledged", func(t *testing.T) {
		h.send(t, "not-ours", "x", "EG_foreign", C)
	})
	t.Run("a bad signature is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.url, strings.NewReader(`{"event":"egress_ended"}`))
		req.Header.Set("Authorization", "Bearer nope")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v %v", resp.StatusCode, err)
		}
	})
}

// TestEgressAgainstLiveKit: the real LiveKit answers the Egress API, with no egress worker
// on this machine. Start must give up at the call timeout with ErrBackendUnavailable. It
// talks to LiveKit through the client Parley wires in production (internal/livekit), which
// does not hand its deadline to LiveKit: lksdk's client does (X-Twirp-Timeout-Ms), and then
// LiveKit's own copy of the deadline races the caller's (see describeEgressError).
func TestEgressAgainstLiveKit(t *testing.T) {
	lk := lktest.Start(t, lktest.Options{})
	ctx := context.Background()
	rooms := lksdk.NewRoomServiceClient(lk.HTTPURL, lk.APIKey, lk.APISecret)
	if _, err := rooms.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: "standup"}); err != nil {
		t.Fatal(err)
	}
	h := newEgressHarness(t, parleylk.NewEgressClient(lk.HTTPURL, lk.APIKey, lk.APISecret, nil, 0), 1500*time.Millisecond)

	t0 := time.Now()
	_, err := h.svc.Start(ctx, StartParams{Room: "standup", StartedBy: "u1"})
	took := time.Since(t0)
	if !errors.Is(err, ErrBackendUnavailable) || !strings.Contains(err.Error(), "no egress worker answered in time") {
		t.Fatalf("start: %v", err)
	}
	// LiveKit's own retries for a worker last longer than 1.5 s: the call timeout ended it.
	if !errors.Is(err, context.DeadlineExceeded) || took < 1400*time.Millisecond {
		t.Fatalf("start gave up after %s with %v, want the 1.5 s call timeout", took, err)
	}
	t.Logf("start without an egress worker failed after %s: %v", took, err)
	list, _, _ := h.svc.List(ctx, Filter{Room: "standup"})
	if len(list) != 1 || list[0].Status != StatusFailed || !strings.Contains(list[0].Error, "could not start") {
		t.Fatalf("recordings: %+v", list)
	}

	// A room without a meeting: LiveKit says not found at once, nothing is recorded.
	if _, err := h.svc.Start(ctx, StartParams{Room: "empty"}); !errors.Is(err, ErrRoomNotActive) {
		t.Fatalf("start in a room without a meeting: %v", err)
	}
	// Stop and List against LiveKit without egress: reported, nothing changes.
	h.seedEgress(t, "live-1", "other", "EG_unknown")
	if err := h.svc.Reconcile(ctx); err == nil {
		t.Fatal("reconcile must report that LiveKit cannot list egresses")
	}
	if r, _ := h.svc.Get(ctx, "live-1"); r.Status != StatusStarting {
		t.Fatalf("a failed listing changed the recording: %s", r.Status)
	}
	if err := h.eg.Stop(ctx, "EG_unknown"); err == nil {
		t.Fatal("stop of an unknown egress must fail")
	}
}

// stopAPI answers StopEgress with a fixed error.
type stopAPI struct {
	EgressAPI
	err error
}

func (s stopAPI) StopEgress(ctx context.Context, req *livekit.StopEgressRequest) (*livekit.EgressInfo, error) {
	return nil, s.err
}

func TestEgressStopErrors(t *testing.T) {
	for _, tc := range []struct {
		err     error
		unknown bool
		ok      bool
	}{
		{nil, false, true},
		{twirp.NotFoundError("egress not found"), true, false},
		{twirp.NewError(twirp.FailedPrecondition, "egress is not active"), false, true}, // already ending: the webhook says how it ended
		{twirp.NewError(twirp.Unavailable, "livekit down"), false, false},
	} {
		err := NewEgress(stopAPI{err: tc.err}, nil, EgressOptions{}).Stop(context.Background(), "EG_1")
		if (err == nil) != tc.ok || errors.Is(err, ErrUnknownHandle) != tc.unknown {
			t.Errorf("StopEgress error %v: got %v", tc.err, err)
		}
	}
}

// startAPI answers StartRoomCompositeEgress with a fixed error.
type startAPI struct {
	EgressAPI
	err error
}

func (s startAPI) StartRoomCompositeEgress(ctx context.Context, req *livekit.RoomCompositeEgressRequest) (*livekit.EgressInfo, error) {
	return nil, s.err
}

// TestEgressStartGaveUpInLiveKit: LiveKit ending the wait for a worker at a deadline the
// client passed it ("request canceled" before the caller's own context ends) is the call
// timeout, not an unknown failure.
func TestEgressStartGaveUpInLiveKit(t *testing.T) {
	for _, lkErr := range []error{
		twirp.NewError(twirp.Canceled, "twirp error unknown: request canceled"),
		twirp.NewError(twirp.DeadlineExceeded, "request timed out"),
	} {
		_, err := NewEgress(startAPI{err: lkErr}, nil, EgressOptions{}).Start(context.Background(), StartRequest{Room: "standup", FileKey: "k"})
		if err == nil || !strings.Contains(err.Error(), "no egress worker answered in time") {
			t.Errorf("LiveKit answered %v: got %v, want the call-timeout explanation", lkErr, err)
		}
	}
}
