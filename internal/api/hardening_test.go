package api

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func get(t *testing.T, app *fiber.App, path, authorization string) (int, string, map[string][]string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

func TestMetricsAccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		access MetricsAccess
		auth   string
		want   int
	}{
		{"loopback server: open", MetricsAccess{Public: true}, "", 200},
		{"public server without token: closed", MetricsAccess{}, "", 403},
		{"token required", MetricsAccess{Token: "s3cret"}, "", 401},
		{"wrong token", MetricsAccess{Token: "s3cret"}, "Bearer nope", 401},
		{"right token", MetricsAccess{Token: "s3cret"}, "Bearer s3cret", 200},
		{"token also on loopback", MetricsAccess{Token: "s3cret", Public: true}, "", 401},
		{"served on metricsListen", MetricsAccess{Elsewhere: true, Public: true}, "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDeps()
			d.HTTP.Metrics = tc.access
			app := newTestApp(t, d)
			get(t, app, "/healthz", "") // something to count
			code, body, _ := get(t, app, "/metrics", tc.auth)
			if code != tc.want {
				t.Fatalf("got %d, want %d: %s", code, tc.want, body)
			}
			if code == 200 && !strings.Contains(body, "parley_http_requests_total") {
				t.Fatalf("no metrics in the answer: %.200s", body)
			}
			if code == 403 && !strings.Contains(body, "server.metricsToken") {
				t.Fatalf("the refusal should name the fix: %s", body)
			}
		})
	}
}

// ?access_token= is read on the two event-stream routes only; elsewhere a token in the
// URL is as good as none.
func TestAccessTokenInQueryOnlyOnEventStreams(t *testing.T) {
	d := limitDeps(Limits{})
	app := newTestApp(t, d)
	for _, path := range []string{"/api/auth/me", "/api/rooms", "/api/recordings/events", "/api/admin/users",
		"/api/recordings"} {
		if code, body, _ := get(t, app, path+"?access_token=admin", ""); code != 401 {
			t.Errorf("%s with ?access_token=: %d %s, want 401", path, code, body)
		}
	}
	for _, path := range []string{"/api/admin/events?access_token=admin", "/api/rooms/standup/events?access_token=alice"} {
		base := serveApp(t, d)
		res, code := openStream(t, base+strings.Split(path, "?")[0], strings.Split(path, "=")[1])
		if code != 200 {
			t.Errorf("%s: %d", path, code)
			continue
		}
		res.Body.Close()
	}
}

func TestWebAppSecurityHeaders(t *testing.T) {
	d := testDeps()
	d.Static = func(c *fiber.Ctx) error { return c.SendString("<!doctype html>") }
	d.HTTP.Web.ConnectSources = ConnectSourcesOf("wss://media.example.com:7880", "", "https://s3.example.com")
	app := newTestApp(t, d)
	_, _, h := get(t, app, "/rooms/standup", "")
	csp := strings.Join(h["Content-Security-Policy"], "")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "object-src 'none'",
		"connect-src 'self' wss://media.example.com:7880 https://media.example.com:7880 https://s3.example.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		"X-Frame-Options": "DENY"} {
		if got := strings.Join(h[k], ""); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// API answers are not pages, but they are not to be sniffed either.
	if _, _, h := get(t, app, "/api/nope", ""); strings.Join(h["X-Content-Type-Options"], "") != "nosniff" {
		t.Errorf("API answer without nosniff: %v", h)
	}
}
