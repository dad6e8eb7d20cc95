package api

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
)

// TestAuthBadInput: every refused request gets its status and code and changes nothing.
func TestAuthBadInput(t *testing.T) {
	e := newAuthEnv(t)
	alice := e.user("alice@example.com", false)
	bob := e.user("bob@example.com", false)
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, method, path string
		body               any
		token              string
		status             int
		code               string
	}{
		{"register malformed json", "POST", "/api/auth/register", `{"email":`, "", 400, "invalid_json"},
		{"register not an object", "POST", "/api/auth/register", `[1]`, "", 400, "invalid_field"},
		{"register empty body", "POST", "/api/auth/register", ` `, "", 400, "invalid_json"},
		{"register unknown field", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": "password1", "name": "C", "admin": true}, "", 400, "unknown_field"},
		{"register wrong type", "POST", "/api/auth/register", map[string]any{"email": 5, "password": "password1", "name": "C"}, "", 400, "invalid_field"},
		{"register missing email", "POST", "/api/auth/register", map[string]any{"password": "password1", "name": "C"}, "", 400, "invalid_field"},
		{"register missing password", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "name": "C"}, "", 400, "invalid_field"},
		{"register missing name", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": "password1"}, "", 400, "invalid_field"},
		{"register invalid email", "POST", "/api/auth/register", map[string]any{"email": "not-an-email", "password": "password1", "name": "C"}, "", 400, "invalid_field"},
		{"register email with display name", "POST", "/api/auth/register", map[string]any{"email": "C <c@example.com>", "password": "password1", "name": "C"}, "", 400, "invalid_field"},
		{"register too-long email", "POST", "/api/auth/register", map[string]any{"email": long(250) + "@example.com", "password": "password1", "name": "C"}, "", 400, "invalid_field"},
		{"register too-long name", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": "password1", "name": long(101)}, "", 400, "invalid_field"},
		{"register control chars in name", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": "password1", "name": "a\x00b"}, "", 400, "invalid_field"},
		{"register weak password", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": "short", "name": "C"}, "", 400, "weak_password"},
		{"register too-long password", "POST", "/api/auth/register", map[string]any{"email": "c@example.com", "password": long(1025), "name": "C"}, "", 400, "invalid_field"},
		{"register taken email", "POST", "/api/auth/register", map[string]any{"email": "ALICE@example.com", "password": "password1", "name": "A2"}, "", 409, "email_taken"},
		{"register wrong content type", "POST", "/api/auth/register", nil, "", 400, "invalid_json"},
		{"login malformed json", "POST", "/api/auth/login", `{"email" "x"}`, "", 400, "invalid_json"},
		{"login unknown field", "POST", "/api/auth/login", map[string]any{"email": "alice@example.com", "password": authtest.Password, "remember": true}, "", 400, "unknown_field"},
		{"login missing password", "POST", "/api/auth/login", map[string]any{"email": "alice@example.com"}, "", 400, "invalid_field"},
		{"login missing email", "POST", "/api/auth/login", map[string]any{"password": authtest.Password}, "", 400, "invalid_field"},
		{"login invalid email", "POST", "/api/auth/login", map[string]any{"email": "alice", "password": authtest.Password}, "", 400, "invalid_field"},
		{"login too-long password", "POST", "/api/auth/login", map[string]any{"email": "alice@example.com", "password": long(1025)}, "", 400, "invalid_field"},
		{"login wrong password", "POST", "/api/auth/login", map[string]any{"email": "alice@example.com", "password": "wrong password"}, "", 401, "invalid_credentials"},
		{"login unknown email", "POST", "/api/auth/login", map[string]any{"email": "nobody@example.com", "password": authtest.Password}, "", 401, "invalid_credentials"},
		{"refresh missing token", "POST", "/api/auth/refresh", map[string]any{}, "", 400, "invalid_field"},
		{"refresh unknown field", "POST", "/api/auth/refresh", map[string]any{"refreshToken": alice.RefreshToken, "x": 1}, "", 400, "unknown_field"},
		{"refresh garbage token", "POST", "/api/auth/refresh", map[string]any{"refreshToken": "garbage"}, "", 401, "invalid_token"},
		{"refresh unknown token", "POST", "/api/auth/refresh", map[string]any{"refreshToken": "prt_" + long(43)}, "", 401, "invalid_token"},
		{"refresh too-long token", "POST", "/api/auth/refresh", map[string]any{"refreshToken": "prt_" + long(500)}, "", 401, "invalid_token"},
		{"refresh access token as refresh", "POST", "/api/auth/refresh", map[string]any{"refreshToken": alice.AccessToken}, "", 401, "invalid_token"},
		{"refresh another user's token", "POST", "/api/auth/refresh", map[string]any{"refreshToken": bob.RefreshToken}, alice.AccessToken, 401, "invalid_token"},
		{"logout missing token", "POST", "/api/auth/logout", map[string]any{}, "", 400, "invalid_field"},
		{"logout malformed json", "POST", "/api/auth/logout", `{`, "", 400, "invalid_json"},
		{"logout unknown token", "POST", "/api/auth/logout", map[string]any{"refreshToken": "prt_" + long(43)}, "", 401, "invalid_token"},
		{"logout another user's token", "POST", "/api/auth/logout", map[string]any{"refreshToken": bob.RefreshToken}, alice.AccessToken, 401, "invalid_token"},
		{"password without token", "PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password, "newPassword": "new password 1"}, "", 401, "unauthorized"},
		{"password wrong current", "PUT", "/api/auth/password", map[string]any{"currentPassword": "wrong password", "newPassword": "new password 1"}, alice.AccessToken, 403, "invalid_credentials"},
		{"password weak new", "PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password, "newPassword": "short"}, alice.AccessToken, 400, "weak_password"},
		{"password too-long new", "PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password, "newPassword": long(1025)}, alice.AccessToken, 400, "invalid_field"},
		{"password missing new", "PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password}, alice.AccessToken, 400, "invalid_field"},
		{"password missing current", "PUT", "/api/auth/password", map[string]any{"newPassword": "new password 1"}, alice.AccessToken, 400, "invalid_field"},
		{"password unknown field", "PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password, "newPassword": "new password 1", "all": true}, alice.AccessToken, 400, "unknown_field"},
		{"rename without token", "PATCH", "/api/auth/me", map[string]any{"name": "Alice"}, "", 401, "unauthorized"},
		{"rename missing name", "PATCH", "/api/auth/me", map[string]any{}, alice.AccessToken, 400, "invalid_field"},
		{"rename blank name", "PATCH", "/api/auth/me", map[string]any{"name": "   "}, alice.AccessToken, 400, "invalid_field"},
		{"rename too-long name", "PATCH", "/api/auth/me", map[string]any{"name": long(101)}, alice.AccessToken, 400, "invalid_field"},
		{"rename control chars", "PATCH", "/api/auth/me", map[string]any{"name": "a\nb"}, alice.AccessToken, 400, "invalid_field"},
		{"rename wrong type", "PATCH", "/api/auth/me", map[string]any{"name": 5}, alice.AccessToken, 400, "invalid_field"},
		{"rename email too", "PATCH", "/api/auth/me", map[string]any{"name": "A", "email": "x@example.com"}, alice.AccessToken, 400, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.do(tc.method, tc.path, tc.body, tc.token)
			r.want(t, tc.status, tc.code)
			if after := e.snapshot(); after != before {
				t.Errorf("the request changed the database:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// The refused "another user" requests left bob's session working.
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": bob.RefreshToken}, "").want(t, 200, "")
}

// TestAuthTokens: forged, expired, alg:none and other-secret access tokens are refused.
func TestAuthTokens(t *testing.T) {
	e := newAuthEnv(t)
	alice := e.user("alice@example.com", false)
	claims, _, err := jwt.NewParser().ParseUnverified(alice.AccessToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	mc := claims.Claims.(jwt.MapClaims)
	sign := func(m jwt.SigningMethod, key any, edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range mc {
			c[k] = v
		}
		if edit != nil {
			edit(c)
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	secret := []byte(authtest.Secret)
	parts := strings.Split(alice.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1))) + "." + parts[2]

	for _, tc := range []struct {
		name, header string
		status       int
		code         string
	}{
		{"valid", "Bearer " + alice.AccessToken, 200, ""},
		{"lower-case scheme", "bearer " + alice.AccessToken, 200, ""},
		{"missing", "", 401, "unauthorized"},
		{"not bearer", "Basic YWxpY2U6cHc=", 401, "invalid_token"},
		{"garbage", "Bearer not.a.jwt", 401, "invalid_token"},
		{"tampered payload", "Bearer " + tampered, 401, "invalid_token"},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), 401, "invalid_token"},
		{"other secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdefghijkl"), nil), 401, "invalid_token"},
		{"HS512 with our secret", "Bearer " + sign(jwt.SigningMethodHS512, secret, nil), 401, "invalid_token"},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Add(-time.Second).Unix() }), 401, "token_expired"},
		{"no exp", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "exp") }), 401, "invalid_token"},
		{"issued in the future", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["iat"] = e.clock.Now().Add(time.Hour).Unix() }), 401, "invalid_token"},
		{"unknown session", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["sid"] = "00000000-0000-0000-0000-000000000000" }), 401, "session_revoked"},
		{"session of another user", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["sub"] = "someone-else" }), 401, "invalid_token"},
		{"other issuer", "Bearer " + sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["iss"] = "livekit" }), 401, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doHeader("GET", "/api/auth/me", tc.header)
			r.want(t, tc.status, tc.code)
			if tc.status == 200 && (r.str("email") != "alice@example.com" || r.str("role") != "user") {
				t.Errorf("got user %v", r.body)
			}
		})
	}
	t.Run("expires with the clock", func(t *testing.T) {
		e.clock.Advance(16 * time.Minute)
		e.doHeader("GET", "/api/auth/me", "Bearer "+alice.AccessToken).want(t, 401, "token_expired")
	})
}

// TestAuthFlow walks the happy paths: register, me, login on two devices, refresh, logout.
func TestAuthFlow(t *testing.T) {
	e := newAuthEnv(t)
	r := e.do("POST", "/api/auth/register", map[string]any{"email": " Carol@Example.com ", "password": "password1", "name": " Carol "}, "")
	r.want(t, 201, "")
	user, _ := r.body["user"].(map[string]any)
	if user["email"] != "carol@example.com" || user["name"] != "Carol" || user["role"] != "user" || user["disabled"] != false || user["id"] == "" {
		t.Fatalf("got user %v", user)
	}
	exp, err := time.Parse(time.RFC3339, r.str("accessExpiresAt"))
	if err != nil || !exp.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Errorf("accessExpiresAt %q, want now+15m (%v)", r.str("accessExpiresAt"), err)
	}
	if r.str("refreshToken") == "" || r.str("accessToken") == "" {
		t.Fatalf("missing tokens: %s", r.raw)
	}
	e.do("GET", "/api/auth/me", nil, r.str("accessToken")).want(t, 200, "")

	// Two devices: two sessions, both live.
	laptop := e.do("POST", "/api/auth/login", map[string]any{"email": "CAROL@example.com", "password": "password1"}, "")
	laptop.want(t, 200, "")
	phone := e.do("POST", "/api/auth/login", map[string]any{"email": "carol@example.com", "password": "password1"}, "")
	phone.want(t, 200, "")

	// Refresh rotates: a new pair, the old refresh token used up, the session alive.
	e.clock.Advance(time.Minute)
	r2 := e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": laptop.str("refreshToken")}, "")
	r2.want(t, 200, "")
	if r2.str("refreshToken") == laptop.str("refreshToken") || r2.str("accessToken") == laptop.str("accessToken") {
		t.Fatal("refresh returned the same tokens")
	}
	e.do("GET", "/api/auth/me", nil, r2.str("accessToken")).want(t, 200, "")
	e.do("GET", "/api/auth/me", nil, laptop.str("accessToken")).want(t, 200, "") // same session

	// Logout ends that session only.
	e.do("POST", "/api/auth/logout", map[string]any{"refreshToken": r2.str("refreshToken")}, "").want(t, 204, "")
	e.do("GET", "/api/auth/me", nil, r2.str("accessToken")).want(t, 401, "session_revoked")
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": r2.str("refreshToken")}, "").want(t, 401, "session_revoked")
	e.do("POST", "/api/auth/logout", map[string]any{"refreshToken": r2.str("refreshToken")}, "").want(t, 204, "") // idempotent
	e.do("GET", "/api/auth/me", nil, phone.str("accessToken")).want(t, 200, "")

	// A refresh token past refreshTTL is expired.
	e.clock.Advance(721 * time.Hour)
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": phone.str("refreshToken")}, "").want(t, 401, "token_expired")
}

// TestRefreshTokenReuseRevokesSession: presenting a used refresh token (a stolen copy) kills
// the whole session, including the legitimate newest tokens.
func TestRefreshTokenReuseRevokesSession(t *testing.T) {
	e := newAuthEnv(t)
	g := e.user("dave@example.com", false)
	other := e.do("POST", "/api/auth/login", map[string]any{"email": "dave@example.com", "password": authtest.Password}, "")
	r := e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": g.RefreshToken}, "")
	r.want(t, 200, "")
	// The thief replays the old token.
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": g.RefreshToken}, "").want(t, 401, "session_revoked")
	// Every token of that session is dead now.
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": r.str("refreshToken")}, "").want(t, 401, "session_revoked")
	e.do("GET", "/api/auth/me", nil, r.str("accessToken")).want(t, 401, "session_revoked")
	e.do("GET", "/api/auth/me", nil, g.AccessToken).want(t, 401, "session_revoked")
	// The user's other session is untouched.
	e.do("GET", "/api/auth/me", nil, other.str("accessToken")).want(t, 200, "")
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": other.str("refreshToken")}, "").want(t, 200, "")
}

// TestChangePasswordRevokesOtherSessions: the current session stays, the others end.
func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	e := newAuthEnv(t)
	a := e.user("erin@example.com", false)
	b := e.do("POST", "/api/auth/login", map[string]any{"email": "erin@example.com", "password": authtest.Password}, "")
	e.do("PUT", "/api/auth/password", map[string]any{"currentPassword": authtest.Password, "newPassword": "a much better one"}, a.AccessToken).want(t, 204, "")
	e.do("GET", "/api/auth/me", nil, a.AccessToken).want(t, 200, "")
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": a.RefreshToken}, "").want(t, 200, "")
	e.do("GET", "/api/auth/me", nil, b.str("accessToken")).want(t, 401, "session_revoked")
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": b.str("refreshToken")}, "").want(t, 401, "session_revoked")
	e.do("POST", "/api/auth/login", map[string]any{"email": "erin@example.com", "password": authtest.Password}, "").want(t, 401, "invalid_credentials")
	e.do("POST", "/api/auth/login", map[string]any{"email": "erin@example.com", "password": "a much better one"}, "").want(t, 200, "")
}

// TestRenameMe: a person changes their own name (trimmed), and every later read shows it.
func TestRenameMe(t *testing.T) {
	e := newAuthEnv(t)
	a := e.user("gina@example.com", false)
	other := e.user("hal@example.com", false)
	r := e.do("PATCH", "/api/auth/me", map[string]any{"name": "  Gina Ortiz  "}, a.AccessToken)
	r.want(t, 200, "")
	if got := r.str("name"); got != "Gina Ortiz" {
		t.Errorf("answered name %q, want the trimmed %q", got, "Gina Ortiz")
	}
	if got := e.do("GET", "/api/auth/me", nil, a.AccessToken).str("name"); got != "Gina Ortiz" {
		t.Errorf("GET /api/auth/me after the change: name %q", got)
	}
	// The longest name allowed passes (100 characters, counted as characters, not bytes).
	longest := strings.Repeat("é", auth.MaxNameLen)
	e.do("PATCH", "/api/auth/me", map[string]any{"name": longest}, a.AccessToken).want(t, 200, "")
	if got := e.do("GET", "/api/auth/me", nil, a.AccessToken).str("name"); got != longest {
		t.Errorf("name %q after setting the longest allowed", got)
	}
	if got := e.do("GET", "/api/auth/me", nil, other.AccessToken).str("name"); got != "hal@example.com" {
		t.Errorf("another user's name changed to %q", got)
	}
}

func TestRegistrationDisabled(t *testing.T) {
	e := newAuthEnv(t, func(c *auth.Config) { c.AllowRegistration = false })
	before := e.snapshot()
	e.do("POST", "/api/auth/register", map[string]any{"email": "f@example.com", "password": "password1", "name": "F"}, "").want(t, 403, "registration_disabled")
	if e.snapshot() != before {
		t.Error("a refused registration changed the database")
	}
	// Operators still create accounts, and they log in.
	e.user("f@example.com", false)
}

func TestLoginRateLimit(t *testing.T) {
	e := newAuthEnv(t, func(c *auth.Config) { c.LoginRate = 3 })
	e.user("gina@example.com", false) // one login from 192.0.2.1, not the test client's IP
	body := map[string]any{"email": "gina@example.com", "password": "wrong password"}
	for i := 0; i < 3; i++ {
		e.do("POST", "/api/auth/login", body, "").want(t, 401, "invalid_credentials")
	}
	r := e.do("POST", "/api/auth/login", map[string]any{"email": "gina@example.com", "password": authtest.Password}, "")
	r.want(t, 429, "rate_limited")
	if r.header["Retry-After"] != "20" {
		t.Errorf("Retry-After %q, want 20 (3 a minute)", r.header["Retry-After"])
	}
	// Another email from the same IP is not blocked by gina's bucket.
	e.do("POST", "/api/auth/login", map[string]any{"email": "other@example.com", "password": "wrong password"}, "").want(t, 401, "invalid_credentials")
	e.clock.Advance(20 * time.Second)
	e.do("POST", "/api/auth/login", map[string]any{"email": "gina@example.com", "password": authtest.Password}, "").want(t, 200, "")
	// Per IP: 10 x loginRate across all emails and routes, whatever the token.
	n := 0
	for ; n < 100; n++ {
		r := e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": "prt_" + strings.Repeat("x", 43)}, "")
		if r.status == 429 {
			break
		}
		r.want(t, 401, "invalid_token")
	}
	if n < 15 || n > 30 {
		t.Errorf("the IP was limited after %d more attempts, want about 30 a minute", n)
	}
}
