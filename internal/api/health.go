package api

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/parley/parley/internal/httpx"
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

// MetricsAccess says who may read /metrics on the main listener. Room names, user counts
// and error rates are not for the internet: on a server whose publicURL is not loopback,
// /metrics needs the bearer Token, or is served on its own listener (Elsewhere) only.
type MetricsAccess struct {
	Token     string // server.metricsToken
	Public    bool   // publicURL is loopback: anyone who reaches the port may read
	Elsewhere bool   // server.metricsListen is set: 404 here
}

func (s *server) metrics() fiber.Handler {
	serve := adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	m := s.d.HTTP.Metrics
	return func(c *fiber.Ctx) error {
		switch {
		case m.Elsewhere:
			return httpx.NotFound("not_found", "metrics are served on server.metricsListen")
		case m.Token != "":
			got, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(m.Token)) != 1 {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
				return httpx.Unauthorized("unauthorized", "/metrics needs Authorization: Bearer <server.metricsToken>")
			}
		case !m.Public:
			return httpx.Forbidden("forbidden", "/metrics is closed on a public server: set server.metricsToken or server.metricsListen")
		}
		return serve(c)
	}
}
