package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// recBackend is a recording.Backend for the HTTP tests; the recording package's own tests
// run the real LiveKit Egress path.
type recBackend struct {
	name     string
	startErr error
}

func (b *recBackend) Name() string { return b.name }
func (b *recBackend) Start(ctx context.Context, req recording.StartRequest) (string, error) {
	if b.startErr != nil {
		return "", b.startErr
	}
	return "h-" + req.RecordingID, nil
}
func (b *recBackend) Stop(ctx context.Context, handle string) error { return nil }
func (b *recBackend) List(ctx context.Context) ([]recording.BackendRecording, error) {
	return nil, nil
}

// presigning is a storage that presigns (as S3 does), to test the redirect.
type presigning struct{ recording.Storage }

func (presigning) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	return "http://s3.test/bucket/" + key + "?X-Amz-Expires=" + fmt.Sprint(int(ttl.Seconds())), true, nil
}

type recEnv struct {
	*roomEnv
	rec *recording.Service
	be  *recBackend
	fs  *recording.FSStorage
}

func newRecEnv(t *testing.T, store func(*recording.FSStorage) recording.Storage) *recEnv {
	t.Helper()
	e := &recEnv{roomEnv: newRoomEnv(t), be: &recBackend{name: "builtin"}}
	fs, err := recording.NewFSStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.fs = fs
	var st recording.Storage = fs
	if store != nil {
		st = store(fs)
	}
	e.rec, err = recording.New(dbtest.SQLite(t, recording.Migrations()), recording.Options{Storage: st, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.SetBackend(e.be, "")
	d := testDeps()
	d.Rooms, d.Recordings = e.svc, recording.NewGuard(e.rec, recordingRooms{e.svc})
	e.app = newTestApp(t, d)
	e.seed("standup", room.Input{})
	e.seed("retro", room.Input{})
	return e
}

// complete finishes a recording with a file of the given content.
func (e *recEnv) complete(id, content string) {
	e.t.Helper()
	r, err := e.rec.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	key := recording.FileKey(r.Room, r.ID, r.StartedAt)
	if _, err := e.fs.Put(context.Background(), key, strings.NewReader(content), int64(len(content)), "video/mp4"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.rec.Report(context.Background(), recording.Update{RecordingID: id, Status: recording.StatusComplete, SizeBytes: int64(len(content))}); err != nil {
		e.t.Fatal(err)
	}
}

func TestRecordingAccessDecisions(t *testing.T) {
	e := newRecEnv(t, nil)
	// standup: owner "owner", moderator "mod"; "member" is only a participant; "stranger" nothing.
	start := e.call("POST", "/api/rooms/standup/recordings", nil, "member")
	if start.status != 403 {
		t.Fatalf("participant starts: %d %s", start.status, start.raw)
	}
	started := e.call("POST", "/api/rooms/standup/recordings", nil, "mod")
	if started.status != 201 || started.body["status"] != "starting" || started.body["startedBy"] != "mod" || started.body["backend"] != "builtin" {
		t.Fatalf("moderator starts: %d %s", started.status, started.raw)
	}
	id := started.body["id"].(string)
	live := e.call("POST", "/api/rooms/retro/recordings", nil, "owner").body["id"].(string)

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
		code                      string
	}{
		{"anonymous start", "POST", "/api/rooms/standup/recordings", "", nil, 401, ""},
		{"stranger start", "POST", "/api/rooms/standup/recordings", "stranger", nil, 403, "forbidden"},
		{"start in an unknown room", "POST", "/api/rooms/nope/recordings", "mod", nil, 404, "room_not_found"},
		{"second recording", "POST", "/api/rooms/standup/recordings", "owner", nil, 409, "already_recording"},
		{"admin second recording", "POST", "/api/rooms/standup/recordings", "admin", nil, 409, "already_recording"},
		{"start with unknown field", "POST", "/api/rooms/retro/recordings", "owner", map[string]any{"x": 1}, 400, "unknown_field"},
		{"owner lists", "GET", "/api/recordings?room=standup", "owner", nil, 200, ""},
		{"moderator lists", "GET", "/api/recordings?room=standup", "mod", nil, 200, ""},
		{"admin lists a room", "GET", "/api/recordings?room=standup", "admin", nil, 200, ""},
		{"admin lists all", "GET", "/api/recordings", "admin", nil, 200, ""},
		{"participant lists", "GET", "/api/recordings?room=standup", "member", nil, 403, "forbidden"},
		{"stranger lists", "GET", "/api/recordings?room=standup", "stranger", nil, 403, "forbidden"},
		{"user lists their rooms'", "GET", "/api/recordings", "owner", nil, 200, ""},
		{"list unknown room", "GET", "/api/recordings?room=nope", "owner", nil, 404, "room_not_found"},
		{"list bad limit", "GET", "/api/recordings?room=standup&limit=0", "owner", nil, 400, "invalid_field"},
		{"list bad cursor", "GET", "/api/recordings?room=standup&cursor=zzz", "owner", nil, 400, "invalid_field"},
		{"anonymous list", "GET", "/api/recordings?room=standup", "", nil, 401, ""},
		{"owner gets", "GET", "/api/recordings/" + id, "owner", nil, 200, ""},
		{"moderator gets", "GET", "/api/recordings/" + id, "mod", nil, 200, ""},
		{"admin gets", "GET", "/api/recordings/" + id, "admin", nil, 200, ""},
		{"participant gets", "GET", "/api/recordings/" + id, "member", nil, 403, "forbidden"},
		{"stranger gets", "GET", "/api/recordings/" + id, "stranger", nil, 403, "forbidden"},
		{"unknown id", "GET", "/api/recordings/nope", "admin", nil, 404, "recording_not_found"},
		{"stranger downloads", "GET", "/api/recordings/" + id + "/file", "stranger", nil, 403, "forbidden"},
		{"download while live", "GET", "/api/recordings/" + id + "/file", "owner", nil, 404, "file_not_found"},
		{"stranger stops", "POST", "/api/recordings/" + id + "/stop", "stranger", nil, 403, "forbidden"},
		{"participant stops", "POST", "/api/recordings/" + id + "/stop", "member", nil, 403, "forbidden"},
		{"moderator deletes", "DELETE", "/api/recordings/" + id, "mod", nil, 403, "forbidden"},
		{"stranger deletes", "DELETE", "/api/recordings/" + id, "stranger", nil, 403, "forbidden"},
		{"owner deletes live", "DELETE", "/api/recordings/" + id, "owner", nil, 409, "recording_live"},
		{"moderator stops", "POST", "/api/recordings/" + id + "/stop", "mod", nil, 200, ""},
		{"stop again", "POST", "/api/recordings/" + id + "/stop", "owner", nil, 200, ""},
		{"admin stops", "POST", "/api/recordings/" + live + "/stop", "admin", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.method, tc.path, tc.body, tc.token)
			if r.status != tc.want || (tc.code != "" && r.errCode() != tc.code) {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.want, tc.code)
			}
		})
	}
	if r := e.call("GET", "/api/recordings?room=standup", nil, "owner"); len(r.body["items"].([]any)) != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	e.complete(id, "0123456789")
	got := e.call("GET", "/api/recordings/"+id, nil, "owner")
	if got.body["status"] != "complete" || got.body["fileURL"] != "/api/recordings/"+id+"/file" || got.body["sizeBytes"] != 10.0 {
		t.Fatalf("complete recording: %s", got.raw)
	}
	if r := e.call("POST", "/api/recordings/"+id+"/stop", nil, "owner"); r.status != 409 || r.errCode() != "recording_not_live" {
		t.Fatalf("stop finished: %d %s", r.status, r.raw)
	}
	if r := e.call("DELETE", "/api/recordings/"+id, nil, "owner"); r.status != 204 {
		t.Fatalf("owner deletes: %d %s", r.status, r.raw)
	}
	if r := e.call("GET", "/api/recordings/"+id, nil, "owner"); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
	e.complete(live, "x")
	if r := e.call("DELETE", "/api/recordings/"+live, nil, "admin"); r.status != 204 {
		t.Fatalf("admin deletes: %d %s", r.status, r.raw)
	}
}

func TestRecordingStartFailures(t *testing.T) {
	e := newRecEnv(t, nil)
	e.be.name, e.be.startErr = "egress", errors.New("context deadline exceeded")
	if r := e.call("POST", "/api/rooms/standup/recordings", nil, "owner"); r.status != 503 || r.errCode() != "egress_unavailable" ||
		strings.Contains(r.raw, "deadline") {
		t.Fatalf("egress down: %d %s", r.status, r.raw)
	}
	e.be.name = "builtin"
	if r := e.call("POST", "/api/rooms/standup/recordings", nil, "owner"); r.status != 503 || r.errCode() != "recording_unavailable" {
		t.Fatalf("recorder down: %d %s", r.status, r.raw)
	}
	e.be.startErr = fmt.Errorf("no such room: %w", recording.ErrRoomNotActive)
	if r := e.call("POST", "/api/rooms/standup/recordings", nil, "owner"); r.status != 422 || r.errCode() != "room_not_active" {
		t.Fatalf("no meeting: %d %s", r.status, r.raw)
	}
	e.be.startErr = fmt.Errorf("alice publishes an encrypted track: %w", recording.ErrEncryptedRoom)
	if r := e.call("POST", "/api/rooms/standup/recordings", nil, "owner"); r.status != 409 || r.errCode() != "e2ee_room" ||
		!strings.Contains(r.raw, "cannot record encrypted media") {
		t.Fatalf("encrypted room: %d %s", r.status, r.raw)
	}
	e.rec.SetBackend(nil, "the built-in recorder is not available in this build")
	if r := e.call("POST", "/api/rooms/standup/recordings", nil, "owner"); r.status != 503 || r.errCode() != "recording_unavailable" {
		t.Fatalf("no backend: %d %s", r.status, r.raw)
	}
	// The failed starts are listed with their reasons; none holds the room.
	list := e.call("GET", "/api/recordings?room=standup", nil, "owner").body["items"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["status"] != "failed" || list[0].(map[string]any)["error"] == "" {
		t.Fatalf("failed starts: %v", list)
	}
}

func TestRecordingDownloadRanges(t *testing.T) {
	e := newRecEnv(t, nil)
	id := e.call("POST", "/api/rooms/standup/recordings", nil, "owner").body["id"].(string)
	content := "0123456789abcdefghij" // 20 bytes
	e.complete(id, content)
	for _, tc := range []struct {
		rng, want, contentRange string
		status                  int
	}{
		{"", content, "", 200},
		{"bytes=0-4", "01234", "bytes 0-4/20", 206},
		{"bytes=5-9", "56789", "bytes 5-9/20", 206},
		{"bytes=15-", "fghij", "bytes 15-19/20", 206},
		{"bytes=-3", "hij", "bytes 17-19/20", 206},
		{"bytes=-50", content, "bytes 0-19/20", 206},
		{"bytes=18-100", "ij", "bytes 18-19/20", 206},
		{"bytes=20-", "", "bytes */20", 416},
		{"bytes=9-3", "", "bytes */20", 416},
		{"bytes=abc", "", "bytes */20", 416},
		{"bytes=-0", "", "bytes */20", 416},
		{"bytes=0-1,5-6", content, "", 200},
		{"bytes=0-1,0-1,0-1,0-1", content, "", 200},
		{"bytes=3-99999999999999999999999", "3456789abcdefghij", "bytes 3-19/20", 206},
		{"bytes=-99999999999999999999999", content, "bytes 0-19/20", 206},
		{"bytes=99999999999999999999999-", "", "bytes */20", 416},
		{"bytes=+1-2", "", "bytes */20", 416},
		{"items=0-4", "", "bytes */20", 416},
	} {
		t.Run(tc.rng, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/recordings/"+id+"/file", nil)
			req.Header.Set("Authorization", "Bearer mod")
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			res, err := e.app.Test(req, 5000)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || res.Header.Get("Content-Range") != tc.contentRange {
				t.Fatalf("got %d (Content-Range %q) %s", res.StatusCode, res.Header.Get("Content-Range"), body)
			}
			if tc.status == 416 {
				if !strings.Contains(string(body), "range_not_satisfiable") {
					t.Fatalf("416 body: %s", body)
				}
				return
			}
			if string(body) != tc.want || res.Header.Get("Accept-Ranges") != "bytes" || res.Header.Get("Content-Type") != "video/mp4" {
				t.Fatalf("body %q, headers %v", body, res.Header)
			}
		})
	}
}

func TestRecordingDownloadRedirectsToPresignedURL(t *testing.T) {
	e := newRecEnv(t, func(fs *recording.FSStorage) recording.Storage { return presigning{fs} })
	id := e.call("POST", "/api/rooms/standup/recordings", nil, "owner").body["id"].(string)
	e.complete(id, "data")
	req := httptest.NewRequest("GET", "/api/recordings/"+id+"/file", nil)
	req.Header.Set("Authorization", "Bearer owner")
	res, err := e.app.Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != 302 || !strings.HasPrefix(loc, "http://s3.test/bucket/standup/") || !strings.Contains(loc, "X-Amz-Expires=300") {
		t.Fatalf("got %d, Location %q", res.StatusCode, loc)
	}
	if r := e.call("GET", "/api/recordings/"+id+"/file", nil, "stranger"); r.status != 403 {
		t.Fatalf("stranger: %d", r.status)
	}
}

// Lists show a recording's room by its title, which the room's random code cannot tell.
func TestRecordingsCarryTheRoomTitle(t *testing.T) {
	e := newRecEnv(t, nil)
	title := "Weekly planning"
	e.seed("planning", room.Input{Title: &title})
	id := e.call("POST", "/api/rooms/planning/recordings", nil, "owner").body["id"].(string)
	e.call("POST", "/api/rooms/standup/recordings", nil, "owner")

	list := e.call("GET", "/api/recordings", nil, "admin")
	got := map[string]any{}
	for _, it := range list.body["items"].([]any) {
		r := it.(map[string]any)
		got[r["room"].(string)] = r["roomTitle"]
	}
	if got["planning"] != title || got["standup"] != "standup" { // a room created without a title is titled by its name
		t.Fatalf("roomTitle by room: got %v, want planning=%q, standup=standup", got, title)
	}
	if one := e.call("GET", "/api/recordings/"+id, nil, "owner"); one.body["roomTitle"] != title {
		t.Fatalf("GET one: roomTitle %v, want %q (%s)", one.body["roomTitle"], title, one.raw)
	}
}
