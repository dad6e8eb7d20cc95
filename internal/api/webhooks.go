package api

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/outbox"
)

// WebhookService is the outbound webhooks (*outbox.Service).
type WebhookService interface {
	Endpoints(ctx context.Context) ([]outbox.Endpoint, map[string][2]int, error)
	Register(ctx context.Context, n outbox.NewEndpoint) (outbox.Endpoint, error)
	Delete(ctx context.Context, id string) error
	Deliveries(ctx context.Context, endpointID, status string, before int64, limit int) ([]outbox.Delivery, error)
	Replay(ctx context.Context, endpointID string, id int64) (outbox.Delivery, error)
	SendTest(ctx context.Context, endpointID string) (outbox.Delivery, error)
}

type webhookJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // only in the answer to its creation
	Pending   int       `json:"pending"`
	Dead      int       `json:"dead"`
	CreatedAt time.Time `json:"createdAt"`
}

type deliveryJSON struct {
	ID            string     `json:"id"`
	EventID       string     `json:"eventId"`
	EventType     string     `json:"eventType"`
	Room          string     `json:"room,omitempty"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"createdAt"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	LastStatus    int        `json:"lastStatus,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	Payload       string     `json:"payload"`
}

func toDeliveryJSON(d outbox.Delivery) deliveryJSON {
	return deliveryJSON{ID: strconv.FormatInt(d.ID, 10), EventID: d.EventID, EventType: d.EventType, Room: d.Room,
		Status: d.Status, Attempts: d.Attempts, CreatedAt: d.CreatedAt, NextAttemptAt: d.NextAt, LastAttemptAt: d.LastAt,
		LastStatus: d.LastStatus, LastError: d.LastError, DeliveredAt: d.DeliveredAt, Payload: d.Payload}
}

func webhookError(err error) error {
	switch {
	case errors.Is(err, outbox.ErrInvalid):
		return httpx.BadRequest("invalid_input", "%s", trimSentinel(err, outbox.ErrInvalid))
	case errors.Is(err, outbox.ErrNotFound):
		return httpx.NotFound("webhook_not_found", "%s", trimSentinel(err, outbox.ErrNotFound))
	}
	return err
}

// trimSentinel drops ": <sentinel>" from a wrapped error's message.
func trimSentinel(err, sentinel error) string {
	msg, tail := err.Error(), ": "+sentinel.Error()
	if len(msg) > len(tail) && msg[len(msg)-len(tail):] == tail {
		return msg[:len(msg)-len(tail)]
	}
	return msg
}

// GET /api/admin/webhooks
func (s *server) listWebhooks(c *fiber.Ctx) error {
	eps, counts, err := s.d.Webhooks.Endpoints(c.UserContext())
	if err != nil {
		return err
	}
	out := httpx.List[webhookJSON]{Items: make([]webhookJSON, len(eps))}
	for i, e := range eps {
		n := counts[e.ID]
		out.Items[i] = webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Pending: n[0], Dead: n[1], CreatedAt: e.CreatedAt}
	}
	return c.JSON(out)
}

// POST /api/admin/webhooks with {url, events, secret?}
func (s *server) createWebhook(c *fiber.Ctx) error {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
	}
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	e, err := s.d.Webhooks.Register(c.UserContext(), outbox.NewEndpoint{URL: in.URL, Events: in.Events, Secret: in.Secret})
	if err != nil {
		return webhookError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Secret: e.Secret, CreatedAt: e.CreatedAt})
}

// DELETE /api/admin/webhooks/{id}
func (s *server) deleteWebhook(c *fiber.Ctx) error {
	if err := s.d.Webhooks.Delete(c.UserContext(), c.Params("id")); err != nil {
		return webhookError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// GET /api/admin/webhooks/{id}/deliveries?status=&limit=&cursor=
func (s *server) listDeliveries(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c, 50, 200)
	if err != nil {
		return err
	}
	var before int64
	if page.Cursor != "" {
		if before, err = strconv.ParseInt(page.Cursor, 10, 64); err != nil || before <= 0 {
			return httpx.FieldError("cursor", "must be a nextCursor of this list")
		}
	}
	ds, err := s.d.Webhooks.Deliveries(c.UserContext(), c.Params("id"), c.Query("status"), before, page.Limit+1)
	if err != nil {
		return webhookError(err)
	}
	out := httpx.List[deliveryJSON]{Items: []deliveryJSON{}}
	if len(ds) > page.Limit {
		ds = ds[:page.Limit]
		out.NextCursor = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	for _, d := range ds {
		out.Items = append(out.Items, toDeliveryJSON(d))
	}
	return c.JSON(out)
}

// POST /api/admin/webhooks/{id}/deliveries/{deliveryId}/replay
func (s *server) replayDelivery(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("deliveryId"), 10, 64)
	if err != nil || id <= 0 {
		return httpx.NotFound("webhook_not_found", "delivery %q does not exist", c.Params("deliveryId"))
	}
	d, err := s.d.Webhooks.Replay(c.UserContext(), c.Params("id"), id)
	if err != nil {
		return webhookError(err)
	}
	return c.JSON(toDeliveryJSON(d))
}

// POST /api/admin/webhooks/{id}/test
func (s *server) testWebhook(c *fiber.Ctx) error {
	d, err := s.d.Webhooks.SendTest(c.UserContext(), c.Params("id"))
	if err != nil {
		return webhookError(err)
	}
	return c.Status(fiber.StatusAccepted).JSON(toDeliveryJSON(d))
}
