package web

import (
	"io"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"
)

func testApp() *fiber.App {
	files := fstest.MapFS{
		"index.html":             {Data: []byte("<html>app</html>")},
		"assets/index-abc123.js": {Data: []byte("console.log(1)")},
		"favicon.svg":            {Data: []byte("<svg/>")},
	}
	app := fiber.New()
	app.Get("/api/known", func(c *fiber.Ctx) error { return c.SendString("api") })
	app.Use(handlerFS(files))
	app.Use(func(c *fiber.Ctx) error { return c.Status(404).SendString("next") })
	return app
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
		wantCache          string
	}{
		{"root is index", "GET", "/", 200, "<html>app</html>", "no-cache"},
		{"spa route falls back to index", "GET", "/r/standup", 200, "<html>app</html>", "no-cache"},
		{"hashed asset cached for a year", "GET", "/assets/index-abc123.js", 200, "console.log(1)", "public, max-age=31536000, immutable"},
		{"other file not immutable", "GET", "/favicon.svg", 200, "<svg/>", "no-cache"},
		{"head of an asset", "HEAD", "/assets/index-abc123.js", 200, "", "public, max-age=31536000, immutable"},
		{"a directory is not a file", "GET", "/assets", 200, "<html>app</html>", "no-cache"},
		{"missing asset is 404", "GET", "/assets/gone.js", 404, "", ""},
		{"unknown api route passes through", "GET", "/api/nope", 404, "next", ""},
		{"known api route", "GET", "/api/known", 200, "api", ""},
		{"healthz passes through", "GET", "/healthz", 404, "next", ""},
		{"metrics passes through", "GET", "/metrics", 404, "next", ""},
		{"post passes through", "POST", "/r/x", 404, "next", ""},
		{"traversal stays inside", "GET", "/../../etc/passwd", 200, "<html>app</html>", "no-cache"},
	}
	app := testApp()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := app.Test(httptest.NewRequest(tc.method, tc.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (body %q)", res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body: got %q, want %q", body, tc.wantBody)
			}
			if got := res.Header.Get("Cache-Control"); got != tc.wantCache {
				t.Errorf("Cache-Control: got %q, want %q", got, tc.wantCache)
			}
		})
	}
}
