package httpx

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
)

const principalKey = "parley.principal"

// SetPrincipal stores the authenticated caller for the rest of the request.
func SetPrincipal(c *fiber.Ctx, p *auth.Principal) { c.Locals(principalKey, p) }

// PrincipalFrom returns the caller, or nil for an anonymous request.
func PrincipalFrom(c *fiber.Ctx) *auth.Principal {
	p, _ := c.Locals(principalKey).(*auth.Principal)
	return p
}

// Middlewares are the auth gates the auth package provides to every other route group.
type Middlewares struct {
	RequireUser  fiber.Handler // 401 without a valid, current session
	OptionalUser fiber.Handler // sets the principal when a valid token is present
	RequireAdmin fiber.Handler // RequireUser + 403 unless admin
}

// Page is a parsed `?limit=&cursor=` pair.
type Page struct {
	Limit  int
	Cursor string
}

// ParsePage reads limit (1..max, default def) and cursor from the query string.
func ParsePage(c *fiber.Ctx, def, max int) (Page, error) {
	p := Page{Limit: def, Cursor: c.Query("cursor")}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			return p, FieldError("limit", "must be a whole number from 1 to %d", max)
		}
		p.Limit = n
	}
	return p, nil
}

// List is the shape of every list answer.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}
