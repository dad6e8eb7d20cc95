// Package web serves the browser app (the Vite build in web/dist) from the Parley binary.
//
// Built with -tags webui the app is embedded from dist/; without the tag a one-page notice
// that says how to build the UI is served instead, so `go build ./...` works from a clean clone.
package web

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// reservedPrefixes are never answered with the SPA: unknown API routes must stay 404s.
var reservedPrefixes = []string{"/api/", "/healthz", "/readyz", "/metrics"}

// Handler serves the SPA: hashed files under /assets/ cached for a year, index.html never
// cached, and index.html for any other GET path that is not a file (client-side routes).
// Requests it does not serve (non-GET, reserved prefixes) go to the next handler.
func Handler() fiber.Handler {
	return handlerFS(distFS())
}

func handlerFS(files fs.FS) fiber.Handler {
	index, indexErr := fs.ReadFile(files, "index.html")
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return c.Next()
		}
		p := c.Path()
		if isReserved(p) {
			return c.Next()
		}
		name := strings.TrimPrefix(path.Clean("/"+p), "/")
		if name != "" && name != "index.html" {
			if f, size, ok := openFile(files, name); ok {
				if strings.HasPrefix(name, "assets/") {
					// Vite puts a content hash in every asset name, so they never change.
					c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
				} else {
					c.Set(fiber.HeaderCacheControl, "no-cache")
				}
				c.Set(fiber.HeaderContentType, contentType(name))
				// Streamed from the embedded file (fasthttp closes it when sent): a copy of
				// the file on the heap for every request would be garbage of its size.
				c.Context().SetBodyStream(f, int(size))
				return nil
			}
			if strings.HasPrefix(name, "assets/") {
				// A missing hashed asset is a stale page asking for an old build: 404, not HTML.
				return fiber.ErrNotFound
			}
		}
		if indexErr != nil {
			return fiber.NewError(http.StatusInternalServerError, "web UI: index.html missing")
		}
		page := index
		// A page translated on the server (the fallback notice; the app translates itself).
		if lang := preferredLanguage(c.Get(fiber.HeaderAcceptLanguage)); lang != "en" {
			if data, err := fs.ReadFile(files, "index."+lang+".html"); err == nil {
				page = data
			}
		}
		c.Vary(fiber.HeaderAcceptLanguage)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	}
}

// preferredLanguage is the base language ("de" of "de-AT") of the first tag of an
// Accept-Language header; browsers list their tags by preference.
func preferredLanguage(header string) string {
	first, _, _ := strings.Cut(header, ",")
	tag, _, _ := strings.Cut(strings.TrimSpace(first), ";")
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	if base == "" || base == "*" {
		return "en"
	}
	return base
}

// openFile opens a regular file of files; ok is false when there is none by that name.
func openFile(files fs.FS, name string) (f fs.File, size int64, ok bool) {
	f, err := files.Open(name)
	if err != nil {
		return nil, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, false
	}
	return f, st.Size(), true
}

func isReserved(p string) bool {
	for _, r := range reservedPrefixes {
		if p == strings.TrimSuffix(r, "/") || strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
