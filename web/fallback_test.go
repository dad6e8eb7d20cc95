//go:build !webui

package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// Without the built app the binary's page says how to build it.
func TestFallbackSaysHowToBuild(t *testing.T) {
	app := fiber.New()
	app.Use(Handler())
	res, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if !strings.Contains(string(body), "make build") {
		t.Errorf("fallback page does not say how to build the UI: %q", body)
	}
}

// A browser that prefers German gets the notice in German; the others get English.
func TestFallbackSpeaksTheBrowsersLanguage(t *testing.T) {
	app := fiber.New()
	app.Use(Handler())
	for _, tc := range []struct{ header, want string }{
		{"de-DE,de;q=0.9,en;q=0.8", "Die Oberfläche ist nicht gebaut"},
		{"fr-FR,de;q=0.5", "The UI is not built"},
		{"", "The UI is not built"},
	} {
		req := httptest.NewRequest("GET", "/rooms", nil)
		if tc.header != "" {
			req.Header.Set("Accept-Language", tc.header)
		}
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(body), tc.want) {
			t.Errorf("Accept-Language %q: page lacks %q: %q", tc.header, tc.want, body)
		}
		if got := res.Header.Get("Vary"); !strings.Contains(got, "Accept-Language") {
			t.Errorf("Accept-Language %q: Vary %q lacks Accept-Language", tc.header, got)
		}
	}
}
