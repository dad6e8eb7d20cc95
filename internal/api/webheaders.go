package api

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// WebOptions shape the security headers of the web app.
type WebOptions struct {
	// ConnectSources are origins the app may reach besides its own: LiveKit's URL (the
	// WebSocket and its http(s) twin, which the SDK uses to validate a failed connection)
	// and the recording store's, which downloads are redirected to.
	ConnectSources []string
}

// ConnectSourcesOf turns URLs into CSP sources: each origin, and for a ws(s) URL its
// http(s) twin too. Unparsable or empty entries are skipped.
func ConnectSourcesOf(urls ...string) []string {
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
		switch u.Scheme {
		case "ws":
			out = append(out, "http://"+u.Host)
		case "wss":
			out = append(out, "https://"+u.Host)
		}
	}
	return out
}

// contentSecurityPolicy allows the app's own scripts only, media from the camera and from
// fetched recordings (blob:), the connect sources, and no framing (clickjacking). Inline
// styles stay allowed: the app and the no-UI notice set style attributes. 'wasm-unsafe-eval'
// lets the page compile WebAssembly (background blur's segmentation model runs as wasm from
// the app's own files); it allows no eval of JavaScript.
func contentSecurityPolicy(connect []string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'wasm-unsafe-eval'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob:",
		"media-src 'self' blob:",
		"font-src 'self' data:",
		"worker-src 'self' blob:",
		"connect-src " + strings.Join(append([]string{"'self'"}, connect...), " "),
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// webHeaders sets the security headers of the web app's pages and assets.
func (s *server) webHeaders() fiber.Handler {
	csp := contentSecurityPolicy(s.d.HTTP.Web.ConnectSources)
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, csp)
		c.Set(fiber.HeaderXFrameOptions, "DENY") // frame-ancestors for browsers without CSP 2
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		c.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=()")
		return c.Next()
	}
}
