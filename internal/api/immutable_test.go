package api

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// A string taken from a request and kept past the handler (a cache key, a log field) must
// not change when Fiber reuses its buffers for the next request.
func TestParamsOutliveTheRequest(t *testing.T) {
	app := newTestApp(t, testDeps())
	var kept []string
	app.Get("/test/keep/:name", func(c *fiber.Ctx) error {
		kept = append(kept, c.Params("name"))
		return c.SendStatus(204)
	})
	for _, name := range []string{"first-room", "other-name"} {
		resp, err := app.Test(httptest.NewRequest("GET", "/test/keep/"+name, nil))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	if kept[0] != "first-room" || kept[1] != "other-name" {
		t.Fatalf("kept params = %q: the first one changed under us", kept)
	}
}
