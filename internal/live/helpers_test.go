package live_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/doctor"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/live"
	parleylk "github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"gorm.io/gorm"
)

const (
	testKey    = "devkey"
	testSecret = "lktest-secret-0123456789-0123456789-abcd"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	svc *live.Service
	app *fiber.App
	db  *gorm.DB
	reg *prometheus.Registry
}

type drivers []struct {
	name string
	open func(t testing.TB) *gorm.DB
}

// bothDrivers runs a test on SQLite and on the local PostgreSQL (skipped loudly if absent).
var bothDrivers = drivers{
	{"sqlite", func(t testing.TB) *gorm.DB { return dbtest.SQLite(t, live.Migrations()) }},
	{"postgres", func(t testing.TB) *gorm.DB { return dbtest.Postgres(t, live.Migrations()) }},
}

func newFixture(t testing.TB, g *gorm.DB, mod func(*live.Options)) *fixture {
	t.Helper()
	if g == nil {
		g = dbtest.SQLite(t, live.Migrations())
	}
	reg := prometheus.NewRegistry()
	o := live.Options{DB: g, APIKey: testKey, APISecret: testSecret, Registry: reg, Log: quietLog, Now: tickingClock()}
	if mod != nil {
		mod(&o)
	}
	svc, err := live.New(o)
	if err != nil {
		t.Fatalf("live.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	app := newAPI(t, svc, nil)
	return &fixture{svc: svc, app: app, db: g, reg: reg}
}

// Fakes of the HTTP layer's other services: the embedded interfaces are nil, the live
// state's tests never reach them.
type (
	fakeRecordings struct{ api.RecordingService }
	// fakeRooms says who moderates a room.
	// fakeWebhooks: the live tests never call the outbound webhook routes.
	fakeWebhooks struct{ api.WebhookService }
	fakeRooms    struct {
		api.RoomService
		moderates func(room, userID string) bool
	}
)

// The admin overview's other counts.
func (fakeAuth) CountUsers(context.Context) (int64, error)        { return 0, nil }
func (fakeRooms) Count(context.Context) (int64, error)            { return 0, nil }
func (fakeRecordings) ActiveCount(context.Context) (int64, error) { return 0, nil }

func (f fakeRooms) Access(_ context.Context, name string, c room.Caller) (room.Access, error) {
	return room.Access{Room: room.Room{Name: name}, Moderator: f.moderates != nil && f.moderates(name, c.UserID)}, nil
}

// noKeys and noAudit stand for the services these tests never reach: no API keys, and
// nothing audited is written.
type (
	noKeys  struct{ api.KeyService }
	noAudit struct{ api.AuditService }
)

func (noAudit) Record(context.Context, audit.Entry) error { return nil }

// fakeSSO stands in for single sign-on, which these tests never reach.
type fakeSSO struct{ api.SSOService }

// fakeRecovery stands in for password reset, which these tests never reach.
type fakeRecovery struct{ api.RecoveryService }

// fakePasskeys stands in for passkeys, which these tests never reach.
type fakePasskeys struct{ api.PasskeyService }

// newAPI is the HTTP app on the live state svc; moderates answers room access (nil: nobody).
func newAPI(t testing.TB, svc *live.Service, moderates func(room, userID string) bool) *fiber.App {
	t.Helper()
	app, err := api.New(api.Deps{Log: quietLog, Registry: prometheus.NewRegistry(), HTTP: api.HTTPOptions{BodyLimit: 4 << 20},
		Auth: fakeAuth{}, Rooms: fakeRooms{moderates: moderates}, Live: svc, Recordings: fakeRecordings{}, SSO: fakeSSO{}, Recovery: fakeRecovery{}, Passkeys: fakePasskeys{},
		Webhooks:      fakeWebhooks{},
		LiveKitStatus: func() parleylk.Status { return parleylk.Status{State: "unknown"} },
		Checks:        map[string]func(context.Context) (string, bool){},
		Doctor:        func(context.Context) []doctor.Result { return nil },
		Static:        func(c *fiber.Ctx) error { return c.Next() },
		Signalling:    edge.NotProxied{}, Keys: noKeys{}, Audit: noAudit{}})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// tickingClock is the wall clock made strictly increasing, by at least a millisecond a
// call. The reconciler takes a row seen in its snapshot's millisecond for a webhook racing
// the pass and leaves it to the next pass; real passes are seconds apart, but a test's
// back-to-back ReconcileNow calls can all fall in one millisecond and skip each other's
// writes.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	var last time.Time
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := time.Now()
		if t.Sub(last) < time.Millisecond {
			t = last.Add(time.Millisecond)
		}
		last = t
		return t
	}
}

var evSeq atomic.Int64

// event builds a webhook event with a fresh id.
func event(kind, room, roomSid string, p *livekit.ParticipantInfo, at time.Time) *livekit.WebhookEvent {
	return &livekit.WebhookEvent{Event: kind, Id: fmt.Sprintf("EV_%d_%d", time.Now().UnixNano(), evSeq.Add(1)),
		CreatedAt: at.Unix(), Room: &livekit.Room{Name: room, Sid: roomSid, CreationTime: at.Unix()}, Participant: p}
}

func participant(sid, identity string, joined time.Time) *livekit.ParticipantInfo {
	return &livekit.ParticipantInfo{Sid: sid, Identity: identity, Name: identity, State: livekit.ParticipantInfo_ACTIVE,
		JoinedAt: joined.Unix(), JoinedAtMs: joined.UnixMilli(), Metadata: `{"role":"participant","userId":"u-` + identity + `"}`}
}

// sign encodes ev as LiveKit does (protojson) and signs it like LiveKit's notifier.
func sign(t testing.TB, ev *livekit.WebhookEvent, secret string) (body []byte, authz string) {
	t.Helper()
	body, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return body, signBody(t, body, secret)
}

func signBody(t testing.TB, body []byte, secret string) string {
	t.Helper()
	sum := sha256.Sum256(body)
	tok, err := auth.NewAccessToken(testKey, secret).SetValidFor(5 * time.Minute).
		SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends a webhook through the real HTTP handler and returns the status and body.
func (f *fixture) post(t testing.TB, body []byte, authz string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/livekit/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/webhook+json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := f.app.Test(req, 10000)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// send signs and posts ev, failing the test unless the answer is 200.
func (f *fixture) send(t testing.TB, ev *livekit.WebhookEvent) string {
	t.Helper()
	body, authz := sign(t, ev, testSecret)
	code, resp := f.post(t, body, authz)
	if code != 200 {
		t.Fatalf("%s %s: status %d %s, want 200", ev.Event, ev.Id, code, resp)
	}
	return resp
}

func (f *fixture) participants(t testing.TB, room string) map[string]live.Participant {
	t.Helper()
	ps, err := f.svc.Participants(context.Background(), room)
	if err != nil {
		t.Fatalf("participants: %v", err)
	}
	out := map[string]live.Participant{}
	for _, p := range ps {
		out[p.Identity] = p
	}
	return out
}

func (f *fixture) countRows(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// repairs reads parley_reconcile_repairs_total{kind}.
func repairs(t testing.TB, reg *prometheus.Registry, kind string) float64 {
	return counter(t, reg, "parley_reconcile_repairs_total", "kind", kind)
}

// passes is how many reconcile passes completed with result ok.
func passes(t testing.TB, reg *prometheus.Registry) float64 {
	return counter(t, reg, "parley_reconcile_passes_total", "result", "ok")
}

// counter reads one labelled value of a counter vector (0 before its first increment).
func counter(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
