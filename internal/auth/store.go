package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// userRow is the users table.
type userRow struct {
	ID           string `gorm:"primaryKey;size:36"`
	Email        string `gorm:"size:254;not null;uniqueIndex"` // stored lower-cased: unique case-insensitively
	Name         string `gorm:"size:100;not null"`
	PasswordHash string `gorm:"size:255;not null"`
	Role         string `gorm:"size:16;not null;index"`
	Disabled     bool   `gorm:"not null;default:false"`
	// EmailUnverified: registered while mail could be sent and the link not opened yet
	// (auth_0005; false for every account from before).
	EmailUnverified bool `gorm:"not null;default:false"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (userRow) TableName() string { return "users" }

func (u userRow) toUser() User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled, EmailVerified: !u.EmailUnverified, CreatedAt: u.CreatedAt.UTC()}
}

// sessionRow is one login (one device). Its id is the access token's sid.
type sessionRow struct {
	ID        string  `gorm:"primaryKey;size:36"`
	UserID    string  `gorm:"size:36;not null;index"`
	User      userRow `gorm:"foreignKey:UserID;constraint:OnDelete:CASCADE"`
	CreatedAt time.Time
	ExpiresAt time.Time `gorm:"not null"`
	RevokedAt *time.Time
	IP        string `gorm:"size:64"`
	UserAgent string `gorm:"size:255"`
}

func (sessionRow) TableName() string { return "sessions" }

// refreshRow is every refresh token a session was ever given, by hash: a used one presented
// again is how a stolen token is detected.
type refreshRow struct {
	TokenHash string     `gorm:"primaryKey;size:64"`
	SessionID string     `gorm:"size:36;not null;index"`
	Session   sessionRow `gorm:"foreignKey:SessionID;constraint:OnDelete:CASCADE"`
	CreatedAt time.Time
	UsedAt    *time.Time
}

func (refreshRow) TableName() string { return "refresh_tokens" }

// Migrations are the auth tables. The structs above are the schema of the first release;
// later changes get new migrations.
func Migrations() []db.Migration {
	return []db.Migration{
		{ID: "auth_0001_users_sessions", Up: func(tx *gorm.DB) error {
			// NewDB: on PostgreSQL the migration runs on a connection whose statement still
			// names schema_migrations, which would make AutoMigrate use that table name.
			return tx.Session(&gorm.Session{NewDB: true}).AutoMigrate(&userRow{}, &sessionRow{}, &refreshRow{})
		}},
		{ID: "auth_0002_oidc", Up: migrateOIDC},
		{ID: "auth_0003_password_tokens", Up: migratePasswordTokens},
		{ID: "auth_0004_passkeys", Up: migratePasskeys},
		{ID: "auth_0005_email_verification", Up: migrateEmailVerification},
	}
}

type store struct {
	g *gorm.DB
	// check is the per-request session check as a prepared database/sql statement: it runs
	// on every authenticated request, and gorm's Raw+Scan reflection was a large part of its
	// cost (bench/README.md).
	checkOnce sync.Once
	check     *sql.Stmt
	checkErr  error
	// checks is the cache of session checks (nil when off); every committed transaction
	// invalidates it.
	checks *checkCache
}

func newStore(g *gorm.DB, checks *checkCache) *store { return &store{g: g, checks: checks} }

const checkSessionSQL = `SELECT s.user_id, s.expires_at, s.revoked_at, u.email, u.name, u.role, u.disabled, u.email_unverified, u.created_at
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`

func (s *store) checkStmt(ctx context.Context) (*sql.Stmt, error) {
	s.checkOnce.Do(func() {
		sqlDB, err := s.g.DB()
		if err != nil {
			s.checkErr = err
			return
		}
		q := checkSessionSQL
		if db.IsPostgres(s.g) {
			q = strings.Replace(q, "?", "$1", 1)
		}
		s.check, s.checkErr = sqlDB.PrepareContext(ctx, q)
	})
	return s.check, s.checkErr
}

// sessionCheck is the one row the auth middleware reads per request.
type sessionCheck struct {
	UserID    string
	ExpiresAt time.Time
	RevokedAt *time.Time
	Email     string
	Name      string
	Role      string
	Disabled  bool
	// Unverified is users.email_unverified.
	Unverified bool
	CreatedAt  time.Time
}

// checkSession reads a session and its user in ONE indexed query (the primary key of
// sessions, then the primary key of users): the request hot path, so no writes here.
func (s *store) checkSession(ctx context.Context, sessionID string) (sessionCheck, bool, error) {
	var row sessionCheck
	stmt, err := s.checkStmt(ctx)
	if err != nil {
		return row, false, fmt.Errorf("check session: prepare: %w", err)
	}
	var revoked sql.NullTime
	err = stmt.QueryRowContext(ctx, sessionID).Scan(&row.UserID, &row.ExpiresAt, &revoked,
		&row.Email, &row.Name, &row.Role, &row.Disabled, &row.Unverified, &row.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return row, false, nil
	}
	if err != nil {
		return row, false, fmt.Errorf("check session: %w", err)
	}
	if revoked.Valid {
		row.RevokedAt = &revoked.Time
	}
	return row, true, nil
}

func (s *store) userByEmail(ctx context.Context, email string) (userRow, error) {
	var u userRow
	err := s.g.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, fmt.Errorf("user %q: %w", email, ErrUserNotFound)
	}
	return u, err
}

func (s *store) userByID(ctx context.Context, id string) (userRow, error) {
	var u userRow
	err := s.g.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, fmt.Errorf("user %q: %w", id, ErrUserNotFound)
	}
	return u, err
}

func (s *store) createUser(ctx context.Context, u *userRow) error {
	err := s.g.WithContext(ctx).Create(u).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("%s: %w", u.Email, ErrEmailTaken)
	}
	return err
}

// createSession stores a session and its first refresh token.
func (s *store) createSession(ctx context.Context, sess *sessionRow, tokenHash string) error {
	gate := db.WriteGate(s.g)
	gate.Lock()
	defer gate.Unlock()
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit(clause.Associations).Create(sess).Error; err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return tx.Omit(clause.Associations).Create(&refreshRow{TokenHash: tokenHash, SessionID: sess.ID, CreatedAt: sess.CreatedAt}).Error
	})
}

// inTx runs fn in one transaction on a store bound to it: every method called on st inside
// fn is part of that transaction, which commits when fn returns nil. (checkSession is for
// the request hot path and is not meant to run inside one.) It holds the database's write
// gate (db.Gate): a burst of sign-ins then queues in the process instead of in SQLite's
// busy handler, where writers that kept losing the lock failed with "database is locked".
// fn must not start another transaction of its own.
func (s *store) inTx(ctx context.Context, fn func(st *store) error) error {
	gate := db.WriteGate(s.g)
	gate.Lock()
	defer gate.Unlock()
	// Invalidated after the commit (or rollback): a check read before then carries the old
	// generation and is not cached; one read after it sees the committed rows.
	defer s.checks.invalidate()
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&store{g: tx})
	})
}

// refreshSession finds a refresh token by its hash, and its session with the user.
func (s *store) refreshSession(ctx context.Context, tokenHash string) (refreshRow, sessionRow, error) {
	g := s.g.WithContext(ctx)
	var rt refreshRow
	err := g.Where("token_hash = ?", tokenHash).Take(&rt).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return rt, sessionRow{}, fmt.Errorf("refresh token: %w", ErrInvalidToken)
	}
	if err != nil {
		return rt, sessionRow{}, err
	}
	var sess sessionRow
	if err := g.Preload("User").Where("id = ?", rt.SessionID).Take(&sess).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return rt, sess, fmt.Errorf("refresh token: %w", ErrInvalidToken)
		}
		return rt, sess, err
	}
	return rt, sess, nil
}

// claimRefresh marks a refresh token used, atomically: of two concurrent claims only one
// reports true.
func (s *store) claimRefresh(ctx context.Context, tokenHash string, now time.Time) (bool, error) {
	res := s.g.WithContext(ctx).Model(&refreshRow{}).Where("token_hash = ? AND used_at IS NULL", tokenHash).Update("used_at", now)
	return res.RowsAffected > 0, res.Error
}

// renewSession gives a session its next refresh token and moves its expiry to expires.
func (s *store) renewSession(ctx context.Context, sessionID, tokenHash string, now, expires time.Time) error {
	g := s.g.WithContext(ctx)
	if err := g.Omit(clause.Associations).Create(&refreshRow{TokenHash: tokenHash, SessionID: sessionID, CreatedAt: now}).Error; err != nil {
		return err
	}
	return g.Model(&sessionRow{}).Where("id = ?", sessionID).Update("expires_at", expires).Error
}

// revokeSessions revokes the user's live sessions except keep (may be "").
func (s *store) revokeSessions(ctx context.Context, userID, keep string, now time.Time) error {
	q := s.g.WithContext(ctx).Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL", userID)
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	return q.Update("revoked_at", now).Error
}

func (s *store) revokeSession(ctx context.Context, sessionID string, now time.Time) error {
	return s.g.WithContext(ctx).Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", sessionID).Update("revoked_at", now).Error
}

func (s *store) setName(ctx context.Context, userID, name string, now time.Time) error {
	res := s.g.WithContext(ctx).Model(&userRow{}).Where("id = ?", userID).
		Updates(map[string]any{"name": name, "updated_at": now})
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("user %s: %w", userID, ErrUserNotFound)
	}
	return res.Error
}

func (s *store) setPasswordHash(ctx context.Context, userID, hash string, now time.Time) error {
	return s.g.WithContext(ctx).Model(&userRow{}).Where("id = ?", userID).
		Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error
}

// setAccess stores a user's role and disabled flag.
func (s *store) setAccess(ctx context.Context, userID, role string, disabled bool, now time.Time) error {
	return s.g.WithContext(ctx).Model(&userRow{}).Where("id = ?", userID).
		Updates(map[string]any{"role": role, "disabled": disabled, "updated_at": now}).Error
}

func (s *store) countUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.g.WithContext(ctx).Model(&userRow{}).Count(&n).Error
	return n, err
}

// listUsers returns up to limit users ordered by email, those after the email after (when
// not ""), whose email or name contains term (already lower-cased; "" matches all).
func (s *store) listUsers(ctx context.Context, after, term string, limit int) ([]userRow, error) {
	q := s.g.WithContext(ctx).Model(&userRow{}).Order("email").Limit(limit)
	if after != "" {
		q = q.Where("email > ?", after)
	}
	if term != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(term) + "%"
		q = q.Where(`(email LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, like, like)
	}
	var rows []userRow
	err := q.Find(&rows).Error
	return rows, err
}

// lockAdmins makes concurrent "last admin" checks serialise. SQLite already does (every
// write transaction takes the database lock at BEGIN, see db.Open); PostgreSQL needs the
// enabled admins' rows locked.
func (s *store) lockAdmins(ctx context.Context) error {
	if !db.IsPostgres(s.g) {
		return nil
	}
	var ids []string
	return s.g.WithContext(ctx).Raw("SELECT id FROM users WHERE role = ? AND disabled = ? FOR UPDATE", RoleAdmin, false).Scan(&ids).Error
}

func (s *store) countActiveAdmins(ctx context.Context) (int64, error) {
	var n int64
	err := s.g.WithContext(ctx).Model(&userRow{}).Where("role = ? AND disabled = ?", RoleAdmin, false).Count(&n).Error
	return n, err
}

// prune deletes sessions that expired or were revoked before cutoff (their refresh tokens
// go with them by cascade, and explicitly for databases without foreign keys enforced).
func (s *store) prune(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old := tx.Model(&sessionRow{}).Select("id").Where("expires_at < ? OR revoked_at < ?", cutoff, cutoff)
		if err := tx.Where("session_id IN (?)", old).Delete(&refreshRow{}).Error; err != nil {
			return err
		}
		res := tx.Where("expires_at < ? OR revoked_at < ?", cutoff, cutoff).Delete(&sessionRow{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
