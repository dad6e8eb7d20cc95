package doctor

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jxskiss/base62"
	"github.com/pion/turn/v5"
)

// liveKitAuth checks credentials as LiveKit's TURN server does (pkg/service/turn.go):
// the username is base62("key|participant|expiry"), the password base62(sha256("secret|participant|expiry")).
func liveKitAuth(keys map[string]string) turn.AuthHandler {
	return func(ra *turn.RequestAttributes) (string, []byte, bool) {
		decoded, err := base62.DecodeString(ra.Username)
		if err != nil {
			return "", nil, false
		}
		parts := strings.Split(string(decoded), "|")
		if len(parts) != 3 {
			return "", nil, false
		}
		exp, _ := strconv.ParseInt(parts[2], 10, 64)
		if time.Now().After(time.Unix(exp, 0)) {
			return "", nil, false
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d", keys[parts[0]], parts[1], exp))
		return parts[1], turn.GenerateAuthKey(ra.Username, turnRealm, base62.EncodeToString(sum[:])), true
	}
}

// turnServer runs a pion TURN server on loopback UDP and TLS with LiveKit's credential scheme.
func turnServer(t *testing.T, keys map[string]string) (udpPort int, tlsAddr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, key := issue(t, nil, nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), false, "turn.example.com")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	relay := &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"}
	s, err := turn.NewServer(turn.ServerConfig{
		Realm: turnRealm, AuthHandler: liveKitAuth(keys),
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: relay}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: ln, RelayAddressGenerator: relay}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return pc.LocalAddr().(*net.UDPAddr).Port, ln.Addr().String()
}

func TestTURNAllocation(t *testing.T) {
	secret := strings.Repeat("s", 32)
	udpPort, tlsAddr := turnServer(t, map[string]string{"APIkey": secret})
	env := Env{Now: time.Now, Dial: (&net.Dialer{}).DialContext, ListenPacket: net.ListenPacket, InterfaceAddrs: net.InterfaceAddrs}
	target := Target{NodeIP: "127.0.0.1", APIKey: "APIkey", APISecret: secret,
		TURN: TURN{Enabled: true, Domain: "turn.example.com", UDPPort: udpPort, TLSAddr: tlsAddr}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	d := &doctor{t: target, e: env}
	wantResult(t, d.checkTURNUDP(ctx), Pass, "allocated relay 127.0.0.1:", "open UDP "+strconv.Itoa(udpPort))
	wantResult(t, d.checkTURNTLS(ctx), Pass, "allocated relay 127.0.0.1:", "TURN/TLS "+tlsAddr, "name turn.example.com")

	wrong := target
	wrong.APISecret = strings.Repeat("w", 32)
	d = &doctor{t: wrong, e: env}
	wantResult(t, d.checkTURNUDP(ctx), Fail, "refused Parley's credentials", "livekit.apiSecret")
	wantResult(t, d.checkTURNTLS(ctx), Fail, "refused Parley's credentials")
}

func TestTURNNoServer(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0") // holds a port that answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	d := &doctor{t: Target{NodeIP: "127.0.0.1", APIKey: "k", APISecret: "s",
		TURN: TURN{UDPPort: pc.LocalAddr().(*net.UDPAddr).Port, Domain: "turn.example.com", TLSAddr: closedPort(t)}},
		e: Env{Now: time.Now, Dial: (&net.Dialer{}).DialContext, ListenPacket: net.ListenPacket, InterfaceAddrs: net.InterfaceAddrs}}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	wantResult(t, d.checkTURNUDP(ctx), Fail, "no TURN allocation", "PARLEY_LIVEKIT_TURN_UDP_PORT", "open UDP")
	wantResult(t, d.checkTURNTLS(context.Background()), Fail, "does not accept connections")
}
