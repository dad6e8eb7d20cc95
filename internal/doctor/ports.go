package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	lkp "github.com/livekit/protocol/livekit"
)

// get sends GET url over a connection to addr (whatever host the URL names, so TLS sends
// the public name), with any certificate accepted: the certificate check judges it.
func (d *doctor) get(ctx context.Context, addr, url string) (int, string, error) {
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, network, _ string) (net.Conn, error) { return d.e.Dial(ctx, network, addr) },
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the certificate check judges it
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, "redirect to " + loc, nil
	}
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// holder tells how to find the program on a TCP port.
func holder(port string) string {
	return fmt.Sprintf("`ss -ltnp 'sport = :%s'` shows the program", port)
}

// checkListen: Parley's own listener answers /healthz as Parley. Something else on the
// port, or nothing, are the two ways a deployment's first request fails.
func (d *doctor) checkListen(ctx context.Context) Result {
	addr, err := dialHost(d.t.Listen)
	if err != nil {
		return fail("fix server.listen (PARLEY_SERVER_LISTEN), e.g. :443", "server.listen %q: %v", d.t.Listen, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	host, err := d.publicHost()
	if err != nil {
		host = "localhost"
	}
	scheme := "http"
	if d.t.TLS {
		scheme = "https"
	}
	status, body, err := d.get(ctx, addr, scheme+"://"+net.JoinHostPort(host, port)+"/healthz")
	switch {
	case err != nil && refused(err):
		return fail("start Parley (parley serve) and read its log if it exits; check server.listen (PARLEY_SERVER_LISTEN)",
			"nothing listens on %s: Parley is not running there", addr)
	case err != nil:
		return fail(fmt.Sprintf("stop the program on port %s (%s) or move Parley: server.listen (PARLEY_SERVER_LISTEN)", port, holder(port)),
			"%s answers, but not as Parley over %s: %v", addr, scheme, err)
	case status != http.StatusOK || !strings.Contains(body, `"ok"`):
		return fail(fmt.Sprintf("stop the program on port %s (%s) or move Parley: server.listen (PARLEY_SERVER_LISTEN)", port, holder(port)),
			"%s is taken by another program: GET /healthz answered %d %q", addr, status, body)
	}
	return pass("Parley answers on %s (%s); open TCP %s in the firewall", addr, scheme, port)
}

// checkHTTPListen: the plain HTTP listener ACME's HTTP-01 validation reaches on port 80.
func (d *doctor) checkHTTPListen(ctx context.Context) Result {
	addr, err := dialHost(d.t.HTTPListen)
	if err != nil {
		return fail("fix server.httpListen (PARLEY_SERVER_HTTP_LISTEN), e.g. :80", "server.httpListen %q: %v", d.t.HTTPListen, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	host, _ := d.publicHost()
	status, body, err := d.get(ctx, addr, "http://"+net.JoinHostPort(host, port)+"/")
	switch {
	case err != nil && refused(err):
		return fail("start Parley; check server.httpListen (PARLEY_SERVER_HTTP_LISTEN); binding a port below 1024 needs CAP_NET_BIND_SERVICE",
			"nothing listens on %s: HTTP-01 validation cannot reach Parley", addr)
	case err != nil:
		return fail(fmt.Sprintf("stop the program on port %s (%s) or clear server.httpListen", port, holder(port)), "%s does not answer HTTP: %v", addr, err)
	}
	return pass("%s answers HTTP (%d, %s); open TCP %s in the firewall for HTTP-01", addr, status, body, port)
}

// checkLiveKitPort: the embedded LiveKit's HTTP/WebSocket port answers "OK" on GET /.
func (d *doctor) checkLiveKitPort(ctx context.Context) Result {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(d.t.LiveKitPort))
	status, body, err := d.get(ctx, addr, "http://"+addr+"/")
	port := strconv.Itoa(d.t.LiveKitPort)
	switch {
	case err != nil && refused(err):
		return fail("read Parley's log for why LiveKit stopped (a taken port is named there); change livekit.port (PARLEY_LIVEKIT_PORT) if another program holds it",
			"nothing listens on %s: the embedded LiveKit is not running", addr)
	case err != nil || status != http.StatusOK || body != "OK":
		return fail(fmt.Sprintf("stop the program on port %s (%s) or change livekit.port (PARLEY_LIVEKIT_PORT)", port, holder(port)),
			"%s is not LiveKit: GET / answered %d %q %v", addr, status, body, err)
	}
	// A LiveKit of another Parley (or a test) on the port answers GET / just the same; only
	// Parley's own key tells them apart.
	if _, err := d.e.LiveKit.ListRooms(ctx, &lkp.ListRoomsRequest{}); isAuthError(err) {
		return fail(fmt.Sprintf("stop the other LiveKit on port %s (%s) or change livekit.port (PARLEY_LIVEKIT_PORT)", port, holder(port)),
			"a LiveKit answers on %s but refuses Parley's API key: it is not the embedded one (whose start then fails with \"address already in use\" in Parley's log)", addr)
	}
	return pass("LiveKit answers on %s", addr)
}

// mediaHost is where LiveKit's media ports are dialled from here: node_ip when it is one
// of this host's interfaces, else loopback.
func (d *doctor) mediaHost() string {
	ip := net.ParseIP(d.t.NodeIP)
	if addrs, err := d.e.InterfaceAddrs(); err == nil && ip != nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return ip.String()
			}
		}
	}
	return "127.0.0.1"
}

// checkRTCTCP: LiveKit's ICE/TCP port, the fallback of clients whose UDP is blocked.
func (d *doctor) checkRTCTCP(ctx context.Context) Result {
	addr := net.JoinHostPort(d.mediaHost(), strconv.Itoa(d.t.RTCTCPPort))
	c, err := d.e.Dial(ctx, "tcp", addr)
	if err != nil {
		return fail("read Parley's log for LiveKit's errors; change livekit.rtc.tcpPort (PARLEY_LIVEKIT_RTC_TCP_PORT) if another program holds it",
			"LiveKit's ICE/TCP port %s does not accept connections: %v", addr, err)
	}
	c.Close()
	return pass("LiveKit accepts ICE/TCP on %s; open TCP %d in the firewall for clients without UDP", addr, d.t.RTCTCPPort)
}

// checkUDPRange binds each port of LiveKit's UDP range for an instant: a port LiveKit or
// another program holds cannot be bound. LiveKit picks a free port of the range per
// connection and skips busy ones, so the instant this check holds one costs nothing.
func (d *doctor) checkUDPRange(ctx context.Context) Result {
	start, end := d.t.UDPPortStart, d.t.UDPPortEnd
	rangeKey := "livekit.rtc.udpPortStart/udpPortEnd (PARLEY_LIVEKIT_RTC_UDP_PORT_START/_END)"
	if start <= 0 || end < start {
		return fail("set "+rangeKey, "the UDP range %d-%d is empty", start, end)
	}
	busy := 0
	for p := start; p <= end; p++ {
		if ctx.Err() != nil {
			return warn("run parley doctor again", "stopped at UDP %d: %v", p, ctx.Err())
		}
		pc, err := d.e.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err != nil {
			busy++
			continue
		}
		pc.Close()
	}
	total := end - start + 1
	open := fmt.Sprintf("open UDP %d-%d in the firewall", start, end)
	if start == end { // one muxed port: LiveKit holds it for good
		if busy == 1 {
			return pass("UDP %d is bound (LiveKit's muxed media port); %s", start, open)
		}
		return fail("read Parley's log for LiveKit's errors", "nothing holds UDP %d: LiveKit's media port is not open", start)
	}
	switch free := total - busy; {
	case free == 0:
		return fail("stop the programs holding the range (`ss -lunp`) or move it: "+rangeKey, "all %d ports of UDP %d-%d are taken: new participants get no media port", total, start, end)
	case free*10 < total:
		return warn("widen the range or free ports: "+rangeKey, "only %d of %d ports of UDP %d-%d are free", free, total, start, end)
	}
	return pass("UDP %d-%d: %d ports in use (LiveKit's connections or others), %d free; %s", start, end, busy, total-busy, open)
}
