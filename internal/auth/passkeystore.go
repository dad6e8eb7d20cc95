package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// passkeyRow is one registered WebAuthn credential. The credential record (public key,
// signature counter, flags) is the library's own JSON: it is read whole at every sign-in and
// written back after it. The raw credential id can be up to 1023 bytes, so the unique
// lookup key is its SHA-256.
type passkeyRow struct {
	ID             string  `gorm:"primaryKey;size:36"`
	UserID         string  `gorm:"size:36;not null;index"`
	User           userRow `gorm:"foreignKey:UserID;constraint:OnDelete:CASCADE"`
	CredentialHash string  `gorm:"size:64;not null;uniqueIndex"`
	Name           string  `gorm:"size:100;not null"`
	Credential     string  `gorm:"type:text;not null"`
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

func (passkeyRow) TableName() string { return "passkeys" }

func (r passkeyRow) toPasskey() Passkey {
	p := Passkey{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

// passkeyCeremonyRow is a begun registration or sign-in: its WebAuthn session data (the
// challenge above all), found by the hash of the id the browser holds.
type passkeyCeremonyRow struct {
	IDHash    string    `gorm:"primaryKey;size:64"`
	UserID    string    `gorm:"size:36;not null"` // "" for a sign-in: nobody is known yet
	Purpose   string    `gorm:"size:16;not null"`
	Session   string    `gorm:"type:text;not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
}

func (passkeyCeremonyRow) TableName() string { return "passkey_ceremonies" }

func migratePasskeys(tx *gorm.DB) error {
	return tx.Session(&gorm.Session{NewDB: true}).AutoMigrate(&passkeyRow{}, &passkeyCeremonyRow{})
}

func credentialHash(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:])
}

func (s *store) passkeys(ctx context.Context, userID string) ([]passkeyRow, error) {
	var rows []passkeyRow
	err := s.g.WithContext(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&rows).Error
	return rows, err
}

func (s *store) createPasskey(ctx context.Context, row *passkeyRow) error {
	err := s.g.WithContext(ctx).Omit(clause.Associations).Create(row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// The authenticator was asked to exclude the account's passkeys; a credential of
		// another account cannot be registered twice either.
		return fmt.Errorf("passkey already registered: %w", ErrPasskeyRefused)
	}
	return err
}

func (s *store) usePasskey(ctx context.Context, id, credential string, now time.Time) error {
	return s.g.WithContext(ctx).Model(&passkeyRow{}).Where("id = ?", id).
		Updates(map[string]any{"credential": credential, "last_used_at": now}).Error
}

func (s *store) deletePasskey(ctx context.Context, userID, id string) error {
	res := s.g.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&passkeyRow{})
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("passkey %q: %w", id, ErrPasskeyNotFound)
	}
	return res.Error
}

func (s *store) createCeremony(ctx context.Context, row *passkeyCeremonyRow) error {
	return s.g.WithContext(ctx).Create(row).Error
}

// takeCeremony reads and deletes a ceremony: of two finishes with one id only one gets it.
func (s *store) takeCeremony(ctx context.Context, idHash string, now time.Time) (passkeyCeremonyRow, error) {
	var row passkeyCeremonyRow
	err := s.takeOnce(ctx, "id_hash = ?", idHash, &row)
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !row.ExpiresAt.After(now)) {
		return row, ErrPasskeyCeremony
	}
	return row, err
}
