package api

import (
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// UserAdmin is what the admin user routes need (*auth.Service).
type UserAdmin interface {
	ListUsers(ctx context.Context, q auth.UserQuery) ([]auth.User, string, error)
	UpdateUser(ctx context.Context, id string, p auth.UserPatch) (auth.User, error)
}

// GET /api/admin/users?limit=&cursor=&q=
func (s *server) listUsers(c *fiber.Ctx) error {
	if s.d.Users == nil {
		return notImplemented(c)
	}
	page, err := httpx.ParsePage(c, 50, 200)
	if err != nil {
		return err
	}
	users, next, err := s.d.Users.ListUsers(c.UserContext(), auth.UserQuery{Search: c.Query("q"), Limit: page.Limit, Cursor: page.Cursor})
	if err != nil {
		return authError(err)
	}
	return c.JSON(httpx.List[auth.User]{Items: users, NextCursor: next})
}

// PATCH /api/admin/users/{id} with {role?, disabled?}
func (s *server) patchUser(c *fiber.Ctx) error {
	if s.d.Users == nil {
		return notImplemented(c)
	}
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
	u, err := s.d.Users.UpdateUser(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return authError(err)
	}
	return c.JSON(u)
}
