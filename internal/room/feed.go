package room

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parley/parley/internal/secret"
)

// A calendar feed URL carries its own secret, since calendar apps subscribe without
// cookies or headers. Only the token's SHA-256 is stored (the token is 256 random bits, so
// no slow hash is needed): a copy of the database gives no working URL. Rotating replaces
// the one token a user has, and the old URL stops working at once.

// ErrFeedNotFound is a feed token that is unknown, rotated away or revoked.
var ErrFeedNotFound = errors.New("calendar feed not found")

// feedPrefix marks Parley feed tokens (a leaked one is recognisable in a log or a scan).
const feedPrefix = "pcal_"

func feedMigration() db.Migration {
	type calendarFeeds struct {
		UserID    string `gorm:"primaryKey;size:64"`
		TokenHash string `gorm:"size:64;not null;uniqueIndex"`
		CreatedAt time.Time
	}
	return db.Migration{ID: "room_0006_calendar_feeds", Up: func(tx *gorm.DB) error { return tx.AutoMigrate(&calendarFeeds{}) }}
}

type feedRow struct {
	UserID    string `gorm:"primaryKey"`
	TokenHash string
	CreatedAt time.Time
}

func (feedRow) TableName() string { return "calendar_feeds" }

// RotateFeed gives the user a new feed token, replacing (and so disabling) the old one.
// The token is in this answer only.
func (s *Service) RotateFeed(ctx context.Context, c Caller) (string, time.Time, error) {
	if c.UserID == "" {
		return "", time.Time{}, ErrLoginRequired
	}
	token := feedPrefix + secret.Random(32)
	row := feedRow{UserID: c.UserID, TokenHash: secret.Hash(token), CreatedAt: s.now().UTC()}
	err := s.st.g.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"token_hash", "created_at"})}).Create(&row).Error
	if err != nil {
		return "", time.Time{}, fmt.Errorf("calendar feed: rotate: %w", err)
	}
	return token, row.CreatedAt, nil
}

// Feed says when the user's feed token was made (ok false: they have none).
func (s *Service) Feed(ctx context.Context, c Caller) (createdAt time.Time, ok bool, err error) {
	if c.UserID == "" {
		return time.Time{}, false, ErrLoginRequired
	}
	var rows []feedRow
	if err := s.st.g.WithContext(ctx).Where("user_id = ?", c.UserID).Limit(1).Find(&rows).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("calendar feed: read: %w", err)
	}
	if len(rows) == 0 {
		return time.Time{}, false, nil
	}
	return rows[0].CreatedAt, true, nil
}

// DeleteFeed revokes the user's feed token; its URL stops working.
func (s *Service) DeleteFeed(ctx context.Context, c Caller) error {
	if c.UserID == "" {
		return ErrLoginRequired
	}
	if err := s.st.g.WithContext(ctx).Where("user_id = ?", c.UserID).Delete(&feedRow{}).Error; err != nil {
		return fmt.Errorf("calendar feed: delete: %w", err)
	}
	return nil
}

// FeedOwner is the user a feed token belongs to.
func (s *Service) FeedOwner(ctx context.Context, token string) (string, error) {
	if len(token) < len(feedPrefix)+40 || len(token) > 100 || token[:len(feedPrefix)] != feedPrefix {
		return "", ErrFeedNotFound
	}
	var rows []feedRow
	if err := s.st.g.WithContext(ctx).Where("token_hash = ?", secret.Hash(token)).Limit(1).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("calendar feed: read: %w", err)
	}
	if len(rows) == 0 {
		return "", ErrFeedNotFound
	}
	return rows[0].UserID, nil
}
