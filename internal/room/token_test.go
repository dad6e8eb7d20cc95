package room

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
)

// sdkJoinToken is the token the SDK writes for the same grant (what mint wrote before).
func sdkJoinToken(t *testing.T, key, secret, room, identity, name, md string, perm *livekit.ParticipantPermission, ttl time.Duration) string {
	t.Helper()
	grant := &auth.VideoGrant{RoomJoin: true, Room: room}
	grant.SetCanSubscribe(perm.CanSubscribe)
	grant.SetCanPublish(perm.CanPublish)
	grant.SetCanPublishData(perm.CanPublishData)
	grant.SetCanPublishSources(perm.CanPublishSources)
	grant.SetCanUpdateOwnMetadata(false)
	at := auth.NewAccessToken(key, secret).SetIdentity(identity).SetName(name).SetMetadata(md).SetVideoGrant(grant)
	if ttl > 0 {
		at.SetValidFor(ttl)
	}
	tok, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("claims %s: %v", raw, err)
	}
	return m
}

// LiveKit's own verifier reads the hand-written token as the SDK's: the same grants, the
// same claims but for the times, and the validity asked for.
func TestJoinTokenMatchesSDK(t *testing.T) {
	const key, secret = "APIkey", "a-secret-of-thirty-two-characters!!"
	all := []livekit.TrackSource{livekit.TrackSource_CAMERA, livekit.TrackSource_MICROPHONE, livekit.TrackSource_SCREEN_SHARE, livekit.TrackSource_SCREEN_SHARE_AUDIO}
	cases := []struct {
		name, room, identity, display string
		md                            Metadata
		perm                          *livekit.ParticipantPermission
		ttl                           time.Duration
	}{
		{"publisher", "weekly", "user-1", "Ada Lovelace", Metadata{Role: "owner", UserID: "u1", RoomID: "r1"},
			&livekit.ParticipantPermission{CanPublish: true, CanSubscribe: true, CanPublishData: true, CanPublishSources: all}, 10 * time.Minute},
		{"viewer", "r\u00e9union <&> \"quoted\"", "guest-\u2028x", "Zo\u00eb \\ \t\n", Metadata{Role: "guest"},
			&livekit.ParticipantPermission{CanSubscribe: true}, 0},
		{"key join", "room-2", "key-abc-123", "", Metadata{Role: "participant", KeyID: "k1", RoomID: "r2"},
			&livekit.ParticipantPermission{CanPublish: true, CanSubscribe: true, CanPublishSources: all[:1]}, time.Hour},
		{"invalid utf-8", "room\xff", "id\xfe", "name\x01", Metadata{Role: "participant", UserID: "\xff"},
			&livekit.ParticipantPermission{}, time.Minute},
	}
	v := auth.NewSimpleKeyProvider(key, secret)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mdJSON, err := json.Marshal(c.md)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendMetadata(nil, c.md); string(got) != string(mdJSON) {
				t.Fatalf("metadata %s, encoding/json writes %s", got, mdJSON)
			}
			now := time.Now()
			ours, err := signJoinToken(key, secret, c.room, c.identity, c.display, string(mdJSON), c.perm, c.ttl, now)
			if err != nil {
				t.Fatal(err)
			}
			sdk := sdkJoinToken(t, key, secret, c.room, c.identity, c.display, string(mdJSON), c.perm, c.ttl)
			var grants [2]*auth.ClaimGrants
			for i, tok := range []string{ours, sdk} {
				p, err := auth.ParseAPIToken(tok)
				if err != nil {
					t.Fatalf("parse %d: %v", i, err)
				}
				_, g, err := p.Verify(v.GetSecret(p.APIKey()))
				if err != nil {
					t.Fatalf("verify %d: %v", i, err)
				}
				grants[i] = g
			}
			if !reflect.DeepEqual(grants[0], grants[1]) {
				t.Fatalf("grants differ:\nours %+v %+v\nsdk  %+v %+v", grants[0], grants[0].Video, grants[1], grants[1].Video)
			}
			a, b := claimsOf(t, ours), claimsOf(t, sdk)
			ttl := c.ttl
			if ttl == 0 {
				ttl = defaultTokenTTL
			}
			if exp, iat := a["exp"].(float64), a["iat"].(float64); exp-iat != ttl.Seconds() || a["nbf"] != a["iat"] || iat != float64(now.Unix()) {
				t.Fatalf("times: exp %v nbf %v iat %v for a ttl of %v at %d", a["exp"], a["nbf"], a["iat"], ttl, now.Unix())
			}
			for _, m := range []map[string]any{a, b} {
				delete(m, "exp")
				delete(m, "nbf")
				delete(m, "iat")
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("claims differ:\nours %v\nsdk  %v", a, b)
			}
			if h := strings.SplitN(ours, ".", 2)[0]; h != strings.SplitN(sdk, ".", 2)[0] {
				t.Fatalf("header %s, the SDK writes %s", h, strings.SplitN(sdk, ".", 2)[0])
			}
		})
	}
	// A wrong secret is refused: the signature covers what was written.
	tok, _ := signJoinToken(key, secret, "r", "i", "n", "", cases[0].perm, time.Minute, time.Now())
	p, err := auth.ParseAPIToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Verify("another-secret-of-thirty-two-chars!"); err == nil {
		t.Fatal("a token verified with another secret")
	}
}
