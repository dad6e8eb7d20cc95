package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/doctor"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
)

// doctorCheckTimeout bounds each check; the webhook check waits up to 10 s for its webhook.
const doctorCheckTimeout = 20 * time.Second

// doctorCommand is `parley doctor [--config FILE] [--resolver HOST:PORT]`: it checks the
// running Parley that the configuration describes (it starts nothing), prints the table and
// fails when any check fails, so scripts can gate on it.
func doctorCommand(ctx context.Context, cfgPath string, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("parley doctor", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&cfgPath, "config", cfgPath, "configuration file of the Parley to check (default ./config.yaml if present)")
	resolverAddr := fs.String("resolver", "", "DNS server to ask (host:port, e.g. 1.1.1.1:53) instead of this host's resolver")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("parley doctor: unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(*resolverAddr); *resolverAddr != "" && err != nil {
		return fmt.Errorf("parley doctor: --resolver %q must be host:port, e.g. 1.1.1.1:53", *resolverAddr)
	}
	cfg, _, err := config.Load(cfgPath, getenv)
	if err != nil {
		return err
	}
	if _, err := config.EnsureSecrets(&cfg); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler) // the table is the output
	g, err := db.Open(cfg.Database.Driver, cfg.Database.DSN, log)
	if err != nil {
		return fmt.Errorf("%w (check database.driver and database.dsn)", err)
	}
	defer db.Close(g)
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	lk := livekit.NewRoomClient(cfg.LiveKit.InternalHost, cfg.LiveKit.APIKey, cfg.LiveKit.APISecret, nil, livekit.DefaultCallTimeout)
	run := doctorRunner(cfg, resolverFor(*resolverAddr), lk, sqlDB)
	results := run(ctx)
	if err := doctor.WriteTable(stdout, results); err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if r.Status == doctor.Fail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(results))
	}
	return nil
}

// wireDoctor serves the same checks on GET /api/admin/doctor.
func (a *app) wireDoctor(sup *livekit.Supervisor) (api.DoctorService, error) {
	sqlDB, err := a.db.DB()
	if err != nil {
		return nil, err
	}
	return doctorRunner(a.cfg, nil, sup.RoomClient(), sqlDB), nil
}

// doctorRunner builds the checks for cfg with real dialing; resolver nil is the system's.
func doctorRunner(cfg config.Config, resolver *net.Resolver, lk doctor.LiveKitAPI, sqlDB *sql.DB) func(context.Context) []doctor.Result {
	t := doctorTarget(cfg)
	env := doctor.Real(resolver, lk, func(ctx context.Context) (time.Time, error) { return live.LastWebhookAt(ctx, sqlDB) })
	// One run at a time: two runs binding the same UDP ports would each count the other's.
	var mu sync.Mutex
	return func(ctx context.Context) []doctor.Result {
		mu.Lock()
		defer mu.Unlock()
		return doctor.Run(ctx, doctor.Checks(t, env), doctorCheckTimeout)
	}
}

// resolverFor asks the DNS server at addr ("" keeps the system's resolver).
func resolverFor(addr string) *net.Resolver {
	if addr == "" {
		return nil
	}
	d := &net.Dialer{Timeout: 3 * time.Second}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}

// doctorTarget describes the deployment as Parley itself derives it from cfg: the same
// node_ip resolution and TURN parameters the LiveKit wiring renders.
func doctorTarget(cfg config.Config) doctor.Target {
	lk := cfg.LiveKit
	t := doctor.Target{
		PublicURL: cfg.Server.PublicURL, Listen: cfg.Server.Listen, TLS: cfg.Server.TLSEnabled(), CertFile: cfg.Server.TLS.Cert,
		SelfSigned: cfg.Server.TLS.SelfSigned, HTTPListen: cfg.Server.HTTPListen, UseExternalIP: lk.UseExternalIP,
		External: lk.External, JoinURL: lk.Host, LiveKitAPI: lk.InternalHost, LiveKitPort: lk.Port,
		RTCTCPPort: lk.RTC.TCPPort, UDPPortStart: lk.RTC.UDPPortStart, UDPPortEnd: lk.RTC.UDPPortEnd,
		APIKey: lk.APIKey, APISecret: lk.APISecret,
	}
	publicHost := ""
	if u, err := url.Parse(cfg.Server.PublicURL); err == nil {
		publicHost = u.Hostname()
	}
	node := livekit.ResolveNodeIP(lk.NodeIP, publicHost)
	t.NodeIP, t.NodeIPSource = node.IP, node.Source
	if lk.External {
		return t
	}
	// Its warnings were Parley's at start; the doctor's findings are the table.
	a := &app{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	turn, _ := a.turnParams(publicHost) // invalid TURN settings stop Parley at start, named there
	t.TURN = doctor.TURN{Enabled: turn.Enabled, Domain: turn.Domain, UDPPort: turn.UDPPort}
	if turn.TLSPort > 0 {
		// Clients reach TURN/TLS on Parley's own TLS port, told apart from HTTPS by its name
		// or its first bytes: dialling there checks the mux and LiveKit's listener at once.
		t.TURN.TLSAddr, t.TURN.ClientPort = cfg.Server.Listen, 443 // external_tls: LiveKit advertises 443
	}
	return t
}
