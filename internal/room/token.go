package room

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/jsonw"
)

// joinTokenHeader is {"alg":"HS256","typ":"JWT"}, as golang-jwt writes it for LiveKit's SDK.
const joinTokenHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// defaultTokenTTL is the SDK's validity when none is set.
const defaultTokenTTL = 6 * time.Hour

// signJoinToken writes the LiveKit access token that the SDK's AccessToken.ToJWT writes for
// the same grant (auth.ClaimGrants with a VideoGrant: roomJoin, room, the permissions, never
// own-metadata updates), with its claims written by hand. A join signs one per request, and
// encoding/json's reflection over the SDK's claim structs was most of that cost
// (bench/README.md). TestJoinTokenMatchesSDK decodes both with LiveKit's own verifier.
func signJoinToken(apiKey, secret, room, identity, name, metadata string, perm *livekit.ParticipantPermission, ttl time.Duration, now time.Time) (string, error) {
	if apiKey == "" || secret == "" {
		return "", auth.ErrKeysMissing
	}
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	at := strconv.AppendInt(nil, now.Unix(), 10)
	c := make([]byte, 0, 320+len(name)+len(metadata))
	c = append(c, `{"iss":`...)
	c = jsonw.AppendString(c, apiKey)
	if identity != "" {
		c = append(c, `,"sub":`...)
		c = jsonw.AppendString(c, identity)
	}
	c = append(c, `,"exp":`...)
	c = strconv.AppendInt(c, now.Add(ttl).Unix(), 10)
	c = append(c, `,"nbf":`...)
	c = append(c, at...)
	c = append(c, `,"iat":`...)
	c = append(c, at...)
	if identity != "" {
		c = append(c, `,"identity":`...)
		c = jsonw.AppendString(c, identity)
	}
	if name != "" {
		c = append(c, `,"name":`...)
		c = jsonw.AppendString(c, name)
	}
	c = append(c, `,"video":{"roomJoin":true`...)
	if room != "" {
		c = append(c, `,"room":`...)
		c = jsonw.AppendString(c, room)
	}
	c = append(c, `,"canPublish":`...)
	c = strconv.AppendBool(c, perm.CanPublish)
	c = append(c, `,"canSubscribe":`...)
	c = strconv.AppendBool(c, perm.CanSubscribe)
	c = append(c, `,"canPublishData":`...)
	c = strconv.AppendBool(c, perm.CanPublishData)
	if len(perm.CanPublishSources) > 0 {
		c = append(c, `,"canPublishSources":[`...)
		for i, s := range perm.CanPublishSources {
			if i > 0 {
				c = append(c, ',')
			}
			c = jsonw.AppendString(c, strings.ToLower(s.String()))
		}
		c = append(c, ']')
	}
	c = append(c, `,"canUpdateOwnMetadata":false}`...)
	if metadata != "" {
		c = append(c, `,"metadata":`...)
		c = jsonw.AppendString(c, metadata)
	}
	c = append(c, '}')

	enc := base64.RawURLEncoding
	tok := make([]byte, 0, len(joinTokenHeader)+1+enc.EncodedLen(len(c))+1+enc.EncodedLen(sha256.Size))
	tok = append(tok, joinTokenHeader...)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(tok)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, mac.Sum(nil))
	return string(tok), nil
}

// appendMetadata writes md as encoding/json writes the Metadata struct.
func appendMetadata(b []byte, md Metadata) []byte {
	b = append(b, `{"role":`...)
	b = jsonw.AppendString(b, md.Role)
	for _, f := range [...]struct{ key, v string }{{`,"userId":`, md.UserID}, {`,"roomId":`, md.RoomID}, {`,"keyId":`, md.KeyID}} {
		if f.v != "" {
			b = append(b, f.key...)
			b = jsonw.AppendString(b, f.v)
		}
	}
	return append(b, '}')
}
