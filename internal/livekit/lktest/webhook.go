package lktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

// SignWebhook encodes ev as LiveKit does (protojson) and signs it as LiveKit does with the
// API key and secret: the body and the Authorization header for it.
func SignWebhook(t testing.TB, key, secret string, ev *livekit.WebhookEvent) ([]byte, string) {
	t.Helper()
	body, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	tok, err := auth.NewAccessToken(key, secret).SetValidFor(5 * time.Minute).
		SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return body, tok
}

// PostWebhook posts a signed body to url as LiveKit does; the answer's status, 0 when the
// request failed.
func PostWebhook(client *http.Client, url string, body []byte, authz string) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/webhook+json")
	req.Header.Set("Authorization", authz)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
