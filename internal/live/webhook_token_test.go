package live

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// golangJWTVerdict is what golang-jwt, configured as Parley used it before checkToken,
// says of a webhook token: the sha256 claim, or an error.
func golangJWTVerdict(secrets map[string]string, token string, now time.Time) (string, error) {
	var claims struct {
		jwt.RegisteredClaims
		Sha256 string `json:"sha256"`
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithLeeway(time.Minute),
		jwt.WithTimeFunc(func() time.Time { return now }))
	_, err := p.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		if s := secrets[claims.Issuer]; s != "" {
			return []byte(s), nil
		}
		return nil, errors.New("unknown key")
	})
	return claims.Sha256, err
}

// FuzzWebhookToken holds checkToken to golang-jwt's verdicts. The header and claims are
// signed with the right secret, so that odd claims reach every check after the signature;
// raw tokens try the parsing itself. `go test -fuzz FuzzWebhookToken` explores.
func FuzzWebhookToken(f *testing.F) {
	const key, secret = "devkey", "fuzz-secret-of-forty-characters-xxxxxxxxx"
	now := time.Unix(1796684582, 500e6)
	for _, s := range [][3]string{
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","exp":1796688182,"nbf":1796684582,"iat":1796684582,"sha256":"abc"}`, ""},
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","exp":1796684540,"sha256":"abc"}`, ""},         // expired, within the leeway
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","exp":1796684522,"sha256":"abc"}`, ""},         // expired a minute ago
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","nbf":1796684643.9,"sha256":"abc"}`, ""},       // not yet
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","exp":"1796688182","sha256":"abc"}`, ""},       // a number as a string
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","exp":"soon","sha256":"abc"}`, ""},             // not a number
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","iat":true,"aud":["a",1],"sha256":"abc"}`, ""}, // claims of the wrong type
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey","aud":"a","exp":null,"sha256":7}`, ""},
		{`{"alg":"HS256","typ":"JWT"}`, `{"ISS":"devkey","Sha256":"abc","iss":"other"}`, ""}, // case and duplicates
		{`{"alg":"HS256","typ":"JWT"}`, `null`, ""},
		{`{"alg":"HS256","typ":"JWT"}`, `{"iss":"devkey"} {}`, ""},
		{`{"alg":"HS512","typ":"JWT"}`, `{"iss":"devkey","sha256":"abc"}`, ""},
		{`{"ALG":"HS256"}`, `{"iss":"devkey","sha256":"abc"}`, ""},
		{`{"alg":"none"}`, `{"iss":"devkey","sha256":"abc"}`, ""},
		{`{"alg":"HS256","alg":"RS256"}`, `{"iss":"devkey","sha256":"abc"}`, ""},
		{``, ``, "not.a.jwt"},
		{``, ``, "a.b"},
		{``, ``, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.==="},
		{``, ``, "...."},
	} {
		f.Add(s[0], s[1], s[2])
	}
	secrets := map[string]string{key: secret}
	v := NewVerifier(secrets)
	f.Fuzz(func(t *testing.T, header, claims, raw string) {
		token := raw
		if token == "" {
			enc := base64.RawURLEncoding
			signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(signed))
			token = signed + "." + enc.EncodeToString(mac.Sum(nil))
		}
		wantSum, wantErr := golangJWTVerdict(secrets, token, now)
		gotSum, gotErr := v.checkToken(token, now)
		if (wantErr == nil) != (gotErr == nil) || (wantErr == nil && wantSum != gotSum) {
			t.Fatalf("token %q: checkToken says (%q, %v), golang-jwt (%q, %v)", token, gotSum, gotErr, wantSum, wantErr)
		}
	})
}
