// Package apikey knows the API keys integrations call Parley with: their scopes, expiry,
// revocation and the keyed hash they are stored under. A key acts for the administrator who
// created it, limited to its scopes; the api package turns a key into a principal and checks
// the scope of each route. It does not know HTTP.
package apikey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/parley/parley/internal/fielderr"
	"gorm.io/gorm"
)

// The scopes a key can hold. Each names the routes it opens (docs/API.md, "API keys").
const (
	ScopeRoomsRead            = "rooms:read"
	ScopeRoomsWrite           = "rooms:write"
	ScopeParticipantsModerate = "participants:moderate"
	ScopeRecordingsRead       = "recordings:read"
	ScopeRecordingsWrite      = "recordings:write"
	ScopeUsersRead            = "users:read"
	ScopeWebhooksManage       = "webhooks:manage"
	ScopeAuditRead            = "audit:read"
)

// Scopes lists every scope, in the order the dashboard shows them.
var Scopes = []string{ScopeRoomsRead, ScopeRoomsWrite, ScopeParticipantsModerate, ScopeRecordingsRead,
	ScopeRecordingsWrite, ScopeUsersRead, ScopeWebhooksManage, ScopeAuditRead}

// Sentinel errors; the api package maps each to a status and code.
var (
	ErrInvalidKey   = errors.New("invalid API key")
	ErrRevoked      = errors.New("API key revoked")
	ErrExpired      = errors.New("API key expired")
	ErrCreatorGone  = errors.New("the API key's creator is no longer an enabled administrator")
	ErrNotFound     = errors.New("API key not found")
	ErrInvalidField = errors.New("invalid field")
)

// Prefix marks Parley API keys, so the HTTP layer tells them from access tokens and secret
// scanners recognise a leaked one.
const Prefix = "pk_"

const (
	secretBytes = 32 // 256 bits: nothing to brute-force
	maxNameLen  = 100
	// lastUseEvery bounds how often a key's last use is written: a key that calls Parley
	// in a loop costs one UPDATE a minute, not one per request.
	lastUseEvery = time.Minute
)

// Key is an API key as the admin sees it (never its secret).
type Key struct {
	ID         string
	Name       string
	Scopes     []string
	Hint       string // the first characters of the secret, to tell keys apart
	CreatedBy  string // user id of the administrator it acts for
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Has reports whether the key holds scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Caller is a key that authenticated, with its creator as read for this request.
type Caller struct {
	Key          Key
	CreatorEmail string
	CreatorName  string
}

// Service creates, lists, revokes and checks keys.
type Service struct {
	store  *store
	pepper []byte
	now    func() time.Time
}

// New builds the service on a migrated database. pepper keys the stored hashes: with it
// kept out of the database, a copy of the database alone cannot even check a guessed key.
func New(g *gorm.DB, pepper []byte, now func() time.Time) (*Service, error) {
	if len(pepper) < 32 {
		return nil, fmt.Errorf("apikey: hash key is %d bytes; at least 32 are needed", len(pepper))
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: &store{g: g}, pepper: pepper, now: func() time.Time { return now().UTC() }}, nil
}

// hash is the stored form of a secret: HMAC-SHA256 under the pepper. A slow password hash
// (argon2id) protects low-entropy secrets people choose; these are 256 random bits, so a
// fast keyed hash loses nothing and keeps each request to one indexed lookup.
func (s *Service) hash(secret string) string {
	m := hmac.New(sha256.New, s.pepper)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// NewKey is what an admin asks for.
type NewKey struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

// Create makes a key for the administrator createdBy. The secret is returned only here.
func (s *Service) Create(ctx context.Context, createdBy string, in NewKey) (Key, string, error) {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return Key{}, "", fielderr.New(ErrInvalidField, "name", "is required")
	case utf8.RuneCountInString(name) > maxNameLen:
		return Key{}, "", fielderr.New(ErrInvalidField, "name", "is longer than %d characters", maxNameLen)
	case len(in.Scopes) == 0:
		return Key{}, "", fielderr.New(ErrInvalidField, "scopes", "needs at least one of %s", strings.Join(Scopes, ", "))
	}
	scopes := make([]string, 0, len(in.Scopes))
	for _, sc := range in.Scopes {
		if !slices.Contains(Scopes, sc) {
			return Key{}, "", fielderr.New(ErrInvalidField, "scopes", "%q is not a scope: use %s", sc, strings.Join(Scopes, ", "))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return Key{}, "", fielderr.New(ErrInvalidField, "expiresAt", "must be in the future")
	}
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return Key{}, "", fmt.Errorf("apikey: random: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b)
	k := Key{ID: uuid.NewString(), Name: name, Scopes: scopes, Hint: secret[:len(Prefix)+6],
		CreatedBy: createdBy, CreatedAt: now, ExpiresAt: utcPtr(in.ExpiresAt)}
	if err := s.store.create(ctx, k, s.hash(secret)); err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// List returns every key, newest first, revoked ones included (they say when).
func (s *Service) List(ctx context.Context) ([]Key, error) { return s.store.list(ctx) }

// Revoke revokes a key; the next request that presents it is refused, on every instance
// (keys are read from the database on each request, never cached).
func (s *Service) Revoke(ctx context.Context, id string) (Key, error) {
	return s.store.revoke(ctx, id, s.now())
}

// Authenticate checks a presented secret in one indexed query (the key and its creator),
// and records the use at most once a minute.
func (s *Service) Authenticate(ctx context.Context, secret string) (Caller, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 128 {
		return Caller{}, fmt.Errorf("%w (not a Parley API key)", ErrInvalidKey)
	}
	c, found, err := s.store.lookup(ctx, s.hash(secret))
	if err != nil {
		return Caller{}, err
	}
	if !found {
		return Caller{}, fmt.Errorf("%w (unknown key)", ErrInvalidKey)
	}
	if err := s.usable(c); err != nil {
		return Caller{}, err
	}
	now := s.now()
	if c.Key.LastUsedAt == nil || now.Sub(*c.Key.LastUsedAt) >= lastUseEvery {
		// Conditional: of several instances seeing the same stale time, one writes.
		if err := s.store.touch(ctx, c.Key.ID, now, now.Add(-lastUseEvery)); err != nil {
			return Caller{}, err
		}
		c.Key.LastUsedAt = &now
	}
	return c, nil
}

// Recheck reads a key again for a long-lived request (an event stream).
func (s *Service) Recheck(ctx context.Context, id string) (Caller, error) {
	c, err := s.store.byID(ctx, id)
	if err != nil {
		return Caller{}, err
	}
	return c, s.usable(c)
}

func (s *Service) usable(c Caller) error {
	k := c.Key
	switch {
	case k.RevokedAt != nil:
		return fmt.Errorf("key %s (%s): %w", k.Hint, k.Name, ErrRevoked)
	case k.ExpiresAt != nil && !s.now().Before(*k.ExpiresAt):
		return fmt.Errorf("key %s (%s): %w", k.Hint, k.Name, ErrExpired)
	case c.CreatorEmail == "":
		return fmt.Errorf("key %s (%s): %w", k.Hint, k.Name, ErrCreatorGone)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
