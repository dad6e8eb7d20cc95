package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/memtrim"
	"github.com/parley/parley/internal/obs"
	"github.com/parley/parley/internal/schema"
	"github.com/parley/parley/web"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"
)

// app holds what the composition root builds. Each module's wiring lives in its own
// server/wire_<module>.go; wire calls them in dependency order.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	stdout io.Writer
	getenv func(string) string
	db     *gorm.DB
	reg    *prometheus.Registry
	deps   api.Deps

	// starters run after the HTTP listener is up (LiveKit needs Parley's webhook endpoint);
	// workers run until shutdown; closers run after the workers stop, last added first.
	starters []func(ctx context.Context) error
	workers  []func(ctx context.Context) error
	closers  []func(ctx context.Context) error

	access *obs.AccessLog // one line per HTTP request, written off the request path

	https httpsSide  // certificates, plain-HTTP and loopback webhook listeners (wire_tls.go)
	edge  edgeWiring // signalling proxy and TURN/TLS on the public port (wire_edge.go)
}

// newApp loads secrets, opens and migrates the database and wires every module.
func newApp(ctx context.Context, cfg config.Config, stdout io.Writer, getenv func(string) string) (*app, error) {
	log := obs.NewLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	if _, err := config.EnsureSecrets(&cfg); err != nil {
		return nil, err
	}
	g, err := db.Open(cfg.Database.Driver, cfg.Database.DSN, log)
	if err != nil {
		return nil, fmt.Errorf("%w (check database.driver and database.dsn)", err)
	}
	a := &app{cfg: cfg, log: log, stdout: stdout, getenv: getenv, db: g, reg: obs.NewRegistry()}
	// The access log is the first closer, so it runs last: lines of requests drained during
	// shutdown are flushed too.
	a.access = obs.NewAccessLog(os.Stderr, cfg.Log.Level, cfg.Log.Format, a.reg)
	a.closers = append(a.closers, a.access.Close)
	applied, err := db.Migrate(g, a.migrations()...)
	if err != nil {
		_ = db.Close(g)
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied)
	}
	return a, nil
}

// migrations lists every module's migrations, in the order they must run.
func (a *app) migrations() [][]db.Migration { return schema.Migrations() }

// wire builds every module in dependency order, each from the ones before it, then the
// HTTP layer's dependencies.
func (a *app) wire(ctx context.Context) error {
	sup, err := a.wireLiveKit()
	if err != nil {
		return err
	}
	authSvc, err := a.wireAuth(ctx)
	if err != nil {
		return err
	}
	hooks, err := a.wireOutbox()
	if err != nil {
		return err
	}
	liveSvc, err := a.wireLive(sup, hooks)
	if err != nil {
		return err
	}
	gate := newLiveKitGate()
	rooms, err := a.wireRooms(sup, liveSvc, gate)
	if err != nil {
		return err
	}
	recordings, rejoin, err := a.wireRecording(ctx, sup, liveSvc, rooms, hooks)
	if err != nil {
		return err
	}
	a.healMeetings(sup, liveSvc, rooms, gate, rejoin)
	gated, err := a.wireGate(sup, authSvc, liveSvc, rooms)
	if err != nil {
		return err
	}
	doctorRun, err := a.wireDoctor(sup)
	if err != nil {
		return err
	}
	keys, err := a.wireKeys() // wire_audit.go
	if err != nil {
		return err
	}
	passkeys, err := a.wirePasskeys(authSvc) // wire_sso.go
	if err != nil {
		return err
	}
	a.deps = api.Deps{
		Log: a.log, Registry: a.reg,
		HTTP: a.httpOptions(),
		Auth: gated, SSO: a.wireSSO(authSvc), Recovery: a.wireRecovery(authSvc, rooms), Passkeys: passkeys, Rooms: rooms, Live: liveSvc, Recordings: recordings,
		Webhooks:      hooks,
		LiveKitStatus: sup.Status, Doctor: doctorRun,
		Checks:     map[string]func(context.Context) (string, bool){"database": a.checkDatabase, "livekit": sup.Check},
		Static:     a.caPages(web.Handler()),
		Signalling: a.wireEdge(gate),
		Keys:       keys, Audit: a.wireAudit(),
	}
	return nil
}

// guestKey derives the guest cookie's signing key from the JWT secret (kept across
// restarts), for this one purpose, so neither signature can stand in for the other.
func guestKey(jwtSecret string) []byte {
	m := hmac.New(sha256.New, []byte(jwtSecret))
	m.Write([]byte("parley guest cookie v1"))
	return m.Sum(nil)
}

func (a *app) checkDatabase(ctx context.Context) (string, bool) {
	sqlDB, err := a.db.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return "unreachable: " + err.Error(), false
	}
	return "ok", true
}

// serve runs the server until ctx is cancelled, then shuts down in order within 10 s:
// stop accepting and drain HTTP, stop workers, stop child processes, close the database.
func serve(ctx context.Context, cfg config.Config, src config.Source, stdout io.Writer, getenv func(string) string) error {
	a, err := newApp(ctx, cfg, stdout, getenv)
	if err != nil {
		return err
	}
	defer db.Close(a.db)
	a.log.Info("starting parley", "version", version, "config", orNone(src.File), "data_dir", cfg.Server.DataDir,
		"database", cfg.Database.Driver, "livekit_external", cfg.LiveKit.External)
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	if err := a.wire(workCtx); err != nil {
		a.close()
		return err
	}
	web, err := api.New(a.deps)
	if err != nil {
		a.close()
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		a.close()
		return fmt.Errorf("server.listen %s: %w (is another Parley running? change server.listen)", cfg.Server.Listen, err)
	}
	serveErr, err := a.serveHTTPS(ctx, web, ln)
	if err != nil {
		_ = web.ShutdownWithTimeout(2 * time.Second)
		ln.Close()
		a.close()
		return err
	}
	stopMetrics, err := a.serveMetrics(serveErr)
	if err != nil {
		_ = web.ShutdownWithTimeout(2 * time.Second)
		a.close()
		return err
	}
	defer stopMetrics()

	for _, start := range a.starters {
		if err := start(ctx); err != nil {
			_ = web.ShutdownWithTimeout(2 * time.Second)
			a.close()
			return err
		}
	}
	// Start-up hashes passwords (the login dummy hash, the bootstrap admin) with argon2id,
	// whose tens of MiB the runtime would otherwise hand back to the OS only minutes later:
	// return them now, with the executable's pages start-up alone read, so an idle server's
	// RSS is its real size.
	memtrim.Release()
	fmt.Fprintf(stdout, "Parley is listening on %s (public URL %s)\n", urlOf(ln, cfg), cfg.Server.PublicURL)

	g, gctx := errgroup.WithContext(workCtx)
	for _, w := range a.workers {
		g.Go(func() error { return w(gctx) })
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("http server stopped: %w", err)
	case <-gctx.Done():
	}
	a.log.Info("shutting down")
	shutdownErr := web.ShutdownWithTimeout(8 * time.Second)
	cancelWork()
	if werr := g.Wait(); werr != nil && !errors.Is(werr, context.Canceled) && err == nil {
		err = werr
	}
	a.close()
	if shutdownErr != nil {
		a.log.Warn("http drain incomplete", "err", shutdownErr)
	}
	a.log.Info("stopped")
	return err
}

// close runs the closers, last added first, each bounded so shutdown stays under 10 s.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		if err := a.closers[i](ctx); err != nil {
			a.log.Warn("shutdown step failed", "err", err)
		}
		cancel()
	}
	a.closers = nil
}

func urlOf(ln net.Listener, cfg config.Config) string {
	scheme := "http"
	if cfg.Server.TLSEnabled() {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s", scheme, ln.Addr().String())
}
