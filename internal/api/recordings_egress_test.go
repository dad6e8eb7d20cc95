package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/auth"
	lkp "github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
	"google.golang.org/protobuf/encoding/protojson"
)

// egressEnv is the real HTTP app with the real live state (webhook endpoint), the real room
// service and the recording service on the Egress backend.
type egressEnv struct {
	t      *testing.T
	app    *fiber.App
	key    string
	secret string
}

func newEgressEnv(t *testing.T, lkURL, key, secret string, eg recording.EgressAPI, callTimeout time.Duration) *egressEnv {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	g := dbtest.SQLite(t, room.Migrations(), live.Migrations(), recording.Migrations())
	liveSvc, err := live.New(live.Options{DB: g, APIKey: key, APISecret: secret, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { liveSvc.Close(context.Background()) })
	rc := livekit.NewRoomClient(lkURL, key, secret, nil, 0)
	rooms, err := room.New(room.Config{APIKey: key, APISecret: secret, URL: "ws://lk", TokenTTL: time.Minute,
		EmptyTimeout: time.Minute, DepartureTimeout: time.Second}, g, rc, liveKitState{LK: rc}, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := recording.NewFSStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.New(g, recording.Options{Storage: fs, CallTimeout: callTimeout, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	backend := recording.NewEgress(eg, rec, recording.EgressOptions{FileRoot: fs.Root(), Log: log})
	rec.SetBackend(backend, "")
	liveSvc.SetEgressSink(backend)
	if _, err := rooms.Create(context.Background(), room.Caller{UserID: "owner"}, room.Input{Name: ptr("standup")}); err != nil {
		t.Fatal(err)
	}
	d := testDeps()
	d.Rooms, d.Recordings, d.Live = rooms, recording.NewGuard(rec, recordingRooms{rooms}), liveSvc
	app := newTestApp(t, d)
	return &egressEnv{t: t, app: app, key: key, secret: secret}
}

func ptr[T any](v T) *T { return &v }

func (e *egressEnv) call(method, path, token string) roomResp {
	return (&roomEnv{t: e.t, app: e.app}).call(method, path, nil, token)
}

// webhook posts ev to /api/livekit/webhook signed as LiveKit signs it.
func (e *egressEnv) webhook(ev *lkp.WebhookEvent) int {
	e.t.Helper()
	body, err := protojson.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	token, _ := auth.NewAccessToken(e.key, e.secret).SetValidFor(5 * time.Minute).
		SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	req := httptest.NewRequest("POST", "/api/livekit/webhook", bytes.NewReader(body))
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/webhook+json")
	res, err := e.app.Test(req, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestEgressStartWithoutWorker: the real LiveKit, no egress worker: 503 egress_unavailable
// at the call timeout, and the room is free again.
func TestEgressStartWithoutWorker(t *testing.T) {
	lk := lktest.Start(t, lktest.Options{})
	if _, err := lksdk.NewRoomServiceClient(lk.HTTPURL, lk.APIKey, lk.APISecret).CreateRoom(context.Background(), &lkp.CreateRoomRequest{Name: "standup"}); err != nil {
		t.Fatal(err)
	}
	e := newEgressEnv(t, lk.HTTPURL, lk.APIKey, lk.APISecret, livekit.NewEgressClient(lk.HTTPURL, lk.APIKey, lk.APISecret, nil, 0), 2*time.Second)
	t0 := time.Now()
	r := e.call("POST", "/api/rooms/standup/recordings", "owner")
	took := time.Since(t0)
	if r.status != 503 || r.errCode() != "egress_unavailable" || took > 5*time.Second {
		t.Fatalf("got %d %s after %s", r.status, r.raw, took)
	}
	t.Logf("POST /api/rooms/standup/recordings without an egress worker: %d %s after %s", r.status, r.errCode(), took.Round(time.Millisecond))
	list := e.call("GET", "/api/recordings?room=standup", "owner")
	if items := list.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["status"] != "failed" {
		t.Fatalf("recordings: %s", list.raw)
	}
}

// scriptedEgress answers the Egress API as a cluster with a worker would, naming each
// egress after the recording id in its file path: the state then comes only from the
// webhooks the test sends.
type scriptedEgress struct{}

func (scriptedEgress) StartRoomCompositeEgress(ctx context.Context, req *lkp.RoomCompositeEgressRequest) (*lkp.EgressInfo, error) {
	id := strings.TrimSuffix(path.Base(req.GetFileOutputs()[0].GetFilepath()), ".mp4")
	return &lkp.EgressInfo{EgressId: "EG_" + id, RoomName: req.RoomName, Status: lkp.EgressStatus_EGRESS_STARTING,
		Request: &lkp.EgressInfo_RoomComposite{RoomComposite: req}}, nil
}
func (scriptedEgress) StopEgress(ctx context.Context, req *lkp.StopEgressRequest) (*lkp.EgressInfo, error) {
	return &lkp.EgressInfo{EgressId: req.EgressId, Status: lkp.EgressStatus_EGRESS_ENDING}, nil
}
func (scriptedEgress) ListEgress(ctx context.Context, req *lkp.ListEgressRequest) (*lkp.ListEgressResponse, error) {
	return &lkp.ListEgressResponse{}, nil
}

// TestEgressWebhooksThroughTheEndpoint drives recordings with signed protojson egress
// webhooks posted to the real /api/livekit/webhook, in every order.
func TestEgressWebhooksThroughTheEndpoint(t *testing.T) {
	e := newEgressEnv(t, "http://127.0.0.1:1", "devkey", "webhook-test-secret-0123456789-0123456789", scriptedEgress{}, 2*time.Second)
	const (
		S = lkp.EgressStatus_EGRESS_STARTING
		A = lkp.EgressStatus_EGRESS_ACTIVE
		E = lkp.EgressStatus_EGRESS_ENDING
		C = lkp.EgressStatus_EGRESS_COMPLETE
		F = lkp.EgressStatus_EGRESS_FAILED
	)
	name := map[lkp.EgressStatus]string{S: "egress_started", A: "egress_updated", E: "egress_updated", C: "egress_ended", F: "egress_ended"}
	for _, tc := range []struct {
		name  string
		seq   []lkp.EgressStatus
		retry bool // every webhook delivered twice with the same event id
		want  string
	}{
		{"in order", []lkp.EgressStatus{S, A, E, C}, false, "complete"},
		{"retried deliveries", []lkp.EgressStatus{S, A, E, C}, true, "complete"},
		{"repeated states, new event ids", []lkp.EgressStatus{S, S, A, A, C, C}, false, "complete"},
		{"ended before started", []lkp.EgressStatus{C, S, A, E}, false, "complete"},
		{"failed", []lkp.EgressStatus{S, A, F, C}, false, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := e.call("POST", "/api/rooms/standup/recordings", "owner")
			if started.status != 201 || started.body["status"] != "starting" {
				t.Fatalf("start: %d %s", started.status, started.raw)
			}
			id := started.body["id"].(string)
			rec := e.call("GET", "/api/recordings/"+id, "owner")
			startedAt, _ := time.Parse(time.RFC3339Nano, rec.body["startedAt"].(string))
			fp := recordingPath(id, startedAt)
			for i, s := range tc.seq {
				info := &lkp.EgressInfo{EgressId: "", RoomName: "standup", Status: s,
					Request: &lkp.EgressInfo_RoomComposite{RoomComposite: &lkp.RoomCompositeEgressRequest{
						RoomName: "standup", FileOutputs: []*lkp.EncodedFileOutput{{Filepath: fp}}}}}
				if s == C {
					info.FileResults = []*lkp.FileInfo{{Filename: fp, Size: 2048, Duration: int64(12 * time.Second)}}
				}
				if s == F {
					info.Error = "upload failed: bucket full"
				}
				info.EgressId = "EG_" + id
				ev := &lkp.WebhookEvent{Event: name[s], Id: fmt.Sprintf("EV_%s_%d", id, i), CreatedAt: time.Now().Unix(), EgressInfo: info}
				for range map[bool]int{false: 1, true: 2}[tc.retry] {
					if code := e.webhook(ev); code != 200 {
						t.Fatalf("%s: HTTP %d", ev.Event, code)
					}
				}
			}
			got := e.call("GET", "/api/recordings/"+id, "owner")
			if got.body["status"] != tc.want {
				t.Fatalf("got %s, want %s", got.raw, tc.want)
			}
			if tc.want == "complete" && (got.body["sizeBytes"] != 2048.0 || got.body["durationSeconds"] != 12.0 || got.body["fileURL"] == nil) {
				t.Fatalf("file details: %s", got.raw)
			}
			if tc.want == "failed" && got.body["error"] != "upload failed: bucket full" {
				t.Fatalf("reason: %s", got.raw)
			}
		})
	}
	if code := e.webhook(&lkp.WebhookEvent{Event: "egress_ended", Id: "EV_foreign", EgressInfo: &lkp.EgressInfo{EgressId: "EG_other", Status: C}}); code != 200 {
		t.Fatalf("foreign egress: HTTP %d", code)
	}
}

// recordingPath is the file path the egress backend asks for (FileRoot is irrelevant: the
// recording id is read from the base name).
func recordingPath(id string, startedAt time.Time) string {
	return "/recordings/" + recording.FileKey("standup", id, startedAt)
}
