package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
)

// webhook answers LiveKit: 200 when stored (or already stored), 401 on a bad signature or
// checksum, 400 on a signed but unusable body, 503 when the state cannot be written (LiveKit
// retries). Nothing else runs on this path.
func (s *server) webhook(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > live.MaxWebhookBody {
		return httpx.NewError(fiber.StatusRequestEntityTooLarge, "body_too_large", "webhook body is over %d bytes", live.MaxWebhookBody)
	}
	res, err := s.d.Live.Ingest(c.UserContext(), c.Get(fiber.HeaderAuthorization), body)
	switch {
	case errors.Is(err, live.ErrUnauthorized):
		return httpx.Unauthorized("invalid_signature", "%s", err.Error())
	case errors.Is(err, live.ErrInvalidEvent):
		return httpx.BadRequest("invalid_event", "%s", err.Error())
	case err != nil:
		return httpx.Unavailable("unavailable", "the webhook could not be stored; retry").WithCause(err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if res.Duplicate {
		return c.SendString(`{"status":"duplicate"}`)
	}
	return c.SendString(`{"status":"ok"}`)
}
