package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/certs"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/netaddr"
)

// edgeWiring is what Parley's public port carries besides the API: LiveKit's signalling,
// and TURN/TLS when Parley serves TLS.
type edgeWiring struct {
	turnAddr  string   // LiveKit's plain TURN/TCP listener (turn.external_tls); "" without TURN/TLS
	turnNames []string // server names that mean TURN (livekit.turn.domain when it is not the public host)
}

// signallingProxied: in embedded mode, browsers reach LiveKit's signalling through Parley's
// own origin unless livekit.host names another URL (the direct port, or a user's own proxy).
func (a *app) signallingProxied() bool {
	lk := a.cfg.LiveKit
	return !lk.External && lk.Host != "" && lk.Host == config.SignallingOrigin(a.cfg.Server.PublicURL)
}

// wireEdge builds the signalling proxy to the embedded LiveKit on loopback, or the
// stand-in that answers 404 when browsers reach LiveKit elsewhere. Requests wait at the
// gate while LiveKit restarts.
func (a *app) wireEdge(gate *liveKitGate) api.SignallingProxy {
	if !a.signallingProxied() {
		return edge.NotProxied{}
	}
	p := edge.NewSignalProxy(fmt.Sprintf("127.0.0.1:%d", a.cfg.LiveKit.Port), a.log.With("component", "edge"))
	p.Hold(gate.wait)
	a.closers = append(a.closers, p.Close) // after the HTTP drain, before LiveKit stops
	return p
}

// publicListener is Parley's TLS port: the mux terminates TLS with the certificate
// manager's config (files, ACME or the local CA, each renewed in place), answers
// TLS-ALPN-01 and sends TURN/TLS to LiveKit as plain TCP, so a renewal restarts nothing.
func (a *app) publicListener(ln net.Listener, src certs.Source) net.Listener {
	return edge.NewMux(ln, edge.MuxConfig{TLS: src.TLSConfig(), TURNAddr: a.edge.turnAddr, TURNNames: a.edge.turnNames,
		Log: a.log.With("component", "edge")})
}

// edgeTURN records where TURN/TLS goes once turnParams chose to serve it on Parley's port,
// and warns when the advertised port cannot be Parley's: LiveKit always tells clients
// turns:<domain>:443.
func (a *app) edgeTURN(t livekit.TURNParams, publicHost string) {
	a.edge.turnAddr = fmt.Sprintf("127.0.0.1:%d", t.TLSPort)
	if !strings.EqualFold(t.Domain, publicHost) {
		a.edge.turnNames = []string{t.Domain}
	}
	if port := publicPort(a.cfg.Server.PublicURL); port != "443" {
		a.log.Warn("LiveKit advertises TURN/TLS as turns:"+t.Domain+":443, but server.publicURL uses port "+port+
			": forward TCP 443 to Parley's port, or clients behind strict firewalls cannot relay", "component", "edge")
	}
}

func publicPort(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// natWarning says when LiveKit will advertise a private node_ip while browsers reach Parley
// at a public address: media then works only through TURN, or not at all. It resolves the
// public name with a short bound so an offline start is not held up.
func natWarning(node livekit.NodeIP, publicHost string, lookup func(ctx context.Context, host string) ([]net.IPAddr, error)) string {
	ip := net.ParseIP(node.IP)
	if ip == nil || !netaddr.IsPrivate(ip) || node.Source == "livekit.nodeIP" {
		return ""
	}
	var public net.IP
	if p := net.ParseIP(strings.Trim(publicHost, "[]")); p != nil {
		public = p
	} else if publicHost != "" && publicHost != "localhost" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		addrs, err := lookup(ctx, publicHost)
		if err != nil {
			return ""
		}
		for _, a := range addrs {
			if netaddr.IsPublic(a.IP) {
				public = a.IP
				break
			}
		}
	}
	if public == nil || !netaddr.IsPublic(public) {
		return ""
	}
	return fmt.Sprintf("LiveKit advertises the private node_ip %s (from %s) but %s is the public address %s: browsers outside this network get no direct media; "+
		"set livekit.nodeIP (PARLEY_LIVEKIT_NODE_IP) to %s if this host owns it or forwards the UDP range to it, or livekit.useExternalIP: true when the host can reach STUN",
		node.IP, node.Source, publicHost, public, public)
}
