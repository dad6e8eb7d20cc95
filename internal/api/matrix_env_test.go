package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/api/openapitest"
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/outbox"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
	"gorm.io/gorm"
)

// The authorization matrix runs on the real auth, room, live and recording services over a
// real listener (an event stream never ends, so app.Test could not answer it): only
// LiveKit, the room service's view of who is connected, and the recorder are fakes.

// callers are the matrix's columns, in order.
var callers = [...]string{"anonymous", "guest", "user", "participant", "moderator", "owner", "admin", "disabled", "recreator"}

// retryingBackend is a recorder that can compose a failed recording again.
type retryingBackend struct{ recBackend }

func (retryingBackend) Retry(context.Context, string) error { return nil }

type matrixEnv struct {
	t            *testing.T
	base         string
	app          *fiber.App
	auth         *auth.Service
	rooms        *room.Service
	rec          *recording.Service
	fs           *recording.FSStorage
	lk           *fakeLiveKit
	seen         *fakeLive
	ids          map[string]string // caller -> user id
	token        map[string]string // caller -> access token
	guest        string            // the guest's parley_guest cookie
	hook         string            // a registered webhook endpoint, and one of its deliveries
	hookDelivery string
	audit        *audit.Log
	keys         *apikey.Service
	db           *gorm.DB
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	g := dbtest.SQLite(t, auth.Migrations(), room.Migrations(), live.Migrations(), recording.Migrations(),
		apikey.Migrations(), audit.Migrations(), outbox.Migrations())
	e := &matrixEnv{t: t, auth: authtest.Service(t, g, nil), ids: map[string]string{}, token: map[string]string{},
		lk: &fakeLiveKit{participants: map[string]*livekit.ParticipantInfo{}}, seen: &fakeLive{joined: map[string][]string{}}}
	var err error
	lv, err := live.New(live.Options{DB: g, APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lv.CloseSubscribers)
	if e.rooms, err = room.New(room.Config{APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", URL: "ws://lk",
		TokenTTL: time.Minute, DepartureTimeout: 20 * time.Second}, g, e.lk, e.seen, slog.New(slog.DiscardHandler), time.Now); err != nil {
		t.Fatal(err)
	}
	if err := e.rooms.UseBreakouts(breakoutFakes()); err != nil {
		t.Fatal(err)
	}
	if e.fs, err = recording.NewFSStorage(t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	if e.rec, err = recording.New(g, recording.Options{Storage: e.fs, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	e.rec.SetBackend(&retryingBackend{recBackend{name: "builtin"}}, "")
	// The outbound webhooks, real but with no worker: nothing is delivered.
	hooks, err := outbox.New(outbox.Options{DB: g, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := hooks.Register(context.Background(), outbox.NewEndpoint{URL: "http://127.0.0.1:9/hooks", Events: []string{outbox.AllTypes}})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := hooks.SendTest(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.hook, e.hookDelivery = ep.ID, strconv.FormatInt(dl.ID, 10)
	d := testDeps()
	d.Auth, d.Rooms, d.Live, d.Recordings = e.auth, e.rooms, lv, recording.NewGuard(e.rec, recordingRooms{e.rooms})
	d.Webhooks = hooks
	if e.keys, err = apikey.New(g, []byte(strings.Repeat("k", 32)), nil); err != nil {
		t.Fatal(err)
	}
	d.Keys, e.db = e.keys, g
	// Single sign-on with no provider and password reset with no SMTP: what a default
	// install runs.
	d.SSO = auth.NewSSO(e.auth, nil, "http://parley.test", nil)
	d.Recovery = auth.NewRecovery(e.auth, nil, "http://parley.test")
	if d.Passkeys, err = auth.NewPasskeys(e.auth, "http://parley.test"); err != nil {
		t.Fatal(err)
	}
	e.audit = audit.New(g, nil, nil)
	d.Audit = e.audit
	e.app = newTestApp(t, d) // for its route list
	e.base = serveApp(t, d)

	for _, c := range callers[2:] {
		grant := authtest.User(t, e.auth, c+"@example.com", c == "admin")
		e.ids[c], e.token[c] = grant.User.ID, grant.AccessToken
	}
	off := true
	if _, err := e.auth.UpdateUser(context.Background(), e.ids["disabled"], auth.UserPatch{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	// The guest is a browser that joined a room open to guests and keeps its cookie.
	yes := true
	e.createRoom("owner", "lobby", room.Input{Public: &yes, AllowGuests: &yes})
	res := e.do("POST", "/api/rooms/lobby/join", map[string]any{"displayName": "Visitor"}, "anonymous")
	for _, ck := range res.cookies {
		if ck.Name == GuestCookie {
			e.guest = ck.Value
		}
	}
	if res.status != 200 || e.guest == "" {
		t.Fatalf("guest join: %d %s (cookie %q)", res.status, res.raw, e.guest)
	}
	return e
}

func (e *matrixEnv) createRoom(owner, name string, in room.Input) {
	e.t.Helper()
	in.Name = &name
	if _, err := e.rooms.Create(context.Background(), room.Caller{UserID: e.ids[owner]}, in); err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

// cell is what one matrix cell acts on: its room and, when the route needs one, a recording.
type cell struct{ room, rec string }

// seed creates room name owned by "owner", moderated by "moderator", with "participant" and
// "target" connected, and a recording in the state rec ("", active, failed, complete).
// For the recreator, that room is then deleted and the recreator creates a room of the same
// name: the recording (and everything else) is the old room's.
func (e *matrixEnv) seed(name, rec, caller string) cell {
	e.t.Helper()
	ctx := context.Background()
	e.createRoom("owner", name, room.Input{Moderators: &[]string{e.ids["moderator"]}})
	e.seen.mu.Lock()
	e.seen.joined[name] = []string{e.ids["participant"], "target"}
	e.seen.mu.Unlock()
	e.lk.mu.Lock()
	e.lk.participants[name+"/target"] = targetParticipant()
	e.lk.mu.Unlock()
	c := cell{room: name}
	if rec != "" {
		acc, err := e.rooms.Access(ctx, name, room.Caller{UserID: e.ids["owner"]})
		if err != nil {
			e.t.Fatal(err)
		}
		r, err := e.rec.Start(ctx, recording.StartParams{Room: name, RoomID: acc.Room.ID, OwnerID: e.ids["owner"], StartedBy: e.ids["owner"]})
		if err != nil {
			e.t.Fatalf("seed recording: %v", err)
		}
		c.rec = r.ID
		switch rec {
		case "complete":
			key := recording.FileKey(r.Room, r.ID, r.StartedAt)
			if _, err := e.fs.Put(ctx, key, strings.NewReader("mp4"), 3, "video/mp4"); err != nil {
				e.t.Fatal(err)
			}
			e.report(recording.Update{RecordingID: r.ID, Status: recording.StatusComplete, SizeBytes: 3})
		case "failed":
			e.report(recording.Update{RecordingID: r.ID, Status: recording.StatusFailed, Error: "upload refused", Retryable: true})
		}
	}
	if caller == "recreator" {
		if err := e.rooms.Delete(ctx, name, room.Caller{UserID: e.ids["owner"]}); err != nil {
			e.t.Fatal(err)
		}
		e.createRoom("recreator", name, room.Input{})
	}
	return c
}

func (e *matrixEnv) report(u recording.Update) {
	e.t.Helper()
	if err := e.rec.Report(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
}

type matrixResp struct {
	roomResp
	cookies []*http.Cookie
}

// do sends a request as caller. An event stream's answer is judged by its status and
// headers: the body is closed unread.
func (e *matrixEnv) do(method, path string, body any, caller string) matrixResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch caller {
	case "anonymous":
	case "guest":
		req.AddCookie(&http.Cookie{Name: GuestCookie, Value: e.guest})
	default:
		req.Header.Set("Authorization", "Bearer "+e.token[caller])
	}
	// Every cell's answer, refusals included, is held to the OpenAPI document.
	res, err := openapitest.Client(http.DefaultClient, openapiYAML, e.t.Errorf).Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := matrixResp{roomResp{status: res.StatusCode}, res.Cookies()}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return out
	}
	raw, _ := io.ReadAll(res.Body)
	out.raw = string(raw)
	_ = json.Unmarshal(raw, &out.body)
	return out
}
