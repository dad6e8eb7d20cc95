package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/parley/parley/internal/livekit"
)

// wireLiveKit builds the LiveKit supervisor (embedded process or external watcher), whose
// SDK clients the other modules use; LiveKit starts after Parley's listener is up, because
// it posts webhooks to Parley.
func (a *app) wireLiveKit() (*livekit.Supervisor, error) {
	o, err := a.liveKitOptions()
	if err != nil {
		return nil, err
	}
	sup, err := livekit.New(o)
	if err != nil {
		return nil, err
	}
	a.starters = append(a.starters, sup.Start)
	a.closers = append(a.closers, sup.Stop)
	return sup, nil
}

// liveKitOptions translates Parley's config into the supervisor's options.
func (a *app) liveKitOptions() (livekit.Options, error) {
	lk := a.cfg.LiveKit
	o := livekit.Options{
		External: lk.External, HTTPURL: lk.InternalHost, PublicURL: lk.Host,
		APIKey: lk.APIKey, APISecret: lk.APISecret, SkipTLSVerify: lk.SkipTLSVerify,
		StartTimeout: time.Duration(lk.StartTimeout),
		Log:          a.log.With("component", "livekit"), Now: time.Now, Registry: a.reg,
	}
	if lk.External {
		return o, nil
	}
	exe, _ := os.Executable()
	wd, _ := os.Getwd()
	bin, err := livekit.FindBinary(lk.Binary, a.getenv, exe, wd)
	if err != nil {
		return o, err
	}
	o.Binary = bin
	if lk.ConfigPath != "" {
		o.ConfigPath = lk.ConfigPath
		return o, nil
	}
	pub, err := url.Parse(a.cfg.Server.PublicURL)
	if err != nil {
		return o, fmt.Errorf("server.publicURL: %w", err)
	}
	publicHost := pub.Hostname()
	node := livekit.ResolveNodeIP(lk.NodeIP, publicHost)
	if node.Warning != "" {
		a.log.Warn(node.Warning, "component", "livekit")
	}
	a.log.Info("livekit node IP", "component", "livekit", "node_ip", node.IP, "source", node.Source)
	if w := natWarning(node, publicHost, net.DefaultResolver.LookupIPAddr); w != "" && !lk.UseExternalIP {
		a.log.Warn(w, "component", "livekit")
	}
	loopbackPublic := isLoopbackHost(publicHost)
	var bind []string
	if loopbackPublic || a.signallingProxied() {
		// Browsers reach signalling through Parley's port (or only this machine uses it):
		// LiveKit's HTTP port stays on loopback. bind_addresses covers the HTTP listener only;
		// the RTC ports and TURN keep every interface.
		bind = []string{"127.0.0.1"}
	}
	turn, err := a.turnParams(publicHost)
	if err != nil {
		return o, err
	}
	o.Render = livekit.RenderParams{
		Port: lk.Port, BindAddresses: bind, APIKey: lk.APIKey, APISecret: lk.APISecret,
		RTCTCPPort: lk.RTC.TCPPort, UDPPortStart: lk.RTC.UDPPortStart, UDPPortEnd: lk.RTC.UDPPortEnd,
		NodeIP: node.IP, UseExternalIP: lk.UseExternalIP, LoopbackCandidate: loopbackPublic || net.ParseIP(node.IP).IsLoopback(),
		TURN:         turn,
		Redis:        livekit.RedisParams{Address: lk.Redis.Address, Password: lk.Redis.Password, DB: lk.Redis.DB},
		EmptyTimeout: time.Duration(lk.EmptyTimeout), DepartureTimeout: time.Duration(lk.DepartureTimeout),
		LogLevel: liveKitLogLevel(a.cfg.Log.Level),
	}
	o.RedisAddress = lk.Redis.Address
	o.RunDir = filepath.Join(a.cfg.Server.DataDir, "run")
	hook, err := a.webhookURL()
	if err != nil {
		return o, err
	}
	o.WebhookURL = func() string { return hook }
	return o, nil
}

// turnParams enables TURN when Parley serves TLS (TURN/TLS then arrives on Parley's TLS port,
// under its certificate) or when livekit.turn.enabled. TURN/TLS needs a DNS name: explicitly enabled TURN fails
// without one; TURN enabled only because of server.tls falls back to UDP with a warning.
func (a *app) turnParams(publicHost string) (livekit.TURNParams, error) {
	c, tlsOn := a.cfg.LiveKit.TURN, a.cfg.Server.TLSEnabled()
	if !c.Enabled && !tlsOn {
		return livekit.TURNParams{}, nil
	}
	t := livekit.TURNParams{Enabled: true, Domain: c.Domain, UDPPort: c.UDPPort}
	if t.Domain == "" && net.ParseIP(publicHost) == nil && !isLoopbackHost(publicHost) {
		t.Domain = publicHost // never the bind address: the name clients resolve and the certificate names
	}
	if !tlsOn {
		return t, livekit.ValidateTURN(t)
	}
	// Parley terminates TURN/TLS on its own port and forwards plain TCP to tlsPort.
	t.TLSPort, t.ExternalTLS = c.TLSPort, true
	err := livekit.ValidateTURN(t)
	if err != nil && !c.Enabled {
		a.log.Warn("TURN/TLS disabled (TURN over UDP only): "+err.Error(), "component", "livekit")
		t.TLSPort, t.ExternalTLS = 0, false
		return t, livekit.ValidateTURN(t)
	}
	if err == nil && t.TLSPort > 0 {
		a.edgeTURN(t, publicHost)
	}
	return t, err
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// liveKitLogLevel keeps LiveKit at info when Parley debugs: its debug output is a flood.
func liveKitLogLevel(parley string) string {
	if parley == "warn" || parley == "error" {
		return parley
	}
	return "info"
}
