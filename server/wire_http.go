package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpOptions are the HTTP layer's settings from server.*.
func (a *app) httpOptions() api.HTTPOptions {
	sc := a.cfg.Server
	rl := sc.RateLimits
	return api.HTTPOptions{
		BodyLimit: sc.BodyLimit, AccessLog: a.access, TrustedProxies: sc.TrustedProxies,
		Limits: api.Limits{GuestJoins: rl.GuestJoins, Registrations: rl.Registrations,
			RoomCreations: rl.RoomCreations, RecordingStarts: rl.RecordingStarts, EventStreams: rl.EventStreams},
		Metrics: api.MetricsAccess{Token: sc.MetricsToken, Public: loopbackURL(sc.PublicURL),
			Elsewhere: sc.MetricsListen != ""},
		Web:      api.WebOptions{ConnectSources: api.ConnectSourcesOf(a.cfg.LiveKit.Host, a.recordingOrigin())},
		GuestKey: guestKey(a.cfg.Auth.JWTSecret),
	}
}

// recordingOrigin is where recording downloads are redirected to (S3), or "".
func (a *app) recordingOrigin() string {
	st := a.cfg.Recording.Storage
	switch {
	case st.Type != "s3":
		return ""
	case st.Endpoint == "":
		return "https://*.amazonaws.com"
	case strings.Contains(st.Endpoint, "://"):
		return st.Endpoint
	}
	return "https://" + st.Endpoint
}

// loopbackURL reports whether only this machine can reach u (localhost, 127/8, ::1).
func loopbackURL(u string) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := pu.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// serveMetrics serves /metrics on server.metricsListen when it is set; errors of the
// running server go to errc, like the main listener's. The returned func stops it.
func (a *app) serveMetrics(errc chan<- error) (stop func(), err error) {
	sc := a.cfg.Server
	addr := sc.MetricsListen
	if addr == "" {
		if sc.MetricsToken == "" && !loopbackURL(sc.PublicURL) {
			a.log.Warn("/metrics answers 403: server.publicURL is not loopback; set server.metricsToken or server.metricsListen to scrape it")
		}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.metricsListen %s: %w (change server.metricsListen)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case errc <- fmt.Errorf("metrics listener: %w", err):
			default:
			}
		}
	}()
	a.log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
