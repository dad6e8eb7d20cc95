package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz runs every readiness check; any failing one makes the answer 503.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	for name, check := range s.d.Checks {
		msg, ok := check(ctx)
		checks[name] = msg
		ready = ready && ok
	}
	status, code := "ready", fiber.StatusOK
	if !ready {
		status, code = "not_ready", fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(fiber.Map{"status": status, "checks": checks})
}

func (s *server) metrics(c *fiber.Ctx) error {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))(c)
}
