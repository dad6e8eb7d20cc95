// Package secret makes the opaque random tokens Parley hands out (refresh tokens, sign-in
// states, ceremony ids, calendar feed links, lobby tickets) and the form they are stored in.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Random returns n random bytes, base64url-encoded.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is a token's stored form: SHA-256 is enough (the tokens carry 256 random bits,
// nothing to brute-force) and keeps lookups a single indexed equality.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
