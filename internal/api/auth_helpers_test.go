package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

// authEnv is an API app on a real SQLite database with a real auth service.
type authEnv struct {
	t     *testing.T
	app   *fiber.App
	svc   *auth.Service
	db    *gorm.DB
	clock *authtest.Clock
}

func newAuthEnv(t *testing.T, cfg ...func(*auth.Config)) *authEnv {
	t.Helper()
	g := dbtest.SQLite(t, auth.Migrations())
	clock := authtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	svc := authtest.Service(t, g, clock.Now, cfg...)
	d := testDeps()
	d.Auth = svc
	app := newTestApp(t, d)
	return &authEnv{t: t, app: app, svc: svc, db: g, clock: clock}
}

// resp is a decoded answer.
type resp struct {
	status int
	header map[string]string
	body   map[string]any
	raw    string
}

func (r resp) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r resp) str(key string) string { s, _ := r.body[key].(string); return s }

// do sends a request with a bearer token (when not empty); body is sent as is when a
// string, else JSON-encoded.
func (e *authEnv) do(method, path string, body any, token string) resp {
	e.t.Helper()
	if token != "" {
		token = "Bearer " + token
	}
	return e.send(method, path, body, token)
}

// doHeader sends a request with this Authorization header (when not empty).
func (e *authEnv) doHeader(method, path, authorization string) resp {
	e.t.Helper()
	return e.send(method, path, nil, authorization)
}

func (e *authEnv) send(method, path string, body any, authorization string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = strings.NewReader(string(data))
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: string(data), header: map[string]string{}}
	for k := range res.Header {
		r.header[k] = res.Header.Get(k)
	}
	_ = json.Unmarshal(data, &r.body)
	return r
}

// want checks a status and, when code is not empty, the error code.
func (r resp) want(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		t.Fatalf("got %d %s, want %d %s (body %s)", r.status, r.code(), status, code, r.raw)
	}
}

// user creates an account and returns its grant.
func (e *authEnv) user(email string, admin bool) auth.Grant {
	e.t.Helper()
	return authtest.User(e.t, e.svc, email, admin)
}

// snapshot is the auth tables' content, to prove a refused request changed nothing.
func (e *authEnv) snapshot() string {
	e.t.Helper()
	var parts []string
	for _, q := range []string{
		"SELECT id, email, name, password_hash, role, disabled FROM users ORDER BY id",
		"SELECT id, user_id, expires_at, revoked_at FROM sessions ORDER BY id",
		"SELECT token_hash, session_id, used_at FROM refresh_tokens ORDER BY token_hash",
	} {
		var rows []map[string]any
		if err := e.db.WithContext(context.Background()).Raw(q).Scan(&rows).Error; err != nil {
			e.t.Fatalf("snapshot: %v", err)
		}
		data, _ := json.Marshal(rows)
		parts = append(parts, string(data))
	}
	return strings.Join(parts, "\n")
}
