package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
)

// TestAuthMiddlewares drives RequireUser, OptionalUser and RequireAdmin on a probe route
// that answers who the principal is.
func TestAuthMiddlewares(t *testing.T) {
	e := newAuthEnv(t)
	alice := e.user("alice@example.com", false)
	root := e.user("root@example.com", true)
	s := &server{d: Deps{Auth: e.svc}}
	mw := s.middlewares()
	app := fiber.New(fiber.Config{ErrorHandler: httpx.ErrorHandler(slog.New(slog.DiscardHandler))})
	who := func(c *fiber.Ctx) error {
		if p := httpx.PrincipalFrom(c); p != nil {
			return c.SendString(p.Email + "/" + p.Role)
		}
		return c.SendString("anonymous")
	}
	stream := s.authenticate(true, false, true) // what the event-stream routes use
	app.Get("/user/events", stream, who)
	app.Post("/user/events", mw.RequireUser, who)
	app.Get("/other/events", mw.RequireUser, who)
	app.Get("/user", mw.RequireUser, who)
	app.Get("/optional", mw.OptionalUser, who)
	app.Get("/admin", mw.RequireAdmin, who)

	for _, tc := range []struct {
		name, method, path, bearer string
		status                     int
		want                       string
	}{
		{"user with bearer", "GET", "/user", alice.AccessToken, 200, "alice@example.com/user"},
		{"user anonymous", "GET", "/user", "", 401, `"unauthorized"`},
		{"user invalid", "GET", "/user", "junk", 401, `"invalid_token"`},
		{"events token in query", "GET", "/user/events?access_token=" + alice.AccessToken, "", 200, "alice@example.com/user"},
		{"events bad token in query", "GET", "/user/events?access_token=junk", "", 401, `"invalid_token"`},
		{"query token only for event streams", "GET", "/user?access_token=" + alice.AccessToken, "", 401, `"unauthorized"`},
		{"query token not on other routes named events", "GET", "/other/events?access_token=" + alice.AccessToken, "", 401, `"unauthorized"`},
		{"query token only for GET", "POST", "/user/events?access_token=" + alice.AccessToken, "", 401, `"unauthorized"`},
		{"optional anonymous", "GET", "/optional", "", 200, "anonymous"},
		{"optional with bearer", "GET", "/optional", alice.AccessToken, 200, "alice@example.com/user"},
		{"optional invalid is still 401", "GET", "/optional", "junk", 401, `"invalid_token"`},
		{"admin as admin", "GET", "/admin", root.AccessToken, 200, "root@example.com/admin"},
		{"admin as user", "GET", "/admin", alice.AccessToken, 403, `"forbidden"`},
		{"admin anonymous", "GET", "/admin", "", 401, `"unauthorized"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			res, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("got %d %s, want %d %s", res.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}
