package doctor

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jxskiss/base62"
	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// turnRealm is the realm LiveKit's TURN server authenticates in.
const turnRealm = "livekit"

// TURNCredentials are the long-term credentials LiveKit's TURN server accepts for a
// participant id: the username carries the API key, the id and an expiry, and the password
// is derived from the API secret, so whoever holds the key pair can mint them (as LiveKit
// does when it hands ICE servers to a client).
func TURNCredentials(apiKey, apiSecret, participantID string, expiry time.Time) (username, password string) {
	exp := expiry.Unix()
	username = base62.EncodeToString(fmt.Appendf(nil, "%s|%s|%d", apiKey, participantID, exp))
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d", apiSecret, participantID, exp))
	return username, base62.EncodeToString(sum[:])
}

// allocate makes a real TURN allocation over conn (a UDP socket, or a stream framed as
// packets) with LiveKit's credentials and returns the relayed address.
func (d *doctor) allocate(ctx context.Context, conn net.PacketConn, server string) (net.Addr, error) {
	user, pass := TURNCredentials(d.t.APIKey, d.t.APISecret, "PA_parley_doctor", d.e.Now().Add(5*time.Minute))
	client, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server, Username: user, Password: pass, Realm: turnRealm,
		Conn: conn, Software: "parley-doctor",
		// pion's own log stays quiet: its errors come back from Allocate and reach the table.
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled},
	})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	// Allocate has no context: closing the socket ends its retransmissions at the deadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := client.Listen(); err != nil {
		return nil, err
	}
	relay, err := client.Allocate()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer: %w", ctx.Err())
		}
		return nil, err
	}
	defer relay.Close()
	return relay.LocalAddr(), nil
}

func turnFailure(err error, where, portFix string) Result {
	// A wrong password fails MESSAGE-INTEGRITY, which pion's server (LiveKit's) answers 400.
	if msg := err.Error(); strings.Contains(msg, "error 400") || strings.Contains(msg, "error 401") {
		return fail("livekit.apiKey and livekit.apiSecret (PARLEY_LIVEKIT_API_KEY, PARLEY_LIVEKIT_API_SECRET) must be a pair of LiveKit's keys:",
			"LiveKit's TURN at %s refused Parley's credentials: %v", where, err)
	}
	return fail(portFix, "no TURN allocation at %s: %v", where, err)
}

// checkTURNUDP allocates a relay on LiveKit's TURN/UDP port, as a browser behind a strict NAT does.
func (d *doctor) checkTURNUDP(ctx context.Context) Result {
	server := net.JoinHostPort(d.mediaHost(), strconv.Itoa(d.t.TURN.UDPPort))
	conn, err := d.e.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		return fail("check this host's sockets", "cannot open a UDP socket: %v", err)
	}
	defer conn.Close()
	relay, err := d.allocate(ctx, conn, server)
	if err != nil {
		return turnFailure(err, server+"/udp", fmt.Sprintf("check livekit.turn.enabled and livekit.turn.udpPort (PARLEY_LIVEKIT_TURN_UDP_PORT) and Parley's log for LiveKit's TURN errors; open UDP %d in the firewall", d.t.TURN.UDPPort))
	}
	return pass("allocated relay %s through %s/udp; open UDP %d in the firewall", relay, server, d.t.TURN.UDPPort)
}

// checkTURNTLS allocates a relay through TURN over TLS, the path of clients that can reach
// nothing but TCP to a TLS port.
func (d *doctor) checkTURNTLS(ctx context.Context) Result {
	portFix := "check livekit.turn.domain (PARLEY_LIVEKIT_TURN_DOMAIN), the certificate and Parley's log for LiveKit's TURN errors; open the TURN/TLS TCP port in the firewall"
	addr, err := dialHost(d.t.TURN.TLSAddr)
	if err != nil {
		return fail(portFix, "TURN/TLS address %q: %v", d.t.TURN.TLSAddr, err)
	}
	where := addr + "/tls"
	raw, err := d.e.Dial(ctx, "tcp", addr)
	if err != nil {
		return fail(portFix, "TURN/TLS at %s does not accept connections: %v", addr, err)
	}
	defer raw.Close()
	c := tls.Client(raw, &tls.Config{ServerName: d.t.TURN.Domain, InsecureSkipVerify: true}) //nolint:gosec // the certificate check judges it
	if err := c.HandshakeContext(ctx); err != nil {
		return fail(portFix, "TLS handshake with TURN/TLS at %s (name %s) failed: %v", addr, d.t.TURN.Domain, err)
	}
	relay, err := d.allocate(ctx, turn.NewSTUNConn(c), addr)
	if err != nil {
		return turnFailure(err, where, portFix)
	}
	if port := publicPort(d.t.PublicURL); d.t.TURN.ClientPort > 0 && port != strconv.Itoa(d.t.TURN.ClientPort) {
		return warn(fmt.Sprintf("forward TCP %d to Parley's TLS port %s (server.listen), or serve Parley on %d", d.t.TURN.ClientPort, port, d.t.TURN.ClientPort),
			"allocated relay %s through TURN/TLS %s, but LiveKit tells clients turns:%s:%d while Parley's public port is %s", relay, addr, d.t.TURN.Domain, d.t.TURN.ClientPort, port)
	}
	return pass("allocated relay %s through TURN/TLS %s (name %s)", relay, addr, d.t.TURN.Domain)
}
