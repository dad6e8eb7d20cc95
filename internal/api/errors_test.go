package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
)

// echoApp is an app with the shared middleware plus two test routes.
func echoApp(t *testing.T) *fiber.App {
	d := testDeps()
	d.HTTP.BodyLimit = 1024
	app := newTestApp(t, d)
	type body struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	app.Post("/test/echo", func(c *fiber.Ctx) error {
		var b body
		if err := httpx.BindJSON(c, &b); err != nil {
			return err
		}
		return c.JSON(b)
	})
	app.Get("/test/panic", func(c *fiber.Ctx) error { panic("boom") })
	return app
}

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code, msg                       string
	}{
		{"ok", "POST", "/test/echo", "application/json", `{"name":"a","count":2}`, 200, "", ""},
		{"malformed", "POST", "/test/echo", "application/json", `{"name":`, 400, "invalid_json", "malformed JSON"},
		{"unknown field", "POST", "/test/echo", "application/json", `{"name":"a","admin":true}`, 400, "unknown_field", `"admin"`},
		{"wrong type", "POST", "/test/echo", "application/json", `{"count":"x"}`, 400, "invalid_field", `"count" must be a whole number`},
		{"wrong type, no Go name", "POST", "/test/echo", "application/json", `{"name":true}`, 400, "invalid_field", `"name" must be a string`},
		{"not an object", "POST", "/test/echo", "application/json", `[1]`, 400, "invalid_field", "must be an object"},
		{"two values", "POST", "/test/echo", "application/json", `{} {}`, 400, "invalid_json", "single JSON value"},
		{"empty", "POST", "/test/echo", "application/json", ``, 400, "invalid_json", "empty"},
		{"content type", "POST", "/test/echo", "text/plain", `{"name":"a"}`, 415, "unsupported_media_type", "application/json"},
		{"panic", "GET", "/test/panic", "", "", 500, "internal", "internal error"},
		{"no route", "GET", "/api/nope", "", "", 404, "not_found", "no route"},
	}
	app := echoApp(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, raw)
			}
			if tc.code == "" {
				return
			}
			var eb httpx.ErrorBody
			if err := json.Unmarshal(raw, &eb); err != nil {
				t.Fatalf("not the error shape: %s", raw)
			}
			if eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.msg) {
				t.Errorf("error = %+v, want code %q with %q", eb.Error, tc.code, tc.msg)
			}
			if strings.Contains(string(raw), "Go ") || strings.Contains(string(raw), "api.") {
				t.Errorf("a Go type name reached the client: %s", raw)
			}
			if strings.Contains(string(raw), "boom") {
				t.Error("panic value leaked to the client")
			}
		})
	}
}

func TestHealthAndReady(t *testing.T) {
	d := testDeps()
	d.Checks = map[string]func(ctx context.Context) (string, bool){
		"database": func(context.Context) (string, bool) { return "ok", true },
		"livekit":  func(context.Context) (string, bool) { return "unreachable: connection refused", false },
	}
	d.HTTP.Metrics.Public = true
	app := newTestApp(t, d)
	resp, _ := app.Test(httptest.NewRequest("GET", "/healthz", nil))
	if resp.StatusCode != 200 {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	resp, _ = app.Test(httptest.NewRequest("GET", "/readyz", nil))
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(raw), `"livekit":"unreachable: connection refused"`) || !strings.Contains(string(raw), `"not_ready"`) {
		t.Errorf("readyz = %d %s", resp.StatusCode, raw)
	}
	resp, _ = app.Test(httptest.NewRequest("GET", "/metrics", nil))
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "parley_http_requests_total") {
		t.Errorf("metrics = %d, missing request counter", resp.StatusCode)
	}
}

// TestBodyTooLarge goes through a real listener: fasthttp refuses the body before routing.
func TestBodyTooLarge(t *testing.T) {
	app := echoApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	resp, err := http.Post("http://"+ln.Addr().String()+"/test/echo", "application/json",
		strings.NewReader(`{"name":"`+strings.Repeat("x", 4000)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(raw), `"code":"body_too_large"`) {
		t.Fatalf("got %d %s, want 413 body_too_large", resp.StatusCode, raw)
	}
}
