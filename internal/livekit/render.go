package livekit

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrConfig marks a configuration that cannot work; its message names the key and the fix.
var ErrConfig = errors.New("livekit config")

// RenderParams is everything RenderConfig needs, already resolved (node IP found, secrets
// loaded): rendering itself is pure so that golden files pin the output.
type RenderParams struct {
	Port          int
	BindAddresses []string // empty: every interface
	APIKey        string
	APISecret     string
	RTCTCPPort    int
	UDPPortStart  int
	UDPPortEnd    int // equal to UDPPortStart: one muxed udp_port
	NodeIP        string
	// UseExternalIP lets LiveKit find its public address by STUN (rtc.use_external_ip): for
	// hosts behind 1:1 NAT that can reach the internet's STUN servers at start-up.
	UseExternalIP bool
	// LoopbackCandidate adds loopback ICE candidates (on when NodeIP or the public host is loopback).
	LoopbackCandidate bool
	TURN              TURNParams
	WebhookURL        string
	Redis             RedisParams
	EmptyTimeout      time.Duration
	DepartureTimeout  time.Duration
	LogLevel          string // debug | info | warn | error
}

// TURNParams configures LiveKit's embedded TURN server.
type TURNParams struct {
	Enabled  bool
	Domain   string
	UDPPort  int
	TLSPort  int // 0: no TURN/TLS
	CertFile string
	KeyFile  string
	// ExternalTLS: Parley terminates TLS on its own port and forwards TURN to TLSPort as plain
	// TCP (turn.external_tls), so LiveKit needs no certificate and renewals never restart it.
	ExternalTLS bool
}

// RedisParams joins LiveKit to a Redis-coordinated cluster when Address is set.
type RedisParams struct {
	Address  string
	Password string
	DB       int
}

// The yaml structs below hold only keys LiveKit v1.13 accepts: it aborts on unknown keys.
type lkYAML struct {
	Port          int               `yaml:"port"`
	BindAddresses []string          `yaml:"bind_addresses,omitempty"`
	Keys          map[string]string `yaml:"keys"`
	RTC           lkRTC             `yaml:"rtc"`
	TURN          *lkTURN           `yaml:"turn,omitempty"`
	Webhook       *lkWebhook        `yaml:"webhook,omitempty"`
	Redis         *lkRedis          `yaml:"redis,omitempty"`
	Room          lkRoom            `yaml:"room"`
	Logging       lkLogging         `yaml:"logging"`
}

type lkRTC struct {
	TCPPort                 int    `yaml:"tcp_port"`
	UDPPort                 int    `yaml:"udp_port,omitempty"`
	PortRangeStart          int    `yaml:"port_range_start,omitempty"`
	PortRangeEnd            int    `yaml:"port_range_end,omitempty"`
	NodeIP                  string `yaml:"node_ip"`
	UseExternalIP           bool   `yaml:"use_external_ip"`
	EnableLoopbackCandidate bool   `yaml:"enable_loopback_candidate"`
}

type lkTURN struct {
	Enabled  bool   `yaml:"enabled"`
	Domain   string `yaml:"domain,omitempty"`
	UDPPort  int    `yaml:"udp_port,omitempty"`
	TLSPort  int    `yaml:"tls_port,omitempty"`
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// ExternalTLS and AllowRestrictedPeerCIDRs are LiveKit's turn.external_tls and
	// turn.allow_restricted_peer_cidrs.
	ExternalTLS              bool     `yaml:"external_tls,omitempty"`
	AllowRestrictedPeerCIDRs []string `yaml:"allow_restricted_peer_cidrs,omitempty"`
}

type lkWebhook struct {
	APIKey string   `yaml:"api_key"`
	URLs   []string `yaml:"urls"`
}

type lkRedis struct {
	Address  string `yaml:"address"`
	Password string `yaml:"password,omitempty"`
	DB       int    `yaml:"db,omitempty"`
}

type lkRoom struct {
	AutoCreate       bool `yaml:"auto_create"`
	EmptyTimeout     int  `yaml:"empty_timeout"`
	DepartureTimeout int  `yaml:"departure_timeout"`
}

type lkLogging struct {
	JSON  bool   `yaml:"json"`
	Level string `yaml:"level"`
}

// RenderConfig renders LiveKit's YAML. It is pure: same params, same bytes.
func RenderConfig(p RenderParams) ([]byte, error) {
	if err := validateParams(p); err != nil {
		return nil, err
	}
	y := lkYAML{
		Port:          p.Port,
		BindAddresses: p.BindAddresses,
		Keys:          map[string]string{p.APIKey: p.APISecret},
		RTC: lkRTC{
			TCPPort: p.RTCTCPPort, NodeIP: p.NodeIP,
			// Parley resolves node_ip itself unless asked: a STUN lookup hangs or fails offline.
			UseExternalIP:           p.UseExternalIP,
			EnableLoopbackCandidate: p.LoopbackCandidate,
		},
		// Parley creates rooms explicitly; a token for an unknown room must not create one.
		Room: lkRoom{AutoCreate: false, EmptyTimeout: seconds(p.EmptyTimeout), DepartureTimeout: seconds(p.DepartureTimeout)},
		// JSON lines let Parley map every line to its slog level.
		Logging: lkLogging{JSON: true, Level: orDefault(p.LogLevel, "info")},
	}
	if p.UDPPortStart == p.UDPPortEnd {
		y.RTC.UDPPort = p.UDPPortStart
	} else {
		y.RTC.PortRangeStart, y.RTC.PortRangeEnd = p.UDPPortStart, p.UDPPortEnd
	}
	if t := p.TURN; t.Enabled {
		y.TURN = &lkTURN{Enabled: true, Domain: t.Domain, UDPPort: t.UDPPort, AllowRestrictedPeerCIDRs: restrictedSelf(p.NodeIP)}
		switch {
		case t.TLSPort > 0 && t.ExternalTLS:
			y.TURN.TLSPort, y.TURN.ExternalTLS = t.TLSPort, true
		case t.TLSPort > 0:
			y.TURN.TLSPort, y.TURN.CertFile, y.TURN.KeyFile = t.TLSPort, t.CertFile, t.KeyFile
		}
	}
	if p.WebhookURL != "" {
		y.Webhook = &lkWebhook{APIKey: p.APIKey, URLs: []string{p.WebhookURL}}
	}
	if p.Redis.Address != "" {
		y.Redis = &lkRedis{Address: p.Redis.Address, Password: p.Redis.Password, DB: p.Redis.DB}
	}
	var b strings.Builder
	b.WriteString("# Generated by Parley for livekit-server; do not edit (it is rewritten at every start).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(y); err != nil {
		return nil, fmt.Errorf("render livekit config: %w", err)
	}
	return []byte(b.String()), nil
}

func validateParams(p RenderParams) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if p.APIKey == "" || len(p.APISecret) < 32 {
		bad("livekit.apiKey/apiSecret: need a key and a secret of at least 32 characters")
	}
	if net.ParseIP(p.NodeIP) == nil {
		bad("livekit.nodeIP: %q is not an IP address", p.NodeIP)
	}
	if p.UDPPortStart <= 0 || p.UDPPortEnd < p.UDPPortStart {
		bad("livekit.rtc.udpPortStart/udpPortEnd: %d-%d is not a port range", p.UDPPortStart, p.UDPPortEnd)
	}
	if err := ValidateTURN(p.TURN); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// domainRE is LiveKit's own check (service.IsValidDomain): at least one dot, no IP literal.
var domainRE = regexp.MustCompile(`^(?i)[a-z0-9-]+(\.[a-z0-9-]+)+\.?$`)

// ValidateTURN refuses what LiveKit would refuse at startup, with Parley's key names:
// TURN/TLS needs a DNS name (LiveKit exits "TURN domain required") and a certificate.
func ValidateTURN(t TURNParams) error {
	if !t.Enabled {
		return nil
	}
	if t.UDPPort <= 0 && t.TLSPort <= 0 {
		return fmt.Errorf("%w: livekit.turn: enabled without a port; set livekit.turn.udpPort (3478) or serve TLS for turn.tlsPort", ErrConfig)
	}
	if t.TLSPort <= 0 {
		return nil
	}
	if t.Domain == "" {
		return fmt.Errorf("%w: livekit.turn.domain: TURN/TLS needs a domain name; set livekit.turn.domain or give server.publicURL a host name (LiveKit refuses \"TURN domain required\")", ErrConfig)
	}
	if net.ParseIP(strings.Trim(t.Domain, "[]")) != nil || !domainRE.MatchString(t.Domain) {
		return fmt.Errorf("%w: livekit.turn.domain: %q is not a DNS name (e.g. turn.example.com); TURN/TLS needs the name on the certificate, not an IP or localhost", ErrConfig, t.Domain)
	}
	if !t.ExternalTLS && (t.CertFile == "" || t.KeyFile == "") {
		return fmt.Errorf("%w: livekit.turn: TURN/TLS on port %d needs server.tls.cert and server.tls.key", ErrConfig, t.TLSPort)
	}
	return nil
}

// restrictedSelf allows TURN relays to node_ip itself when LiveKit counts it restricted
// (private, loopback, link-local): the relay's peer is LiveKit's own ICE candidate, and
// LiveKit refuses restricted peers unless listed. Only that one address is opened, not the
// private network around it.
func restrictedSelf(nodeIP string) []string {
	ip := net.ParseIP(nodeIP)
	if ip == nil || !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) {
		return nil
	}
	if ip.To4() != nil {
		return []string{ip.String() + "/32"}
	}
	return []string{ip.String() + "/128"}
}

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
