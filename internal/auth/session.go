package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parley/parley/internal/secret"
)

// Registration is the body of POST /api/auth/register.
type Registration struct {
	Email    string
	Password string
	Name     string
}

// Register creates an account (role user) and logs it in.
func (s *Service) Register(ctx context.Context, in Registration, cl Client) (Grant, error) {
	if !s.cfg.AllowRegistration || s.cfg.PasswordLoginOff {
		return Grant{}, ErrRegistrationDisabled
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return Grant{}, err
	}
	name, err := normalizeName(in.Name)
	if err != nil {
		return Grant{}, err
	}
	if err := checkPassword("password", in.Password); err != nil {
		return Grant{}, err
	}
	if err := s.limiter.allow(s.limiter.ip(cl.IP), s.limiter.ipEmail(cl.IP, email)); err != nil {
		return Grant{}, err
	}
	u, err := s.createUser(ctx, email, name, in.Password, RoleUser, s.cfg.VerifyEmail)
	if err != nil {
		return Grant{}, err
	}
	s.log.Info("user registered", "user_id", u.ID, "email", u.Email)
	return s.startSession(ctx, u, cl)
}

// createUser stores a new account; unverified marks its e-mail address as not confirmed yet.
func (s *Service) createUser(ctx context.Context, email, name, password, role string, unverified bool) (userRow, error) {
	hash, err := s.hasher.hashCtx(ctx, password)
	if err != nil {
		return userRow{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	u := userRow{ID: uuid.NewString(), Email: email, Name: name, PasswordHash: hash, Role: role, EmailUnverified: unverified, CreatedAt: now, UpdatedAt: now}
	if err := s.store.createUser(ctx, &u); err != nil {
		return userRow{}, err
	}
	return u, nil
}

// Login checks an email and password and opens a new session (one per device). An unknown
// email is compared against a dummy hash, so both failures take the same time and answer.
func (s *Service) Login(ctx context.Context, email, password string, cl Client) (Grant, error) {
	if s.cfg.PasswordLoginOff {
		return Grant{}, ErrPasswordLoginClosed
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return Grant{}, err
	}
	if err := checkPresented("password", password); err != nil {
		return Grant{}, err
	}
	if err := s.limiter.allow(s.limiter.ip(cl.IP), s.limiter.ipEmail(cl.IP, e)); err != nil {
		return Grant{}, err
	}
	u, err := s.store.userByEmail(ctx, e)
	known := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return Grant{}, err
	}
	hash := s.dummyHash
	if known {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.verify(ctx, hash, password)
	if err != nil {
		return Grant{}, fmt.Errorf("verify password: %w", err)
	}
	if !known || !ok {
		return Grant{}, ErrInvalidCredentials
	}
	if u.Disabled {
		return Grant{}, fmt.Errorf("login %s: %w", e, ErrUserDisabled)
	}
	return s.startSession(ctx, u, cl)
}

// startSession opens a session for u and issues its first token pair.
func (s *Service) startSession(ctx context.Context, u userRow, cl Client) (Grant, error) {
	now := s.now()
	refresh, hash := newRefreshToken()
	sess := sessionRow{ID: uuid.NewString(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
		IP: truncate(cl.IP, 64), UserAgent: truncate(cl.UserAgent, 255)}
	if err := s.store.createSession(ctx, &sess, hash); err != nil {
		return Grant{}, err
	}
	return s.grant(u, sess.ID, refresh)
}

func (s *Service) grant(u userRow, sessionID, refresh string) (Grant, error) {
	access, exp, err := s.tokens.sign(u.ID, u.Role, sessionID, s.cfg.AccessTTL)
	if err != nil {
		return Grant{}, err
	}
	return Grant{User: u.toUser(), AccessToken: access, RefreshToken: refresh, AccessExpiresAt: exp}, nil
}

// Refresh rotates a refresh token: the presented one is used up and a new pair is issued.
// Presenting a token that was already used revokes its whole session: either the client or
// a thief holds a copy, and the server cannot tell which. callerID, when not empty, is the
// user of a valid bearer token sent along; a refresh token of another user is refused and
// left untouched.
func (s *Service) Refresh(ctx context.Context, token, callerID string, cl Client) (Grant, error) {
	if err := checkRefreshToken(token); err != nil {
		return Grant{}, err
	}
	if err := s.limiter.allow(s.limiter.ip(cl.IP)); err != nil {
		return Grant{}, err
	}
	now := s.now()
	var (
		u          userRow
		sessionID  string
		newToken   string
		reused     bool
		revokedErr error
	)
	err := s.store.inTx(ctx, func(st *store) error {
		rt, sess, err := loadRefresh(ctx, st, token, callerID)
		if err != nil {
			return err
		}
		switch {
		case sess.User.Disabled:
			return fmt.Errorf("user %s: %w", sess.UserID, ErrUserDisabled)
		case sess.RevokedAt != nil:
			return fmt.Errorf("session %s: %w", sess.ID, ErrSessionRevoked)
		case !now.Before(sess.ExpiresAt):
			return fmt.Errorf("session %s: refresh token: %w", sess.ID, ErrTokenExpired)
		}
		// Claim the token atomically: of two concurrent uses only one wins.
		claimed, err := st.claimRefresh(ctx, rt.TokenHash, now)
		if err != nil {
			return err
		}
		if !claimed {
			reused = true
			revokedErr = fmt.Errorf("session %s: used refresh token presented again: %w", sess.ID, ErrSessionRevoked)
			return st.revokeSession(ctx, sess.ID, now) // committed: the revocation must stick
		}
		var hash string
		newToken, hash = newRefreshToken()
		if err := st.renewSession(ctx, sess.ID, hash, now, now.Add(s.cfg.RefreshTTL)); err != nil {
			return err
		}
		u, sessionID = sess.User, sess.ID
		return nil
	})
	if err != nil {
		return Grant{}, err
	}
	if reused {
		s.log.Warn("refresh token reuse: session revoked", "session_id", sessionID, "ip", cl.IP)
		return Grant{}, revokedErr
	}
	return s.grant(u, sessionID, newToken)
}

// loadRefresh finds a refresh token and its session (with the user), refusing a token of
// another user than callerID (when not "").
func loadRefresh(ctx context.Context, st *store, token, callerID string) (refreshRow, sessionRow, error) {
	rt, sess, err := st.refreshSession(ctx, secret.Hash(token))
	if err != nil {
		return rt, sess, err
	}
	if callerID != "" && callerID != sess.UserID {
		return rt, sess, fmt.Errorf("refresh token belongs to another user: %w", ErrInvalidToken)
	}
	return rt, sess, nil
}

// Logout revokes the session the refresh token belongs to (used or current). It is
// idempotent for a session already revoked. callerID works as in Refresh.
func (s *Service) Logout(ctx context.Context, token, callerID string) error {
	if err := checkRefreshToken(token); err != nil {
		return err
	}
	return s.store.inTx(ctx, func(st *store) error {
		_, sess, err := loadRefresh(ctx, st, token, callerID)
		if err != nil {
			return err
		}
		return st.revokeSession(ctx, sess.ID, s.now())
	})
}

func checkRefreshToken(token string) error {
	switch {
	case token == "":
		return fieldErr("refreshToken", "is required")
	case len(token) > maxRefreshLen || !strings.HasPrefix(token, refreshPrefix):
		return fmt.Errorf("refresh token: %w (not a Parley refresh token)", ErrInvalidToken)
	}
	return nil
}

// Authenticate verifies an access token and checks, in one indexed query, that its session
// is still live and its user still enabled; the principal carries the current role. This is
// on every authenticated request (and every meeting join), so it writes nothing.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (Principal, error) {
	if len(accessToken) > maxAccessTokenLen {
		return Principal{}, fmt.Errorf("access token: %w (too long)", ErrInvalidToken)
	}
	c, err := s.tokens.parse(accessToken)
	if err != nil {
		return Principal{}, err
	}
	return s.session(ctx, c.Subject, c.SID, true)
}

// Recheck reads an authenticated principal's session and user again: long-lived requests
// (event streams) call it so that a revoked session, a disabled account or a changed role
// takes effect while they last, not only when they opened. The access token's own expiry
// is not checked again: it was valid when the request began. It reads through the same
// check cache as Authenticate: every write to sessions and users in this process empties
// it, and it is off where other instances write too, so a stream learns of a change no
// later than a request would, without a database read per event of a busy meeting.
func (s *Service) Recheck(ctx context.Context, p Principal) (Principal, error) {
	return s.session(ctx, p.UserID, p.SessionID, true)
}

// session is the principal of userID's session sid, if that session is still live.
// cached allows a check this process read since its last write to sessions or users.
func (s *Service) session(ctx context.Context, userID, sid string, cached bool) (Principal, error) {
	now := s.now()
	row, found := sessionCheck{}, false
	if cached {
		row, found = s.store.checks.get(sid, now)
	}
	var err error
	if !found {
		gen := s.store.checks.generation()
		row, found, err = s.store.checkSession(ctx, sid)
		if err == nil && found && row.RevokedAt == nil && !row.Disabled {
			s.store.checks.put(sid, row, gen, now)
		}
	}
	switch {
	case err != nil:
		return Principal{}, err
	case !found:
		return Principal{}, fmt.Errorf("session %s: %w (not found)", sid, ErrSessionRevoked)
	case row.UserID != userID:
		return Principal{}, fmt.Errorf("access token: %w (session of another user)", ErrInvalidToken)
	case row.Disabled: // before revoked: disabling revokes too, and this says why
		return Principal{}, fmt.Errorf("user %s: %w", userID, ErrUserDisabled)
	case row.RevokedAt != nil:
		return Principal{}, fmt.Errorf("session %s: %w", sid, ErrSessionRevoked)
	case !now.Before(row.ExpiresAt):
		return Principal{}, fmt.Errorf("session %s: %w", sid, ErrTokenExpired)
	}
	return Principal{UserID: userID, Email: row.Email, Name: row.Name, Role: row.Role, SessionID: sid,
		EmailVerified: !row.Unverified, CreatedAt: row.CreatedAt}, nil
}

// ChangePassword replaces the caller's password after checking the current one, and
// revokes every other session of the user (the current one stays logged in).
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	if err := checkPresented("currentPassword", current); err != nil {
		return err
	}
	if err := checkPassword("newPassword", next); err != nil {
		return err
	}
	if err := s.limiter.allow(s.limiter.user(p.UserID)); err != nil {
		return err
	}
	u, err := s.store.userByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, err := s.hasher.verify(ctx, u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return fmt.Errorf("currentPassword: %w", ErrInvalidCredentials)
	}
	return s.setPassword(ctx, u.ID, next, p.SessionID)
}

// setPassword stores a new hash and revokes the user's sessions except keep.
func (s *Service) setPassword(ctx context.Context, userID, password, keep string) error {
	hash, err := s.hasher.hashCtx(ctx, password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	return s.store.inTx(ctx, func(st *store) error {
		if err := st.setPasswordHash(ctx, userID, hash, now); err != nil {
			return err
		}
		return st.revokeSessions(ctx, userID, keep, now)
	})
}

// Prune deletes sessions expired or revoked more than a day ago, with their refresh tokens.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	if err := s.store.pruneOIDC(ctx, s.now()); err != nil {
		return 0, fmt.Errorf("prune sign-in states: %w", err)
	}
	return s.store.prune(ctx, s.now().Add(-24*time.Hour))
}

// truncate cuts s to at most n bytes without splitting a character (PostgreSQL refuses
// invalid UTF-8).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
