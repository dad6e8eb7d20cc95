// Package doctor checks a Parley deployment from the host it runs on: the failures of
// LiveKit deployment guides' troubleshooting tables (DNS pointing elsewhere, an expired or
// misnamed certificate, a port taken or closed, TURN that does not allocate, a rejected API
// key, webhooks that never arrive, a private node_ip behind a public name), each reported
// as PASS, WARN or FAIL with a one-line finding and the fix, naming the config key, its
// environment variable or the firewall port. `parley doctor` and GET /api/admin/doctor run
// the same checks.
//
// Every input arrives through Target (what the configuration says) and Env (how the world
// is reached: resolver, dialer, LiveKit's API, the webhook log), so each check is tested
// with fakes and the real run dials for real.
package doctor

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	lkp "github.com/livekit/protocol/livekit"
)

// Status is a check's verdict.
type Status string

// The verdicts: PASS works, WARN works with a caveat worth reading, FAIL is broken for
// some or all users.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Result is one check's outcome. Fix is empty on PASS.
type Result struct {
	Check  string
	Status Status
	Detail string
	Fix    string

	handshake bool // the TLS handshake itself failed (no certificate to judge)
}

// Check is one named check.
type Check struct {
	Name string
	Run  func(ctx context.Context) Result
}

// Target is the deployment as its configuration describes it.
type Target struct {
	PublicURL  string // server.publicURL
	Listen     string // server.listen
	TLS        bool   // Parley serves HTTPS on Listen (server.tls.cert, ACME or self-signed)
	SelfSigned bool   // server.tls.selfSigned: a certificate from Parley's local CA is expected
	CertFile   string // server.tls.cert: judged from the file when Parley does not answer
	HTTPListen string // server.httpListen: HTTP-01 challenges and redirects; "" when unset

	External     bool   // livekit.external: LiveKit's ports are another host's business
	JoinURL      string // livekit.host: the ws(s):// URL the join answer hands browsers
	LiveKitAPI   string // livekit.internalHost (http:// or https://)
	LiveKitPort  int    // livekit.port (embedded)
	RTCTCPPort   int    // livekit.rtc.tcpPort
	UDPPortStart int    // livekit.rtc.udpPortStart
	UDPPortEnd   int    // livekit.rtc.udpPortEnd
	NodeIP       string // the rtc.node_ip LiveKit advertises, resolved as Parley resolves it
	NodeIPSource string // where NodeIP came from ("livekit.nodeIP", "default route (eth0)", ...)
	// UseExternalIP: livekit.useExternalIP, LiveKit replaces NodeIP with what STUN tells it.
	UseExternalIP bool
	APIKey        string // livekit.apiKey (TURN credentials are derived from it)
	APISecret     string // livekit.apiSecret

	TURN TURN
}

// TURN is LiveKit's embedded TURN server as configured.
type TURN struct {
	Enabled bool   // livekit.turn.enabled (or implied by TLS)
	Domain  string // livekit.turn.domain, or the public host when that is a name
	UDPPort int    // livekit.turn.udpPort; 0: no TURN/UDP
	// TLSAddr is where TURN/TLS answers (host:port, an empty host meaning this machine), ""
	// when it is off. The handshake sends the TURN domain, as clients do.
	TLSAddr string
	// ClientPort is the TURN/TLS port LiveKit hands clients (443 when Parley's TLS port
	// carries it); 0: not known.
	ClientPort int
}

// LiveKitAPI is the part of LiveKit's RoomService the checks call (*livekit.RoomClient).
type LiveKitAPI interface {
	ListRooms(ctx context.Context, req *lkp.ListRoomsRequest) (*lkp.ListRoomsResponse, error)
	CreateRoom(ctx context.Context, req *lkp.CreateRoomRequest) (*lkp.Room, error)
	DeleteRoom(ctx context.Context, req *lkp.DeleteRoomRequest) (*lkp.DeleteRoomResponse, error)
}

// Env is how the checks reach the world. Real fills the defaults.
type Env struct {
	Now            func() time.Time
	LookupHost     func(ctx context.Context, host string) ([]string, error)
	InterfaceAddrs func() ([]net.Addr, error)
	Dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	ListenPacket   func(network, addr string) (net.PacketConn, error)
	// RootCAs verifies Parley's certificate; nil: the system roots.
	RootCAs *x509.CertPool
	LiveKit LiveKitAPI
	// LastWebhook is when the newest verified webhook was received (zero: none remembered).
	LastWebhook func(ctx context.Context) (time.Time, error)
	// WebhookWait bounds how long the webhook check waits for the test room's webhook.
	WebhookWait time.Duration
}

// Real returns an Env that resolves with resolver (nil: the system's), dials and binds
// for real, and calls LiveKit's API through lk.
func Real(resolver *net.Resolver, lk LiveKitAPI, lastWebhook func(ctx context.Context) (time.Time, error)) Env {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	return Env{
		Now: time.Now, LookupHost: resolver.LookupHost, InterfaceAddrs: net.InterfaceAddrs,
		Dial: d.DialContext, ListenPacket: net.ListenPacket,
		LiveKit: lk, LastWebhook: lastWebhook, WebhookWait: 10 * time.Second,
	}
}

// Checks lists the checks that apply to t, in the order the table shows them.
func Checks(t Target, e Env) []Check {
	d := &doctor{t: t, e: e}
	cs := []Check{
		{"DNS public name", d.checkPublicDNS},
		{"node_ip", d.checkNodeIP},
		{"certificate", d.checkCertificate},
		{"port server.listen", d.checkListen},
	}
	if t.HTTPListen != "" {
		cs = append(cs, Check{"port server.httpListen", d.checkHTTPListen})
	}
	cs = append(cs, Check{"LiveKit API", d.checkLiveKitAPI}, Check{"LiveKit signalling", d.checkSignalling},
		Check{"webhooks", d.checkWebhooks})
	if t.External {
		return cs
	}
	cs = append(cs,
		Check{"port livekit.port", d.checkLiveKitPort},
		Check{"port livekit.rtc.tcpPort", d.checkRTCTCP},
		Check{"UDP livekit.rtc range", d.checkUDPRange},
	)
	if t.TURN.Enabled {
		if t.TURN.Domain != "" {
			cs = append(cs, Check{"DNS TURN name", d.checkTURNDNS})
		}
		if t.TURN.UDPPort > 0 {
			cs = append(cs, Check{"TURN/UDP allocation", d.checkTURNUDP})
		}
		if t.TURN.TLSAddr != "" {
			cs = append(cs, Check{"TURN/TLS allocation", d.checkTURNTLS})
		}
	}
	return cs
}

// Run runs the checks at once, each bounded by perCheck, and returns their results in order.
func Run(ctx context.Context, checks []Check, perCheck time.Duration) []Result {
	out := make([]Result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, perCheck)
			defer cancel()
			r := c.Run(cctx)
			r.Check = c.Name
			out[i] = r
		})
	}
	wg.Wait()
	return out
}

// Failed reports whether any result is a FAIL.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// WriteTable prints the results as an aligned table, one line each.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tFINDING\tFIX")
	for _, r := range rs {
		fix := r.Fix
		if fix == "" {
			fix = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Check, r.Status, oneLine(r.Detail), oneLine(fix))
	}
	return tw.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// doctor holds one run's inputs for the check methods.
type doctor struct {
	t Target
	e Env
}

func pass(format string, args ...any) Result {
	return Result{Status: Pass, Detail: fmt.Sprintf(format, args...)}
}

func warn(fix, format string, args ...any) Result {
	return Result{Status: Warn, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

func fail(fix, format string, args ...any) Result {
	return Result{Status: Fail, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

// dialHost is the address to dial for a listen address: an unspecified or empty host
// means every interface, which loopback reaches.
func dialHost(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
