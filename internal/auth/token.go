package auth

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley/parley/internal/secret"
)

const issuer = "parley"

// accessClaims are the access JWT's claims: sub = user id, role, sid = session id, exp, iat.
// The role is informative only: every request reads the current role from the database.
// The tags are the token's JSON encoding, not an API shape.
type accessClaims struct {
	Role string `json:"role"`
	SID  string `json:"sid"`
	jwt.RegisteredClaims
}

type tokenCodec struct {
	secret []byte
	now    func() time.Time
	// verified holds the claims of tokens this codec already verified, by the token's
	// exact text: a client sends one token for many requests, and decoding its claims
	// (encoding/json, by reflection) was the largest cost of an authenticated request
	// (bench/README.md). The same text always carries the same claims, so only the expiry
	// is checked again.
	mu       sync.RWMutex
	verified map[string]*accessClaims
}

// maxVerifiedTokens bounds the verified-token memory; past it the map starts over.
const maxVerifiedTokens = 4096

// sign issues an HS256 access token.
func (t *tokenCodec) sign(userID, role, sessionID string, ttl time.Duration) (string, time.Time, error) {
	now := t.now().UTC().Truncate(time.Second)
	exp := now.Add(ttl)
	claims := accessClaims{
		Role: role, SID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: userID,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// parse verifies an access token: HS256 only (no alg:none, no RS/HS confusion), our secret,
// our issuer, exp required and in the future.
func (t *tokenCodec) parse(raw string) (*accessClaims, error) {
	t.mu.RLock()
	known := t.verified[raw]
	t.mu.RUnlock()
	if known != nil && t.now().Before(known.ExpiresAt.Time) {
		return known, nil
	}
	c, err := t.verify(raw)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.verified == nil || len(t.verified) >= maxVerifiedTokens {
		t.verified = make(map[string]*accessClaims)
	}
	t.verified[raw] = c
	t.mu.Unlock()
	return c, nil
}

// verify checks a token's signature and claims in full.
func (t *tokenCodec) verify(raw string) (*accessClaims, error) {
	var c accessClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer), jwt.WithTimeFunc(t.now))
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("access token: %w", ErrTokenExpired)
	default:
		return nil, fmt.Errorf("access token: %w (%v)", ErrInvalidToken, err)
	}
	if c.Subject == "" || c.SID == "" {
		return nil, fmt.Errorf("access token: %w (missing sub or sid)", ErrInvalidToken)
	}
	return &c, nil
}

// refreshPrefix marks Parley refresh tokens so they are recognisable in logs and scanners.
const refreshPrefix = "prt_"

// newRefreshToken returns an opaque refresh token (256 random bits) and its stored hash.
func newRefreshToken() (token, hash string) {
	token = refreshPrefix + secret.Random(32)
	return token, secret.Hash(token)
}
