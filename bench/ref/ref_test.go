package ref

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

var keys = Keys{JWTSecret: "jwt-secret-0123456789-0123456789", LiveKitKey: "key", LiveKitSecret: "secret-0123456789-0123456789-0123"}

func TestWebhookVerifiesSignatureAndChecksum(t *testing.T) {
	app, err := New("webhook", keys)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(&livekit.WebhookEvent{Event: "participant_joined", Id: "EV_1", Room: &livekit.Room{Name: "r"}})
	sum := sha256.Sum256(body)
	tok, _ := auth.NewAccessToken(keys.LiveKitKey, keys.LiveKitSecret).SetValidFor(time.Minute).
		SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	for _, tc := range []struct {
		name, body string
		want       int
	}{{"signed", string(body), 200}, {"tampered", string(body) + " ", 401}} {
		req := httptest.NewRequest("POST", "/api/livekit/webhook", strings.NewReader(tc.body))
		req.Header.Set("Authorization", tok)
		resp, err := app.Test(req)
		if err != nil || resp.StatusCode != tc.want {
			t.Errorf("%s: status %v, %v; want %d", tc.name, resp.StatusCode, err, tc.want)
		}
	}
}

func TestJoinNeedsBearerAndSignsToken(t *testing.T) {
	app, _ := New("join", keys)
	tok, _ := SignAccess(keys.JWTSecret, "u1", time.Minute)
	for _, tc := range []struct {
		name, bearer, body string
		want               int
	}{{"ok", tok, `{}`, 200}, {"no bearer", "", `{}`, 401}, {"unknown field", tok, `{"x":1}`, 400}} {
		req := httptest.NewRequest("POST", "/api/rooms/r/join", strings.NewReader(tc.body))
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		resp, err := app.Test(req)
		if err != nil || resp.StatusCode != tc.want {
			t.Errorf("%s: status %v, %v; want %d", tc.name, resp.StatusCode, err, tc.want)
		}
	}
}
