// Package auth knows Parley's accounts and sessions: users and their password hashes,
// short-lived access JWTs, rotating opaque refresh tokens, the login rate limiter and the
// user administration rules. It does not know HTTP; the api package adapts it.
package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/fielderr"
	"github.com/parley/parley/internal/secret"
)

// Sentinel errors. The api package maps each to a status and a stable error code.
var (
	ErrInvalidCredentials   = errors.New("invalid email or password")
	ErrInvalidToken         = errors.New("invalid token")
	ErrTokenExpired         = errors.New("token expired")
	ErrSessionRevoked       = errors.New("session revoked")
	ErrUserDisabled         = errors.New("account disabled")
	ErrEmailTaken           = errors.New("email already registered")
	ErrWeakPassword         = errors.New("weak password")
	ErrInvalidField         = errors.New("invalid field")
	ErrRegistrationDisabled = errors.New("registration is disabled")
	ErrRateLimited          = errors.New("too many attempts")
	ErrLastAdmin            = errors.New("last administrator")
	ErrUserNotFound         = errors.New("user not found")
)

// fieldErr is bad input in one named field (a *fielderr.Error wrapping ErrInvalidField; a
// too short password wraps ErrWeakPassword).
func fieldErr(field, format string, args ...any) error {
	return fielderr.New(ErrInvalidField, field, format, args...)
}

// RateLimitError says when the caller may try again. It wraps ErrRateLimited.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many attempts: retry in %s", e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Roles of an account.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// User is an account (never its password hash).
type User struct {
	ID       string
	Email    string
	Name     string
	Role     string
	Disabled bool
	// EmailVerified is false only for an account registered while mail could be sent, until
	// its owner opens the verification link.
	EmailVerified bool
	CreatedAt     time.Time
}

// Grant is what a successful register, login or refresh hands the client.
type Grant struct {
	User            User
	AccessToken     string
	RefreshToken    string
	AccessExpiresAt time.Time
}

// Principal is the caller behind a valid access token, with the role and state read from
// the database for this request (not from the token, so changes apply at once). The HTTP
// layer keeps it for the request (httpx.PrincipalFrom). An API key is a principal too: it
// acts for the administrator who created it (UserID, Email, Role) under its own name,
// limited to its scopes; KeyID is set and SessionID is empty.
type Principal struct {
	UserID    string
	Email     string
	Name      string
	Role      string
	SessionID string
	KeyID     string
	Scopes    []string
	// EmailVerified is the account's (see User); true for an API key.
	EmailVerified bool
	// CreatedAt is the account's creation time, so the account can be answered (User)
	// without another read; zero for an API key.
	CreatedAt time.Time
}

// User is the account of an authenticated principal, as of its authentication (enabled,
// or it would have been refused).
func (p *Principal) User() User {
	return User{ID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role, EmailVerified: p.EmailVerified, CreatedAt: p.CreatedAt}
}

// IsKey reports whether the caller is an API key rather than a signed-in user.
func (p *Principal) IsKey() bool { return p != nil && p.KeyID != "" }

// IsAdmin reports whether the caller is an administrator (false for nil: anonymous).
func (p *Principal) IsAdmin() bool { return p != nil && p.Role == RoleAdmin }

// Client describes where a request comes from, for rate limits and the session record.
type Client struct {
	IP        string
	UserAgent string
}

// Config configures the service; zero values take the defaults of the README's Configuration section.
type Config struct {
	JWTSecret         []byte
	AccessTTL         time.Duration // default 15m
	RefreshTTL        time.Duration // default 720h
	AllowRegistration bool
	// PasswordLoginOff leaves single sign-on as the only way in: Login and Register refuse.
	PasswordLoginOff bool
	// VerifyEmail marks accounts that register as unverified until their owner opens the
	// link Recovery mails them (set when smtp.host is).
	VerifyEmail bool
	LoginRate   int // attempts per minute per IP+email; default 10
	// Hash overrides the password hashing parameters (tests use cheap ones); zero means
	// the production parameters. Existing hashes keep verifying: each carries its own parameters.
	Hash HashParams
	// MaxConcurrentHashes bounds the memory argon2id takes under a login flood;
	// default 2 x GOMAXPROCS.
	MaxConcurrentHashes int
}

// Service is the accounts and sessions domain.
type Service struct {
	cfg     Config
	store   *store
	hasher  *hasher
	tokens  *tokenCodec
	limiter *limiter
	log     *slog.Logger
	now     func() time.Time
	// dummyHash is compared against when an email is unknown, so a login takes as long
	// whether or not the account exists.
	dummyHash string
}

// New builds the service on a migrated database (see Migrations).
func New(g *gorm.DB, cfg Config, log *slog.Logger, now func() time.Time) (*Service, error) {
	if len(cfg.JWTSecret) < 32 {
		return nil, fmt.Errorf("auth: JWT secret is %d bytes; at least 32 are needed", len(cfg.JWTSecret))
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 720 * time.Hour
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 10
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	// Several instances may share PostgreSQL, and this process would not see another's
	// revocation: there every request reads the database.
	var checks *checkCache
	if !db.IsPostgres(g) {
		checks = newCheckCache(checkCacheTTL)
	}
	h := newHasher(cfg.Hash, cfg.MaxConcurrentHashes)
	dummy, err := h.hash(secret.Random(24))
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	return &Service{
		cfg:       cfg,
		store:     newStore(g, checks),
		hasher:    h,
		tokens:    &tokenCodec{secret: cfg.JWTSecret, now: now},
		limiter:   newLimiter(cfg.LoginRate, now),
		log:       log.With("component", "auth"),
		now:       func() time.Time { return now().UTC() },
		dummyHash: dummy,
	}, nil
}

// RegistrationOpen reports whether anyone may create an account.
func (s *Service) RegistrationOpen() bool { return s.cfg.AllowRegistration && !s.cfg.PasswordLoginOff }
