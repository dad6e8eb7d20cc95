package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// fuzzRoutes are every JSON route of routes.go; {r} is a room name, {i} an identity or an
// id, each replaced by a fuzzed segment (or a seeded room, recording or user).
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/auth/register"}, {"POST", "/api/auth/login"}, {"POST", "/api/auth/refresh"},
	{"POST", "/api/auth/logout"}, {"GET", "/api/auth/me"}, {"PUT", "/api/auth/password"},
	{"POST", "/api/rooms"}, {"GET", "/api/rooms"}, {"GET", "/api/rooms/{r}"}, {"PATCH", "/api/rooms/{r}"},
	{"DELETE", "/api/rooms/{r}"}, {"POST", "/api/rooms/{r}/join"}, {"GET", "/api/rooms/{r}/participants"},
	{"POST", "/api/rooms/{r}/invite-code"}, {"POST", "/api/rooms/{r}/participants/{i}/kick"},
	{"POST", "/api/rooms/{r}/participants/{i}/mute"}, {"PUT", "/api/rooms/{r}/participants/{i}/permissions"},
	{"POST", "/api/rooms/{r}/moderators/{i}"}, {"DELETE", "/api/rooms/{r}/moderators/{i}"},
	{"POST", "/api/rooms/{r}/end"}, {"POST", "/api/livekit/webhook"}, {"GET", "/api/rooms/{r}/events"},
	{"POST", "/api/rooms/{r}/recordings"}, {"GET", "/api/recordings"}, {"GET", "/api/recordings/{i}"},
	{"POST", "/api/recordings/{i}/stop"}, {"GET", "/api/recordings/{i}/file"}, {"DELETE", "/api/recordings/{i}"},
	{"GET", "/api/admin/overview"}, {"GET", "/api/admin/rooms"}, {"GET", "/api/admin/users"},
	{"PATCH", "/api/admin/users/{i}"}, {"GET", "/api/admin/events"}, {"GET", "/healthz"}, {"GET", "/readyz"},
}

var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"}

// fuzzAuth is the real auth service with roomAuth's tokens (a token is the user's id), so
// fuzzed requests reach the room and recording rules as any kind of caller.
type fuzzAuth struct{ *auth.Service }

func (fuzzAuth) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	return roomAuth{}.Authenticate(ctx, token)
}

// fuzzLive is the real live state whose event streams end at once (a test request must
// finish): Subscribe hands out a closed channel.
type fuzzLive struct{ *live.Service }

func (fuzzLive) Subscribe(int) (<-chan live.Event, func()) {
	ch := make(chan live.Event)
	close(ch)
	return ch, func() {}
}

func fuzzDeps(t testing.TB) Deps {
	e := &roomEnv{lk: &fakeLiveKit{participants: map[string]*livekit.ParticipantInfo{}}, live: &fakeLive{joined: map[string][]string{}}}
	rooms, err := room.New(room.Config{APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", URL: "ws://lk",
		TokenTTL: 10 * time.Minute, EmptyTimeout: 5 * time.Minute, DepartureTimeout: 20 * time.Second},
		dbtest.SQLite(t, room.Migrations()), e.lk, e.live, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"standup", "open"} {
		yes := name == "open"
		if _, err := rooms.Create(context.Background(), room.Caller{UserID: "owner"},
			room.Input{Name: &name, Public: &yes, AllowGuests: &yes, Moderators: &[]string{"mod"}}); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := recording.NewFSStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.New(dbtest.SQLite(t, recording.Migrations()), recording.Options{Storage: fs, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec.SetBackend(&recBackend{name: "builtin"}, "")
	lv, err := live.New(live.Options{DB: dbtest.SQLite(t, live.Migrations()), APIKey: "k",
		APISecret: "secret-secret-secret-secret-secret-00", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lv.Close(context.Background()) })
	d := testDeps()
	d.Auth = fuzzAuth{authtest.Service(t, dbtest.SQLite(t, auth.Migrations()), time.Now)}
	d.Rooms, d.Live, d.Recordings = rooms, fuzzLive{lv}, recording.NewGuard(rec, recordingRooms{rooms})
	d.HTTP.BodyLimit = 64 << 10
	d.HTTP.Metrics.Public = true
	return d
}

// leaks are what no error message may carry: Go type names and server paths.
var leaks = []string{"Go struct", "Go value", "*bool", "*int", "*string", "api.", "room.", "auth.", "recording.",
	"/tmp/", "/work/", "/root/", ".go:", "goroutine", "runtime error", "nil pointer"}

// FuzzRoutes sends every JSON route random bodies, headers, methods, path segments and
// queries as every kind of caller: no answer is a 5xx (a panic is answered 500), and no
// error names a Go type or a server path. `go test` runs the seeds; make test adds a short
// `-fuzz` run.
func FuzzRoutes(f *testing.F) {
	for i := range fuzzRoutes {
		for _, body := range []string{"", "{}", "null", "[]", `{"name":"x","maxParticipants":-1}`, `{"ban":true,"reason":1}`,
			`{"email":"a@example.com","password":"password-123","name":"A"}`, `{"source":"camera","muted":true}`,
			`{"canPublishSources":["nope"]}`, `{"role":"admin","disabled":"yes"}`, `{"displayName":"` + strings.Repeat("é", 300) + `"}`,
			`{"a":` + strings.Repeat("[", 5000) + `}`, "\x00\xff"} {
			f.Add(uint8(i), uint8(255), "standup", "target", body, "application/json", "owner", "", "")
		}
	}
	f.Add(uint8(8), uint8(255), "../../etc/passwd", "%00", "{}", "application/json", "admin", "limit=-1&cursor=%ff", "Range: bytes=0-1,2-3")
	f.Add(uint8(26), uint8(255), "standup", "x", "", "", "admin", "", "Range: bytes=99999999999999999999-")
	f.Add(uint8(11), uint8(255), "open", "", `{"displayName":"G","inviteCode":"x"}`, "application/json; charset=utf-8", "", "", "X-Forwarded-For: junk, ::1")
	f.Add(uint8(7), uint8(1), "standup", "", "{", "text/plain", "disabled", "days=999999999999", "Authorization: Basic Zm9v")
	f.Add(uint8(28), uint8(255), "", "", "", "", "admin", "days=-5", "")
	f.Add(uint8(31), uint8(255), "", "", "", "", "admin", "q=%&limit=1000000", "")
	f.Add(uint8(20), uint8(255), "", "", `{"event":"room_started"}`, "application/webhook+json", "", "", "Authorization: eyJ.x.y")

	deps := fuzzDeps(f)
	app := newTestApp(f, deps)
	f.Fuzz(func(t *testing.T, route, method uint8, seg1, seg2, body, ctype, token, query, header string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		m := rt.method
		if int(method) < len(fuzzMethods) {
			m = fuzzMethods[method]
		}
		path := strings.NewReplacer("{r}", url.PathEscape(seg1), "{i}", url.PathEscape(seg2)).Replace(rt.path)
		if query != "" {
			path += "?" + query
		}
		req, err := http.NewRequest(m, "http://parley.test"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a request a client could send
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if name, value, ok := strings.Cut(header, ": "); ok && validHeader(name, value) {
			req.Header.Set(name, value)
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("%s %s: %v", m, path, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (body %q, token %q, %q): %d %s", m, path, body, token, header, res.StatusCode, raw)
		}
		if res.StatusCode >= 400 {
			sent := strings.Join([]string{seg1, seg2, body, ctype, token, query, header}, "\n")
			for _, l := range leaks {
				// A message may echo what the client sent; only what it did not send is a leak.
				if bytes.Contains(raw, []byte(l)) && !strings.Contains(sent, l) {
					t.Fatalf("%s %s: error leaks %q: %s", m, path, l, raw)
				}
			}
		}
	})
}

// validHeader keeps to what net/http would put on the wire.
func validHeader(name, value string) bool {
	if name == "" || strings.ContainsAny(name, " \t\r\n:()<>@,;\\\"/[]?={}") || strings.ContainsAny(value, "\r\n\x00") {
		return false
	}
	for _, r := range name + value {
		if r < 0x20 && r != '\t' || r > 0x7e {
			return false
		}
	}
	return true
}
