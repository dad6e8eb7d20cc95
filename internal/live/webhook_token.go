package live

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"math"
	"strings"
	"sync"
	"time"
)

// A webhook's token is checked here rather than by golang-jwt: its parser decodes the header
// into a map and the claims through custom unmarshalers, about half of a webhook's
// verification (bench/README.md). The checks are golang-jwt's as Parley used it, and
// FuzzWebhookToken holds them to its verdicts: HS256 only, the secret picked by the issuer,
// exp and nbf checked with a minute of leeway when present, iat and aud not checked.

// liveKitHeader is the header LiveKit's tokens carry, {"alg":"HS256","typ":"JWT"}.
var liveKitHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// tokenLeeway is the clock skew allowed on exp and nbf (as LiveKit's own verifier allows).
const tokenLeeway = time.Minute

var (
	errUnknownKey     = errors.New("unknown api key")
	errTokenMalformed = errors.New("malformed token")
	errTokenSignature = errors.New("bad signature")
	errTokenTime      = errors.New("token expired or not valid yet")
)

// tokenClaims are golang-jwt's registered claims with the webhook's sha256, of the same
// types, so that a claim of the wrong type refuses the token as golang-jwt does (iat and aud
// are decoded for that, not checked). A number may come as a string holding one.
type tokenClaims struct {
	Iss    string      `json:"iss"`
	Sub    string      `json:"sub"`
	Aud    audience    `json:"aud"`
	Exp    json.Number `json:"exp"`
	Nbf    json.Number `json:"nbf"`
	Iat    json.Number `json:"iat"`
	Jti    string      `json:"jti"`
	Sha256 string      `json:"sha256"`
}

// audience accepts what golang-jwt's ClaimStrings does: a string, strings or null.
type audience struct{}

func (audience) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil, string:
		return nil
	case []any:
		for _, s := range v {
			if _, ok := s.(string); !ok {
				return errTokenMalformed
			}
		}
		return nil
	}
	return errTokenMalformed
}

// macs keeps HMAC-SHA256s of each secret for reuse (hmac.New allocates its pads every
// time); the secrets are fixed when the verifier is made.
type macs map[string]*sync.Pool

func newMACs(secrets map[string]string) macs {
	m := make(macs, len(secrets))
	for _, secret := range secrets {
		m[secret] = &sync.Pool{New: func() any { return hmac.New(sha256.New, []byte(secret)) }}
	}
	return m
}

// sum is the HMAC of data with secret, one of the verifier's.
func (m macs) sum(secret string, data []byte) []byte {
	h := m[secret].Get().(hash.Hash)
	h.Reset()
	h.Write(data)
	out := h.Sum(make([]byte, 0, sha256.Size))
	m[secret].Put(h)
	return out
}

// checkToken verifies token against the secret of its issuer and returns its sha256 claim.
func (v *Verifier) checkToken(token string, now time.Time) (string, error) {
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	if dot1 < 0 || dot2 == dot1 || strings.IndexByte(token[dot1+1:dot2], '.') >= 0 {
		return "", errTokenMalformed
	}
	// The header is read as golang-jwt reads it, into a map: its keys match exactly. The
	// one LiveKit writes needs no reading.
	if token[:dot1] != liveKitHeader {
		var h map[string]any
		if decodeSegment(token[:dot1], &h) != nil {
			return "", errTokenMalformed
		}
		if alg, _ := h["alg"].(string); alg != "HS256" {
			return "", errTokenSignature
		}
	}
	var c tokenClaims
	if decodeSegment(token[dot1+1:dot2], &c) != nil {
		return "", errTokenMalformed
	}
	secret := v.secrets[c.Iss]
	if secret == "" {
		return "", errUnknownKey
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[dot2+1:])
	if err != nil {
		return "", errTokenMalformed
	}
	if !hmac.Equal(sig, v.macs.sum(secret, []byte(token[:dot2]))) {
		return "", errTokenSignature
	}
	exp, hasExp, err := numericDate(c.Exp)
	if err != nil {
		return "", errTokenMalformed
	}
	nbf, hasNbf, err := numericDate(c.Nbf)
	if err != nil {
		return "", errTokenMalformed
	}
	if (hasExp && !now.Before(exp.Add(tokenLeeway))) || (hasNbf && now.Before(nbf.Add(-tokenLeeway))) {
		return "", errTokenTime
	}
	return c.Sha256, nil
}

// decodeSegment decodes one base64url (unpadded) JSON part of a token into v.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// numericDate reads a JWT time (seconds, possibly fractional) truncated to the second, as
// golang-jwt's NumericDate does; an absent claim (or null) is not an error.
func numericDate(n json.Number) (time.Time, bool, error) {
	if n == "" {
		return time.Time{}, false, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false, errTokenMalformed
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).Truncate(time.Second), true, nil
}
