package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// deriveDefaults fills keys whose default depends on other keys.
func (c *Config) deriveDefaults() {
	if c.Database.Driver == "sqlite" && c.Database.DSN == "" {
		c.Database.DSN = filepath.Join(c.Server.DataDir, "parley.db")
	}
	if c.Recording.Storage.Type == "fs" && c.Recording.Storage.Root == "" {
		c.Recording.Storage.Root = filepath.Join(c.Server.DataDir, "recordings")
	}
	if !c.LiveKit.External {
		if c.LiveKit.Host == "" {
			c.LiveKit.Host = SignallingOrigin(c.Server.PublicURL)
		}
		if c.LiveKit.InternalHost == "" {
			c.LiveKit.InternalHost = fmt.Sprintf("http://127.0.0.1:%d", c.LiveKit.Port)
		}
	}
}

// SignallingOrigin is Parley's own public origin as a WebSocket URL (https://meet.example.com
// -> wss://meet.example.com): in embedded mode browsers reach LiveKit's signalling there,
// through Parley's proxy, and livekit.host equal to it means "proxied". "" when publicURL is
// not a URL.
func SignallingOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := "ws"
	if u.Scheme == "https" {
		scheme = "wss"
	}
	return scheme + "://" + u.Host
}

// Validate checks every key and names the key and the fix in its message.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s (%s): %s", key, EnvName(key), fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		bad("server.listen", "%q is not host:port (e.g. \"127.0.0.1:8090\" or \":8090\")", c.Server.Listen)
	}
	if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("server.publicURL", "%q must be an http:// or https:// URL browsers use to reach Parley", c.Server.PublicURL)
	}
	if c.Server.DataDir == "" {
		bad("server.dataDir", "must not be empty (default \"./data\")")
	}
	c.validateTLS(bad)
	if c.Server.BodyLimit < 1024 {
		bad("server.bodyLimit", "%d bytes is too small; use at least 1024", c.Server.BodyLimit)
	}
	c.validateProxiesAndLimits(bad)
	switch c.Database.Driver {
	case "sqlite":
	case "postgres":
		if c.Database.DSN == "" {
			bad("database.dsn", "postgres needs a DSN, e.g. \"postgres://user:pass@host:5432/parley\"")
		}
	default:
		bad("database.driver", "%q is not supported: use sqlite or postgres", c.Database.Driver)
	}
	if s := c.Auth.JWTSecret; s != "" && len(s) < 32 {
		bad("auth.jwtSecret", "is %d characters; use at least 32 (or leave it empty to have one generated)", len(s))
	}
	if c.Auth.AccessTTL <= 0 || c.Auth.RefreshTTL <= c.Auth.AccessTTL {
		bad("auth.accessTTL", "must be positive and shorter than auth.refreshTTL")
	}
	if c.Auth.LoginRate < 1 {
		bad("auth.loginRate", "must be at least 1 attempt a minute")
	}
	if (c.Auth.BootstrapAdmin.Email == "") != (c.Auth.BootstrapAdmin.Password == "") {
		bad("auth.bootstrapAdmin", "set both email and password, or neither (a random password is printed then)")
	}
	c.validateLiveKit(bad)
	c.validateRecording(bad)
	c.validateOIDC(bad)
	c.validateSMTP(bad)
	c.validateWebhooks(bad)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: use text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (c *Config) validateLiveKit(bad func(key, format string, args ...any)) {
	lk := c.LiveKit
	if lk.Host != "" && !hasScheme(lk.Host, "ws", "wss") {
		bad("livekit.host", "%q must start with ws:// or wss:// (it is the URL browsers connect to)", lk.Host)
	}
	if lk.InternalHost != "" && !hasScheme(lk.InternalHost, "http", "https") {
		bad("livekit.internalHost", "%q must start with http:// or https:// (it is the URL Parley's API calls use)", lk.InternalHost)
	}
	if lk.External {
		for key, v := range map[string]string{"livekit.host": lk.Host, "livekit.internalHost": lk.InternalHost,
			"livekit.apiKey": lk.APIKey, "livekit.apiSecret": lk.APISecret} {
			if v == "" {
				bad(key, "is required with livekit.external: true (the external server's value)")
			}
		}
	}
	if lk.APISecret != "" && len(lk.APISecret) < 32 && !lk.External {
		bad("livekit.apiSecret", "is %d characters; LiveKit needs at least 32", len(lk.APISecret))
	}
	for key, p := range map[string]int{"livekit.port": lk.Port, "livekit.rtc.tcpPort": lk.RTC.TCPPort,
		"livekit.rtc.udpPortStart": lk.RTC.UDPPortStart, "livekit.rtc.udpPortEnd": lk.RTC.UDPPortEnd,
		"livekit.turn.udpPort": lk.TURN.UDPPort, "livekit.turn.tlsPort": lk.TURN.TLSPort} {
		if p < 0 || p > 65535 {
			bad(key, "%d is not a port number (1-65535)", p)
		}
	}
	if lk.RTC.UDPPortEnd < lk.RTC.UDPPortStart {
		bad("livekit.rtc.udpPortEnd", "%d is below udpPortStart %d", lk.RTC.UDPPortEnd, lk.RTC.UDPPortStart)
	}
	if lk.UseExternalIP && lk.External {
		bad("livekit.useExternalIP", "applies to the embedded LiveKit only; set rtc.use_external_ip in the external server's own config")
	}
	if lk.NodeIP != "" && net.ParseIP(lk.NodeIP) == nil {
		bad("livekit.nodeIP", "%q is not an IP address", lk.NodeIP)
	}
	if lk.ReconcileInterval.D() < 100_000_000 {
		bad("livekit.reconcileInterval", "must be at least 100ms")
	}
	if lk.TokenTTL.D() < 10_000_000_000 {
		bad("livekit.tokenTTL", "must be at least 10s: clients need time to connect")
	}
	if c.Rooms.LobbyTimeout.D() < 10_000_000_000 {
		bad("rooms.lobbyTimeout", "must be at least 10s: a moderator needs time to answer")
	}
}

func (c *Config) validateRecording(bad func(key, format string, args ...any)) {
	r := c.Recording
	if r.Backend != "builtin" && r.Backend != "egress" {
		bad("recording.backend", "%q: use builtin (this machine) or egress (LiveKit Egress workers)", r.Backend)
	}
	switch r.Storage.Type {
	case "fs":
	case "s3":
		if r.Storage.Bucket == "" {
			bad("recording.storage.bucket", "is required with storage type s3")
		}
	default:
		bad("recording.storage.type", "%q: use fs or s3", r.Storage.Type)
	}
	if r.RetentionDays < 0 {
		bad("recording.retentionDays", "must be 0 (keep forever) or more")
	}
	if c.Audit.RetentionDays < 0 {
		bad("audit.retentionDays", "must be 0 (keep forever) or more")
	}
	if r.StartTimeout <= 0 {
		bad("recording.startTimeout", "must be positive")
	}
	if r.MaxConcurrentCompositions < 1 || r.MaxConcurrentCompositions > 64 {
		bad("recording.maxConcurrentCompositions", "must be from 1 to 64 (each composition uses every core: 1 or 2 suits most machines)")
	}
	if r.RetryBackoff < Duration(time.Second) {
		bad("recording.retryBackoff", "must be at least 1s (e.g. 1m)")
	}
	if r.MaxAttempts < 1 {
		bad("recording.maxAttempts", "must be 1 (never retry) or more")
	}
}

func (c *Config) validateWebhooks(bad func(key, format string, args ...any)) {
	w := c.Webhooks
	if w.RetryBase <= 0 {
		bad("webhooks.retryBase", "must be positive (e.g. 5s)")
	}
	if w.RetryMax < w.RetryBase {
		bad("webhooks.retryMax", "must be at least webhooks.retryBase (e.g. 1h)")
	}
	if w.RetryFor <= 0 {
		bad("webhooks.retryFor", "must be positive (e.g. 24h)")
	}
	if w.Timeout <= 0 || w.Timeout > Duration(time.Minute) {
		bad("webhooks.timeout", "must be from 1ms to 1m (e.g. 10s): a receiver that holds a delivery longer holds its queue")
	}
}

func hasScheme(raw string, schemes ...string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	for _, s := range schemes {
		if strings.EqualFold(u.Scheme, s) {
			return true
		}
	}
	return false
}

func (c *Config) validateProxiesAndLimits(bad func(key, format string, args ...any)) {
	for _, p := range c.Server.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("server.trustedProxies", "%q is neither an IP address nor a CIDR range (e.g. \"10.0.0.0/8\")", p)
			}
		}
	}
	if l := c.Server.MetricsListen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			bad("server.metricsListen", "%q is not host:port (e.g. \"127.0.0.1:9090\"), or leave it empty", l)
		}
	}
	rl := c.Server.RateLimits
	for key, n := range map[string]int{"server.rateLimits.guestJoins": rl.GuestJoins,
		"server.rateLimits.registrations": rl.Registrations, "server.rateLimits.roomCreations": rl.RoomCreations,
		"server.rateLimits.recordingStarts": rl.RecordingStarts, "server.rateLimits.eventStreams": rl.EventStreams} {
		if n < 1 {
			bad(key, "must be at least 1 (%d given)", n)
		}
	}
}

// validateTLS checks the certificate modes: files, ACME or a local CA, at most one.
func (c *Config) validateTLS(bad func(key, format string, args ...any)) {
	s := c.Server
	t := s.TLS
	if (t.Cert == "") != (t.Key == "") {
		bad("server.tls", "set both cert and key, or neither")
	}
	modes := []string{}
	if t.Cert != "" {
		modes = append(modes, "server.tls.cert/key")
	}
	if t.ACME.Enabled {
		modes = append(modes, "server.tls.acme.enabled")
	}
	if t.SelfSigned {
		modes = append(modes, "server.tls.selfSigned")
	}
	if len(modes) > 1 {
		bad("server.tls", "%s are exclusive: keep one way to get the certificate", strings.Join(modes, " and "))
	}
	pub, _ := url.Parse(s.PublicURL)
	if (t.ACME.Enabled || t.SelfSigned) && pub != nil && pub.Scheme != "https" {
		bad("server.publicURL", "%q must be https:// when Parley makes its certificate (it is the URL browsers use)", s.PublicURL)
	}
	if t.ACME.Enabled {
		if h := hostOf(pub); !isDNSName(h) {
			bad("server.tls.acme.enabled", "needs server.publicURL with a public DNS name (got %q): ACME cannot certify IP addresses or localhost; use server.tls.selfSigned on a LAN", h)
		}
		if d := c.LiveKit.TURN.Domain; d != "" && !isDNSName(d) {
			bad("livekit.turn.domain", "%q must be a DNS name: ACME certifies it with server.publicURL's host", d)
		}
		if !hasScheme(t.ACME.DirectoryURL, "https") {
			bad("server.tls.acme.directoryURL", "%q must be the https:// URL of the CA's ACME directory (default %s)", t.ACME.DirectoryURL, LetsEncrypt)
		}
		if e := t.ACME.Email; e != "" && !strings.Contains(e, "@") {
			bad("server.tls.acme.email", "%q is not an e-mail address (or leave it empty)", e)
		}
		if d := time.Duration(t.ACME.RenewCheckInterval); d < time.Second {
			bad("server.tls.acme.renewCheckInterval", "%v is below 1s: give a duration such as \"10m\" (the default)", d)
		}
	}
	if t.ACME.CARoot != "" {
		if _, err := os.Stat(t.ACME.CARoot); err != nil {
			bad("server.tls.acme.caRoot", "cannot read %s: give the path of a PEM file, or leave it empty", t.ACME.CARoot)
		}
	}
	if s.HTTPListen != "" {
		if _, _, err := net.SplitHostPort(s.HTTPListen); err != nil {
			bad("server.httpListen", "%q is not host:port (e.g. \":80\")", s.HTTPListen)
		} else if !s.TLSEnabled() {
			bad("server.httpListen", "redirects to https and answers ACME HTTP-01: enable server.tls (acme, selfSigned or cert/key) or leave it empty")
		} else if s.HTTPListen == s.Listen {
			bad("server.httpListen", "%q is also server.listen: use another port (e.g. \":80\" beside \":443\")", s.HTTPListen)
		}
	}
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}

// isDNSName is true for a name a public CA can certify: not an IP, not localhost, dotted.
func isDNSName(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	return h != "" && net.ParseIP(h) == nil && strings.Contains(h, ".") &&
		h != "localhost" && !strings.HasSuffix(h, ".localhost")
}
