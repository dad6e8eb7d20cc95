package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/livekit/protocol/auth"
)

func TestSignalling(t *testing.T) {
	const key, secret = "APIdoctor", "doctor-secret-doctor-secret-doctor-secret"
	// validate answers as LiveKit's /rtc/validate does: 401 for a token it cannot verify,
	// 404 for a valid token whose room does not exist.
	validate := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rtc/validate" {
			http.NotFound(w, r)
			return
		}
		v, err := auth.ParseAPIToken(r.URL.Query().Get("access_token"))
		if err == nil {
			_, _, err = v.Verify(secret)
		}
		if err != nil {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		http.Error(w, "requested room does not exist", http.StatusNotFound)
	})
	spa := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html>") })
	closed := closedPort(t)
	for _, tc := range []struct {
		name, url, secret string
		status            Status
		words             []string
	}{
		{"LiveKit answers", "ws://" + validate, secret, Pass, []string{"browsers reach LiveKit's signalling at ws://" + validate}},
		{"wrong secret", "ws://" + validate, "wrong-secret-wrong-secret-wrong-secret", Fail, []string{"refused a token", "livekit.apiSecret"}},
		{"wss to a plain port", "wss://" + validate, secret, Fail, []string{"speaks plain HTTP", "LiveKit v1.12+ serves no TLS"}},
		{"not LiveKit", "ws://" + spa, secret, Fail, []string{"not LiveKit's signalling", "livekit.host (PARLEY_LIVEKIT_HOST)"}},
		{"nothing", "ws://" + closed, secret, Fail, []string{"does not answer", "open its TCP port"}},
		{"not a ws URL", "http://" + validate, secret, Fail, []string{"not a ws:// or wss:// URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{t: Target{JoinURL: tc.url, APIKey: key, APISecret: tc.secret}, e: realDial()}
			r := d.checkSignalling(context.Background())
			wantResult(t, r, tc.status, tc.words...)
			if strings.Contains(r.Detail+r.Fix, tc.secret) {
				t.Errorf("the secret leaks into %q", r.Detail)
			}
		})
	}
}
