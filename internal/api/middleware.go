package api

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// recoverPanics turns a panic into a logged 500 with its stack; the process never crashes.
func recoverPanics(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "method", c.Method(), "path", c.Path(),
					"request_id", httpx.RequestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = httpx.NewError(500, "internal", "internal error")
			}
		}()
		return c.Next()
	}
}

func requestID() fiber.Handler {
	return requestid.New(requestid.Config{ContextKey: "requestid"})
}

// observe answers errors through the app's error handler, then hands one access line to
// the access log (nil: none) and records the request metrics, so both see the final status.
func observe(m *metrics, access *obs.AccessLog) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		dur := time.Since(start)
		status := c.Response().StatusCode()
		route := c.Route().Path
		if route == "/" && c.Path() != "/" {
			route = "other"
		}
		method := methodLabel(c.Method())
		m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(method, route).Observe(dur.Seconds())
		if access.Enabled() {
			// The app is Immutable: these strings do not alias Fiber's buffers, so the
			// access log's goroutine may format them after the request is over.
			access.Log(obs.Access{Time: start, Method: c.Method(), Path: loggedPath(c), Status: status,
				Dur: dur, IP: httpx.ClientIP(c), RequestID: httpx.RequestID(c)})
		}
		return nil
	}
}

// loggedPath is the request's path for the access log, with a calendar feed's token
// left out: the URL is that feed's only credential, and logs are kept and shipped.
func loggedPath(c *fiber.Ctx) string {
	if p := c.Path(); strings.HasPrefix(p, "/api/calendar/feed/") {
		return "/api/calendar/feed/…/parley.ics"
	}
	return c.Path()
}

// metrics counts requests and observes latency by route pattern (never by raw path, which
// would make one series per room name).
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// methodLabel bounds the method label's values: junk methods share "other" instead of
// creating one series each.
func methodLabel(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodHead, fiber.MethodOptions} {
		if m == known {
			return known
		}
	}
	return "other"
}
