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
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (u userRow) toUser() User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
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
	}
}

type store struct {
	g *gorm.DB
	// check is the per-request session check as a prepared database/sql statement: it runs
	// thousands of times a second, and gorm's Raw+Scan reflection was half its cost.
	checkOnce sync.Once
	check     *sql.Stmt
	checkErr  error
}

func newStore(g *gorm.DB) *store { return &store{g: g} }

const checkSessionSQL = `SELECT s.user_id, s.expires_at, s.revoked_at, u.email, u.name, u.role, u.disabled
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
		&row.Email, &row.Name, &row.Role, &row.Disabled)
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
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit(clause.Associations).Create(sess).Error; err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return tx.Omit(clause.Associations).Create(&refreshRow{TokenHash: tokenHash, SessionID: sess.ID, CreatedAt: sess.CreatedAt}).Error
	})
}

// revokeSessions revokes the user's live sessions except keep (may be "").
func revokeSessions(tx *gorm.DB, userID, keep string, now time.Time) error {
	q := tx.Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL", userID)
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	return q.Update("revoked_at", now).Error
}

func revokeSession(tx *gorm.DB, sessionID string, now time.Time) error {
	return tx.Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", sessionID).Update("revoked_at", now).Error
}

// lockAdmins makes concurrent "last admin" checks serialise. SQLite already does (every
// write transaction takes the database lock at BEGIN, see db.Open); PostgreSQL needs the
// enabled admins' rows locked.
func lockAdmins(tx *gorm.DB) error {
	if !db.IsPostgres(tx) {
		return nil
	}
	var ids []string
	return tx.Raw("SELECT id FROM users WHERE role = ? AND disabled = ? FOR UPDATE", RoleAdmin, false).Scan(&ids).Error
}

func countActiveAdmins(tx *gorm.DB) (int64, error) {
	var n int64
	err := tx.Model(&userRow{}).Where("role = ? AND disabled = ?", RoleAdmin, false).Count(&n).Error
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
