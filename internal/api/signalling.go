package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/httpx"
)

// SignallingProxy carries LiveKit's signalling through Parley's port (*edge.SignalProxy).
type SignallingProxy interface {
	Upgrade(ctx context.Context, r edge.Request) (*edge.Tunnel, *http.Response, error)
	Forward(ctx context.Context, r edge.Request, body io.Reader) (*http.Response, error)
}

// signallingRoutes claims LiveKit's signalling paths (/rtc, /rtc/v1 and their /validate).
func (s *server) signallingRoutes(app *fiber.App) {
	app.All("/rtc", s.signalling)
	app.All("/rtc/*", s.signalling)
}

// signalling forwards one request. A WebSocket upgrade LiveKit accepts hands the client's
// connection over to a byte tunnel after the handler returns (fasthttp's hijack); anything
// else, a refused upgrade included, is an ordinary response on Parley's keep-alive connection.
func (s *server) signalling(c *fiber.Ctx) error {
	if !edge.IsSignallingPath(c.Path()) {
		return fiber.ErrNotFound
	}
	req := edge.Request{Method: c.Method(), URI: string(c.Request().RequestURI()), Host: string(c.Request().Host()),
		Header: http.Header{}, ClientIP: c.IP(), TLS: c.Protocol() == "https"}
	c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
	ctx, cancel := context.WithTimeout(c.UserContext(), 15*time.Second)
	defer cancel()
	if strings.EqualFold(c.Get(fiber.HeaderUpgrade), "websocket") {
		tunnel, resp, err := s.d.Signalling.Upgrade(ctx, req)
		if err != nil {
			return signallingError(err)
		}
		if tunnel == nil {
			return relay(c, resp)
		}
		c.Status(fiber.StatusSwitchingProtocols)
		c.Context().HijackSetNoResponse(true)
		c.Context().Hijack(tunnel.Serve)
		return nil
	}
	resp, err := s.d.Signalling.Forward(ctx, req, bytes.NewReader(c.Body()))
	if err != nil {
		return signallingError(err)
	}
	return relay(c, resp)
}

func signallingError(err error) error {
	if errors.Is(err, edge.ErrNotProxied) {
		return fiber.ErrNotFound
	}
	if errors.Is(err, edge.ErrUpstream) {
		return httpx.NewError(fiber.StatusServiceUnavailable, "livekit_unavailable", "LiveKit is not reachable right now; try again shortly")
	}
	return err
}

// maxRelayedBody bounds a forwarded answer: LiveKit's signalling answers are short.
const maxRelayedBody = 1 << 20

// relay copies LiveKit's answer into the response, without hop-by-hop headers.
func relay(c *fiber.Ctx, resp *http.Response) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRelayedBody))
	if err != nil {
		return signallingError(errors.Join(edge.ErrUpstream, err))
	}
	for k, vs := range resp.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Trailer":
			continue
		}
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	return c.Status(resp.StatusCode).Send(body)
}
