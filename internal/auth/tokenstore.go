package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// oidcLoginRow is one sign-in started at a provider: what the callback must match. In the
// database, not in memory, so the callback may reach another instance than the login did.
type oidcLoginRow struct {
	StateHash string    `gorm:"primaryKey;size:64"`
	Provider  string    `gorm:"size:32;not null"`
	Nonce     string    `gorm:"size:64;not null"`
	Verifier  string    `gorm:"size:128;not null"` // PKCE code verifier
	ExpiresAt time.Time `gorm:"not null;index"`
}

func (oidcLoginRow) TableName() string { return "oidc_logins" }

// oidcIdentityRow links a provider's subject to an account.
type oidcIdentityRow struct {
	Provider  string  `gorm:"primaryKey;size:32"`
	Subject   string  `gorm:"primaryKey;size:255"`
	UserID    string  `gorm:"size:36;not null;index"`
	User      userRow `gorm:"foreignKey:UserID;constraint:OnDelete:CASCADE"`
	CreatedAt time.Time
}

func (oidcIdentityRow) TableName() string { return "oidc_identities" }

// oidcHandoffRow is a finished provider sign-in waiting for the web app to collect its
// session with a one-time code (tokens never travel in a redirect URL).
type oidcHandoffRow struct {
	CodeHash  string    `gorm:"primaryKey;size:64"`
	UserID    string    `gorm:"size:36;not null"`
	Provider  string    `gorm:"size:32;not null"`
	IDToken   string    `gorm:"type:text;not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
}

func (oidcHandoffRow) TableName() string { return "oidc_handoffs" }

// oidcSessionRow remembers which provider opened a session and its ID token, for the
// provider's logout (id_token_hint).
type oidcSessionRow struct {
	SessionID string     `gorm:"primaryKey;size:36"`
	Session   sessionRow `gorm:"foreignKey:SessionID;constraint:OnDelete:CASCADE"`
	Provider  string     `gorm:"size:32;not null"`
	IDToken   string     `gorm:"type:text;not null"`
}

func (oidcSessionRow) TableName() string { return "oidc_sessions" }

func migrateOIDC(tx *gorm.DB) error {
	return tx.Session(&gorm.Session{NewDB: true}).AutoMigrate(&oidcLoginRow{}, &oidcIdentityRow{}, &oidcHandoffRow{}, &oidcSessionRow{})
}

func (s *store) createOIDCLogin(ctx context.Context, row *oidcLoginRow) error {
	return s.g.WithContext(ctx).Create(row).Error
}

// takeOIDCLogin reads and deletes a pending sign-in: of two callbacks with one state only
// one gets it.
func (s *store) takeOIDCLogin(ctx context.Context, stateHash string, now time.Time) (oidcLoginRow, error) {
	var row oidcLoginRow
	err := s.takeOnce(ctx, "state_hash = ?", stateHash, &row)
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !row.ExpiresAt.After(now)) {
		return row, fmt.Errorf("oidc state: %w", ErrOIDCState)
	}
	return row, err
}

// takeOnce reads the row matching where and deletes it in one transaction; a row another
// caller deleted first is gorm.ErrRecordNotFound, so each row is taken once.
func (s *store) takeOnce(ctx context.Context, where, key string, row any) error {
	return s.inTx(ctx, func(st *store) error {
		g := st.g.WithContext(ctx)
		if err := g.Where(where, key).Take(row).Error; err != nil {
			return err
		}
		res := g.Where(where, key).Delete(row)
		if res.Error == nil && res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound
		}
		return res.Error
	})
}

func (s *store) identity(ctx context.Context, provider, subject string) (oidcIdentityRow, bool, error) {
	var row oidcIdentityRow
	err := s.g.WithContext(ctx).Where("provider = ? AND subject = ?", provider, subject).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, false, nil
	}
	return row, err == nil, err
}

func (s *store) linkIdentity(ctx context.Context, row *oidcIdentityRow) error {
	return s.g.WithContext(ctx).Omit(clause.Associations).Create(row).Error
}

func (s *store) createHandoff(ctx context.Context, row *oidcHandoffRow) error {
	return s.g.WithContext(ctx).Create(row).Error
}

// takeHandoff reads and deletes a handoff, once.
func (s *store) takeHandoff(ctx context.Context, codeHash string, now time.Time) (oidcHandoffRow, error) {
	var row oidcHandoffRow
	err := s.takeOnce(ctx, "code_hash = ?", codeHash, &row)
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !row.ExpiresAt.After(now)) {
		return row, fmt.Errorf("sign-in code: %w", ErrInvalidToken)
	}
	return row, err
}

func (s *store) createOIDCSession(ctx context.Context, row *oidcSessionRow) error {
	return s.g.WithContext(ctx).Omit(clause.Associations).Create(row).Error
}

func (s *store) oidcSession(ctx context.Context, sessionID string) (oidcSessionRow, bool, error) {
	var row oidcSessionRow
	err := s.g.WithContext(ctx).Where("session_id = ?", sessionID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, false, nil
	}
	return row, err == nil, err
}

// pruneOIDC drops pending sign-ins and handoffs that expired before cutoff.
func (s *store) pruneOIDC(ctx context.Context, cutoff time.Time) error {
	g := s.g.WithContext(ctx)
	if err := g.Where("expires_at < ?", cutoff).Delete(&oidcLoginRow{}).Error; err != nil {
		return err
	}
	if err := g.Where("expires_at < ?", cutoff).Delete(&oidcHandoffRow{}).Error; err != nil {
		return err
	}
	if err := g.Where("expires_at < ?", cutoff).Delete(&passkeyCeremonyRow{}).Error; err != nil {
		return err
	}
	return g.Where("expires_at < ?", cutoff).Delete(&passwordTokenRow{}).Error
}

// passwordTokenRow is a single-use link that sets an account's password (reset, invite).
type passwordTokenRow struct {
	TokenHash string    `gorm:"primaryKey;size:64"`
	ID        string    `gorm:"size:36;not null;uniqueIndex"`
	UserID    string    `gorm:"size:36;not null;index"`
	User      userRow   `gorm:"foreignKey:UserID;constraint:OnDelete:CASCADE"`
	Purpose   string    `gorm:"size:16;not null"`
	CreatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
	UsedAt    *time.Time
}

func (passwordTokenRow) TableName() string { return "password_tokens" }

func migratePasswordTokens(tx *gorm.DB) error {
	return tx.Session(&gorm.Session{NewDB: true}).AutoMigrate(&passwordTokenRow{})
}

func (s *store) createPasswordToken(ctx context.Context, row *passwordTokenRow) error {
	return s.g.WithContext(ctx).Omit(clause.Associations).Create(row).Error
}

// claimPasswordToken uses a token of one of purposes up, atomically (of two concurrent uses
// only one wins), and returns its user. A token of another purpose is left alone: a
// verification link must not set a password.
func (s *store) claimPasswordToken(ctx context.Context, tokenHash string, purposes []string, now time.Time) (string, error) {
	g := s.g.WithContext(ctx)
	res := g.Model(&passwordTokenRow{}).Where("token_hash = ? AND purpose IN ? AND used_at IS NULL AND expires_at > ?", tokenHash, purposes, now).Update("used_at", now)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected != 1 {
		return "", fmt.Errorf("reset token unknown, expired or used: %w", ErrInvalidToken)
	}
	var row passwordTokenRow
	if err := g.Where("token_hash = ?", tokenHash).Take(&row).Error; err != nil {
		return "", err
	}
	return row.UserID, nil
}
