package apikey

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
)

// keyRow is the api_keys table. Scopes are space-separated (scope names have no spaces).
type keyRow struct {
	ID         string `gorm:"primaryKey;size:36"`
	Name       string `gorm:"size:100;not null"`
	Hash       string `gorm:"size:64;not null;uniqueIndex"`
	Hint       string `gorm:"size:16;not null"`
	Scopes     string `gorm:"size:255;not null"`
	CreatedBy  string `gorm:"size:36;not null;index"`
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (keyRow) TableName() string { return "api_keys" }

func (r keyRow) toKey() Key {
	return Key{ID: r.ID, Name: r.Name, Scopes: strings.Fields(r.Scopes), Hint: r.Hint, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: utcPtr(r.ExpiresAt), LastUsedAt: utcPtr(r.LastUsedAt), RevokedAt: utcPtr(r.RevokedAt)}
}

// Migrations are the API key table.
func Migrations() []db.Migration {
	return []db.Migration{
		{ID: "apikey_0001_api_keys", Up: func(tx *gorm.DB) error {
			return tx.Session(&gorm.Session{NewDB: true}).AutoMigrate(&keyRow{})
		}},
	}
}

type store struct {
	g *gorm.DB
	// byHash is the per-request key check as a prepared database/sql statement, as the
	// session check is (internal/auth/store.go): gorm's Raw+Scan reflection is most of
	// its cost (bench/README.md).
	byHashOnce sync.Once
	byHash     *sql.Stmt
	byHashErr  error
}

func (s *store) create(ctx context.Context, k Key, hash string) error {
	r := keyRow{ID: k.ID, Name: k.Name, Hash: hash, Hint: k.Hint, Scopes: strings.Join(k.Scopes, " "),
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}
	if err := s.g.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	return nil
}

func (s *store) list(ctx context.Context) ([]Key, error) {
	var rows []keyRow
	if err := s.g.WithContext(ctx).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out := make([]Key, len(rows))
	for i, r := range rows {
		out[i] = r.toKey()
	}
	return out, nil
}

func (s *store) revoke(ctx context.Context, id string, now time.Time) (Key, error) {
	var r keyRow
	err := s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("key %s: %w", id, ErrNotFound)
			}
			return fmt.Errorf("revoke API key: %w", err)
		}
		if r.RevokedAt != nil {
			return nil // revoking twice keeps the first time
		}
		r.RevokedAt = &now
		return tx.Model(&keyRow{}).Where("id = ?", id).Update("revoked_at", now).Error
	})
	return r.toKey(), err
}

// callerSQL reads a key and, in the same indexed query, whether the administrator it acts
// for still is one: a key is never more than its creator. (It reads the users table of the
// auth module, the one place this package looks outside its own.)
const callerSQL = `SELECT k.id, k.name, k.hint, k.scopes, k.created_by, k.created_at, k.expires_at, k.last_used_at, k.revoked_at,
	COALESCE(u.email, ''), COALESCE(u.name, '')
	FROM api_keys k LEFT JOIN users u ON u.id = k.created_by AND u.role = 'admin' AND NOT u.disabled
	WHERE `

func (s *store) lookup(ctx context.Context, hash string) (Caller, bool, error) {
	s.byHashOnce.Do(func() {
		sqlDB, err := s.g.DB()
		if err != nil {
			s.byHashErr = err
			return
		}
		q := callerSQL + "k.hash = ?"
		if db.IsPostgres(s.g) {
			q = strings.Replace(q, "?", "$1", 1)
		}
		s.byHash, s.byHashErr = sqlDB.PrepareContext(ctx, q)
	})
	if s.byHashErr != nil {
		return Caller{}, false, fmt.Errorf("check API key: prepare: %w", s.byHashErr)
	}
	return scanCaller(s.byHash.QueryRowContext(ctx, hash))
}

func (s *store) byID(ctx context.Context, id string) (Caller, error) {
	c, found, err := s.caller(ctx, "k.id = ?", id)
	if err == nil && !found {
		err = fmt.Errorf("key %s: %w", id, ErrNotFound)
	}
	return c, err
}

func (s *store) caller(ctx context.Context, where string, arg string) (Caller, bool, error) {
	return scanCaller(s.g.WithContext(ctx).Raw(callerSQL+where, arg).Row())
}

func scanCaller(row *sql.Row) (Caller, bool, error) {
	var r keyRow
	var c Caller
	var expires, used, revoked sql.NullTime
	err := row.Scan(&r.ID, &r.Name, &r.Hint, &r.Scopes, &r.CreatedBy,
		&r.CreatedAt, &expires, &used, &revoked, &c.CreatorEmail, &c.CreatorName)
	if errors.Is(err, sql.ErrNoRows) {
		return Caller{}, false, nil
	}
	if err != nil {
		return Caller{}, false, fmt.Errorf("check API key: %w", err)
	}
	r.ExpiresAt, r.LastUsedAt, r.RevokedAt = nullPtr(expires), nullPtr(used), nullPtr(revoked)
	c.Key = r.toKey()
	return c, true, nil
}

func nullPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// touch records a use unless one at or after staleBefore is already recorded.
func (s *store) touch(ctx context.Context, id string, now, staleBefore time.Time) error {
	err := s.g.WithContext(ctx).Model(&keyRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, staleBefore).
		Update("last_used_at", now).Error
	if err != nil {
		return fmt.Errorf("record API key use: %w", err)
	}
	return nil
}
