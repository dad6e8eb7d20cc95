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
