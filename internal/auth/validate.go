package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley/parley/internal/fielderr"
)

// Input limits.
const (
	MaxEmailLen       = 254
	MaxNameLen        = 100
	MinPasswordLen    = 8
	MaxPasswordLen    = 1024
	maxRefreshLen     = 128
	maxAccessTokenLen = 4096
)

// NormalizeEmail validates an address and returns its canonical (lower-cased) form.
func NormalizeEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	switch {
	case e == "":
		return "", fieldErr("email", "is required")
	case len(e) > MaxEmailLen:
		return "", fieldErr("email", "is longer than %d characters", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", fieldErr("email", "%q is not a valid email address", raw)
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return "", fieldErr("email", "%q is not a valid email address", raw)
	}
	return e, nil
}

// normalizeName trims a display name and checks its length and characters.
func normalizeName(raw string) (string, error) {
	n := strings.TrimSpace(raw)
	switch {
	case n == "":
		return "", fieldErr("name", "is required")
	case !utf8.ValidString(n):
		return "", fieldErr("name", "is not valid UTF-8")
	case utf8.RuneCountInString(n) > MaxNameLen:
		return "", fieldErr("name", "is longer than %d characters", MaxNameLen)
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return "", fieldErr("name", "must not contain control characters")
		}
	}
	return n, nil
}

// checkPassword enforces the length rules on a new password (field names it in errors).
func checkPassword(field, p string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case p == "":
		return fieldErr(field, "is required")
	case n < MinPasswordLen:
		return fielderr.New(ErrWeakPassword, field, "must be at least 8 characters")
	case n > MaxPasswordLen:
		return fieldErr(field, "is longer than %d characters", MaxPasswordLen)
	}
	return nil
}

// checkPresented bounds a password given to be verified (login, current password): no
// strength rule, only presence and the upper bound, so old passwords still work.
func checkPresented(field, p string) error {
	switch {
	case p == "":
		return fieldErr(field, "is required")
	case utf8.RuneCountInString(p) > MaxPasswordLen:
		return fieldErr(field, "is longer than %d characters", MaxPasswordLen)
	}
	return nil
}
