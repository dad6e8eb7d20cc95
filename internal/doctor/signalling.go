package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"
)

const joinURLFix = "livekit.host (PARLEY_LIVEKIT_HOST) is the ws:// or wss:// URL the join answer hands browsers: make it an address they reach"

// checkSignalling asks LiveKit's signalling at the URL the join answer hands browsers
// (livekit.host) to validate a token, as a client SDK does before it opens the WebSocket:
// "token generated but the connection times out" is this URL being dead.
func (d *doctor) checkSignalling(ctx context.Context) Result {
	u, err := url.Parse(d.t.JoinURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "ws" && u.Scheme != "wss") {
		return fail(joinURLFix, "livekit.host %q is not a ws:// or wss:// URL", d.t.JoinURL)
	}
	scheme, port := "http", u.Port()
	if u.Scheme == "wss" {
		scheme = "https"
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	ip := u.Hostname()
	if net.ParseIP(ip) == nil {
		addrs, err := d.e.LookupHost(ctx, ip)
		if err != nil || len(addrs) == 0 {
			return fail(fmt.Sprintf("create an A record for %s, or %s", ip, joinURLFix), "%s (livekit.host) does not resolve: %v", ip, err)
		}
		ip = addrs[0]
	}
	addr := net.JoinHostPort(ip, port)
	token, err := auth.NewAccessToken(d.t.APIKey, d.t.APISecret).SetIdentity("parley-doctor").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "parley-doctor-signalling"}).SetValidFor(time.Minute).ToJWT()
	if err != nil {
		return fail(keyFix+" set both", "cannot sign a token with livekit.apiKey/apiSecret: %v", err)
	}
	if scheme == "https" {
		chain, err := d.handshake(ctx, addr, u.Hostname())
		if err != nil && notTLS(err) {
			return fail("LiveKit v1.12+ serves no TLS: set livekit.host to Parley's own wss:// origin (one public port) or put a TLS proxy in front of LiveKit",
				"%s speaks plain HTTP, so browsers given %s cannot connect", addr, d.t.JoinURL)
		}
		if err == nil {
			if r := judgeCertificate(chain, u.Hostname(), d.e.RootCAs, d.t.SelfSigned, d.e.Now()); r.Status != Pass {
				r.Detail = "the certificate of livekit.host " + d.t.JoinURL + ": " + r.Detail
				return r
			}
		}
	}
	status, body, err := d.get(ctx, addr, scheme+"://"+u.Host+"/rtc/validate?access_token="+url.QueryEscape(token))
	switch {
	case err != nil:
		return fail(joinURLFix+"; open its TCP port "+port+" in the firewall", "browsers are sent to %s, which does not answer: %v", d.t.JoinURL, err)
	case status == http.StatusUnauthorized:
		return fail(keyFix+" the keys section of LiveKit's YAML (external) or Parley's generated secrets (embedded)",
			"LiveKit's signalling at %s refused a token signed with the API key %q: %s", d.t.JoinURL, d.t.APIKey, body)
	// A room that does not exist is LiveKit's own answer for a valid token (rooms are
	// created by Parley, not by joins): the path works.
	case status == http.StatusOK && body == "success", status == http.StatusNotFound && strings.Contains(body, "room"):
		return pass("browsers reach LiveKit's signalling at %s (token validated)", d.t.JoinURL)
	}
	return fail(joinURLFix, "%s answered GET /rtc/validate with %d %q: not LiveKit's signalling", d.t.JoinURL, status, body)
}

// notTLS: the server answered a TLS ClientHello in plain HTTP.
func notTLS(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") ||
		strings.Contains(err.Error(), "first record does not look like a TLS handshake")
}
