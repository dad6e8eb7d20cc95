package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// GET /api/admin/users?limit=&cursor=&q=
func (s *server) listUsers(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c, 50, 200)
	if err != nil {
		return err
	}
	users, next, err := s.d.Auth.ListUsers(c.UserContext(), auth.UserQuery{Search: c.Query("q"), Limit: page.Limit, Cursor: page.Cursor})
	if err != nil {
		return authError(err)
	}
	out := httpx.List[userJSON]{Items: make([]userJSON, len(users)), NextCursor: next}
	for i, u := range users {
		out.Items[i] = toUserJSON(u)
	}
	return c.JSON(out)
}

// PATCH /api/admin/users/{id} with {role?, disabled?}
func (s *server) patchUser(c *fiber.Ctx) error {
	var in struct {
		Role     json.RawMessage `json:"role"`
		Disabled json.RawMessage `json:"disabled"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	var p auth.UserPatch
	if len(in.Role) > 0 {
		var role string
		if err := json.Unmarshal(in.Role, &role); err != nil || string(in.Role) == "null" {
			return httpx.FieldError("role", "must be \"admin\" or \"user\"")
		}
		p.Role = &role
	}
	if len(in.Disabled) > 0 {
		var disabled bool
		if err := json.Unmarshal(in.Disabled, &disabled); err != nil || string(in.Disabled) == "null" {
			return httpx.FieldError("disabled", "must be true or false")
		}
		p.Disabled = &disabled
	}
	u, err := s.d.Auth.UpdateUser(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return authError(err)
	}
	return c.JSON(toUserJSON(u))
}
