package api

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/room"
)

// fakeKeys refuses every key (tests that use keys build the real service).
type fakeKeys struct{ KeyService }

func (fakeKeys) Authenticate(context.Context, string) (apikey.Caller, error) {
	return apikey.Caller{}, apikey.ErrInvalidKey
}

// memAudit keeps what was recorded.
type memAudit struct {
	AuditService
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) Record(_ context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) actions() []audit.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Entry(nil), m.entries...)
}

// keyRooms answers the room routes the key tests call.
type keyRooms struct {
	fakeRooms
	kicked chan string
}

func (keyRooms) List(_ context.Context, c room.Caller, _ string, _ int) ([]room.View, error) {
	return []room.View{{Room: room.Room{Name: "standup", OwnerID: c.UserID}}}, nil
}

func (r keyRooms) Kick(_ context.Context, name, identity string, ban bool, _ string, _ room.Caller) error {
	r.kicked <- name + "/" + identity
	return nil
}

// keyEnv is the API on real auth, API key and audit services on SQLite.
type keyEnv struct {
	*authEnv
	keys  *apikey.Service
	audit *audit.Log
	admin auth.Grant
	rooms keyRooms
}

func newKeyEnv(t *testing.T) *keyEnv {
	g := dbtest.SQLite(t, auth.Migrations(), apikey.Migrations(), audit.Migrations())
	clock := authtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	svc := authtest.Service(t, g, clock.Now)
	keys, err := apikey.New(g, []byte(strings.Repeat("k", 32)), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(g, nil, clock.Now)
	d := testDeps()
	rooms := keyRooms{kicked: make(chan string, 4)}
	d.Auth, d.Keys, d.Audit, d.Rooms = svc, keys, log, rooms
	e := &keyEnv{authEnv: &authEnv{t: t, app: newTestApp(t, d), svc: svc, db: g, clock: clock}, keys: keys, audit: log, rooms: rooms}
	e.admin = e.user("admin@example.com", true)
	return e
}

// createKey makes a key through the API and returns its secret.
func (e *keyEnv) createKey(scopes ...string) (id, secret string) {
	e.t.Helper()
	r := e.do("POST", "/api/admin/api-keys", map[string]any{"name": "scheduler", "scopes": scopes}, e.admin.AccessToken)
	r.want(e.t, 201, "")
	return r.str("id"), r.str("key")
}

func TestKeyScopes(t *testing.T) {
	e := newKeyEnv(t)
	id, secret := e.createKey(apikey.ScopeRoomsRead)
	if !strings.HasPrefix(secret, "pk_") {
		t.Fatalf("key %q, want pk_...", secret)
	}
	list := e.do("GET", "/api/rooms", nil, secret)
	list.want(t, 200, "")
	if !strings.Contains(list.raw, `"standup"`) {
		t.Errorf("rooms listed by the key: %s", list.raw)
	}
	del := e.do("DELETE", "/api/rooms/standup", nil, secret)
	del.want(t, 403, "insufficient_scope")
	if !strings.Contains(del.raw, "rooms:write") {
		t.Errorf("refusal %s does not name the missing scope rooms:write", del.raw)
	}
	for _, path := range []string{"/api/admin/api-keys", "/api/auth/me"} {
		e.do("GET", path, nil, secret).want(t, 403, "insufficient_scope")
	}
	// Passkeys are a person's: every passkey route refuses a key, the sign-in ones included.
	for _, r := range [][2]string{{"GET", "/api/auth/passkeys"}, {"POST", "/api/auth/passkeys/register/begin"},
		{"DELETE", "/api/auth/passkeys/x"}, {"POST", "/api/auth/passkeys/login/begin"}, {"POST", "/api/auth/passkeys/login/finish"}} {
		e.do(r[0], r[1], nil, secret).want(t, 403, "insufficient_scope")
	}
	keys := e.do("GET", "/api/admin/api-keys", nil, e.admin.AccessToken)
	keys.want(t, 200, "")
	if strings.Contains(keys.raw, secret) || !strings.Contains(keys.raw, `"lastUsedAt"`) {
		t.Errorf("key list must show the last use and never the secret: %s", keys.raw)
	}
	e.do("DELETE", "/api/admin/api-keys/"+id, nil, e.admin.AccessToken).want(t, 204, "")
	e.do("GET", "/api/rooms", nil, secret).want(t, 401, "key_revoked")
	e.do("DELETE", "/api/admin/api-keys/nope", nil, e.admin.AccessToken).want(t, 404, "key_not_found")
	e.do("POST", "/api/admin/api-keys", map[string]any{"name": "x", "scopes": []string{"rooms:all"}}, e.admin.AccessToken).want(t, 400, "")
}

func TestAuditTrail(t *testing.T) {
	e := newKeyEnv(t)
	e.do("POST", "/api/auth/login", map[string]any{"email": "Admin@example.com", "password": "wrong-password-1"}, "").want(t, 401, "")
	_, secret := e.createKey(apikey.ScopeParticipantsModerate)
	e.do("POST", "/api/rooms/standup/participants/bob/kick", map[string]any{"ban": true, "reason": "spam"}, secret).want(t, 204, "")
	e.do("POST", "/api/rooms/standup/participants/bob/kick", map[string]any{"ban": true}, "").want(t, 401, "") // not audited

	r := e.do("GET", "/api/admin/audit", nil, e.admin.AccessToken)
	r.want(t, 200, "")
	items, _ := r.body["items"].([]any)
	if len(items) != 3 {
		t.Fatalf("audit entries: %s, want 3 (failed sign-in, key created, ban)", r.raw)
	}
	ban := items[0].(map[string]any)
	actor := ban["actor"].(map[string]any)
	if ban["action"] != "participant.ban" || ban["room"] != "standup" || ban["target"] != "bob" ||
		actor["type"] != "key" || actor["name"] != "scheduler" || ban["address"] == "" ||
		!strings.Contains(r.raw, `"reason":"spam"`) {
		t.Errorf("ban entry %v", ban)
	}
	failed := items[2].(map[string]any)
	if failed["action"] != "auth.login_failed" || failed["target"] != "admin@example.com" || failed["actor"].(map[string]any)["type"] != "guest" {
		t.Errorf("failed sign-in entry %v", failed)
	}
	if strings.Contains(r.raw, "wrong-password") {
		t.Error("a password reached the audit log")
	}
	if n, err := e.audit.Verify(context.Background()); err != nil || n != 3 {
		t.Errorf("Verify = %d, %v", n, err)
	}

	// Filters, export, and the audit:read scope.
	kicks := e.do("GET", "/api/admin/audit?action=participant.ban&room=standup", nil, e.admin.AccessToken)
	if items, _ := kicks.body["items"].([]any); len(items) != 1 {
		t.Errorf("filtered: %s", kicks.raw)
	}
	e.do("GET", "/api/admin/audit", nil, secret).want(t, 403, "insufficient_scope")
	_, reader := e.createKey(apikey.ScopeAuditRead)
	csv := e.do("GET", "/api/admin/audit/export?format=csv", nil, reader)
	csv.want(t, 200, "")
	lines := strings.Split(strings.TrimSpace(csv.raw), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "id,at,actorType") || !strings.Contains(lines[4], "auth.login_failed") {
		t.Errorf("CSV export:\n%s", csv.raw)
	}
	jl := e.do("GET", "/api/admin/audit/export?format=jsonl&action=apikey.create", nil, reader)
	if n := strings.Count(strings.TrimSpace(jl.raw), "\n") + 1; jl.status != 200 || n != 2 || !strings.HasPrefix(jl.raw, `{"id":"4"`) {
		t.Errorf("JSON lines export (%d): %d lines\n%s", jl.status, n, jl.raw)
	}
	e.do("GET", "/api/admin/audit/export?format=xml", nil, reader).want(t, 400, "")
	e.do("GET", "/api/admin/audit?from=yesterday", nil, reader).want(t, 400, "")
}

// Every /api route either takes a scope or is refused to keys: a key never reaches a new
// route by accident, and this test names a route nobody classified.
func TestEveryRouteHasAKeyRule(t *testing.T) {
	public := map[string]bool{ // no authentication: nothing for a key to hold
		"POST /api/auth/register": true, "POST /api/auth/login": true, "POST /api/auth/refresh": true,
		"POST /api/auth/logout": true, "POST /api/livekit/webhook": true, "GET /api/openapi.json": true,
		"GET /api/auth/providers": true, "GET /api/auth/oidc/:name/login": true, "GET /api/auth/oidc/:name/callback": true,
		"POST /api/auth/oidc/exchange": true, "POST /api/auth/password/forgot": true, "POST /api/auth/password/reset": true,
		"POST /api/auth/passkeys/login/begin": true, "POST /api/auth/passkeys/login/finish": true,
		"POST /api/auth/email/verify": true,
		// the lobby ticket is its own credential: a waiting guest has no account
		"GET /api/lobby/:ticket": true, "GET /api/lobby/:ticket/events": true, "DELETE /api/lobby/:ticket": true,
		// the calendar feed URL's token is its credential: calendar apps send no headers
		"GET /api/calendar/feed/:token/parley.ics": true,
	}
	app := newTestApp(t, testDeps())
	for _, r := range app.GetRoutes(true) {
		k := r.Method + " " + r.Path
		if !strings.HasPrefix(r.Path, "/api/") || r.Method == "HEAD" || r.Method == "USE" || public[k] ||
			strings.HasPrefix(r.Path, webhooksPrefix) {
			continue
		}
		_, scoped := routeScopes[route{r.Method, r.Path}]
		if scoped == keysRefused[route{r.Method, r.Path}] {
			t.Errorf("%s: put it in routeScopes (with the scope a key needs) or keysRefused (scopes.go)", k)
		}
	}
}
