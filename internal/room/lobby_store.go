package room

import (
	"context"
	"fmt"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// lobbyMigration adds the lobby settings to rooms and the table of lobby requests. The
// requests live in the database, not in memory: the instance that admits may not be the
// one the waiting person polls.
func lobbyMigration() db.Migration {
	type rooms struct {
		Lobby      bool `gorm:"not null;default:false"`
		LobbyUsers bool `gorm:"not null;default:false"`
	}
	type roomLobby struct {
		ID         string `gorm:"primaryKey;size:36"`
		SecretHash string `gorm:"size:64;not null"`
		RoomID     string `gorm:"size:36;not null;index:idx_room_lobby_room,priority:1"`
		Status     string `gorm:"size:16;not null;index:idx_room_lobby_room,priority:2"`
		Identity   string `gorm:"size:128;not null;index"`
		UserID     string `gorm:"size:64;not null"`
		Name       string `gorm:"size:200;not null"`
		CreatedAt  time.Time
		ExpiresAt  time.Time
		DecidedAt  *time.Time
		DecidedBy  string `gorm:"size:64;not null;default:''"`
	}
	return db.Migration{ID: "room_0002_lobby", Up: func(tx *gorm.DB) error {
		return tx.AutoMigrate(&rooms{}, &roomLobby{})
	}}
}

type lobbyRow struct {
	ID         string
	SecretHash string
	RoomID     string
	Status     string
	Identity   string
	UserID     string
	Name       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	DecidedAt  *time.Time
	DecidedBy  string
}

func (lobbyRow) TableName() string { return "room_lobbies" }

// holdInLobby inserts a waiting request, replacing the same person's earlier waiting ones
// in this room (a reload, a second tab): moderators see each person once.
func (s store) holdInLobby(ctx context.Context, row lobbyRow) error {
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&lobbyRow{}).Where("room_id = ? AND identity = ? AND status = ?", row.RoomID, row.Identity, LobbyWaiting).
			Updates(map[string]any{"status": LobbyExpired, "decided_at": row.CreatedAt}).Error
		if err != nil {
			return fmt.Errorf("lobby: replace earlier requests: %w", err)
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("lobby: hold %s: %w", row.Identity, err)
		}
		return nil
	})
}

// lobbyTicket reads one request by id; ErrTicketNotFound when there is none.
func (s store) lobbyTicket(ctx context.Context, id string) (lobbyRow, error) {
	var rows []lobbyRow
	if err := s.g.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return lobbyRow{}, fmt.Errorf("lobby ticket: read: %w", err)
	}
	if len(rows) == 0 {
		return lobbyRow{}, ErrTicketNotFound
	}
	return rows[0], nil
}

// waiting lists a room's requests still waiting at now, oldest first.
func (s store) waiting(ctx context.Context, roomID string, now time.Time) ([]lobbyRow, error) {
	var rows []lobbyRow
	err := s.g.WithContext(ctx).Where("room_id = ? AND status = ? AND expires_at > ?", roomID, LobbyWaiting, now).
		Order("created_at, id").Limit(maxLobbyList).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("lobby: list: %w", err)
	}
	return rows, nil
}

// position is how many requests of the room wait before (and including) this one.
func (s store) position(ctx context.Context, row lobbyRow, now time.Time) (int, error) {
	var n int64
	err := s.g.WithContext(ctx).Model(&lobbyRow{}).
		Where("room_id = ? AND status = ? AND expires_at > ? AND created_at <= ?", row.RoomID, LobbyWaiting, now, row.CreatedAt).
		Count(&n).Error
	return int(n), err
}

// decide moves waiting requests (ids; every one of the room when ids is nil) to status,
// conditionally: a request already decided or expired stays as it is, whichever instance
// got there first. It returns how many changed.
func (s store) decide(ctx context.Context, roomID string, ids []string, status, by string, now time.Time) (int64, error) {
	q := s.g.WithContext(ctx).Model(&lobbyRow{}).Where("room_id = ? AND status = ? AND expires_at > ?", roomID, LobbyWaiting, now)
	if ids != nil {
		q = q.Where("id IN ?", ids)
	}
	res := q.Updates(map[string]any{"status": status, "decided_at": now, "decided_by": by})
	if res.Error != nil {
		return 0, fmt.Errorf("lobby: %s: %w", status, res.Error)
	}
	return res.RowsAffected, nil
}

// expire marks one waiting request expired (its time ran out, or its holder left).
func (s store) expire(ctx context.Context, id string, now time.Time) error {
	return s.g.WithContext(ctx).Model(&lobbyRow{}).Where("id = ? AND status = ?", id, LobbyWaiting).
		Updates(map[string]any{"status": LobbyExpired, "decided_at": now}).Error
}

// admittedSince says whether the identity was admitted to the room at or after since: an
// admitted guest who reconnects, or reloads the page, is not sent back to the lobby.
func (s store) admittedSince(ctx context.Context, roomID, identity string, since time.Time) (bool, error) {
	var n int64
	err := s.g.WithContext(ctx).Model(&lobbyRow{}).
		Where("room_id = ? AND identity = ? AND status = ? AND decided_at >= ?", roomID, identity, LobbyAdmitted, since).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("lobby: read admissions: %w", err)
	}
	return n > 0, nil
}

// pruneLobby deletes requests decided or expired before the cutoff.
func (s store) pruneLobby(ctx context.Context, cutoff time.Time) error {
	return s.g.WithContext(ctx).Where("expires_at < ? AND (decided_at IS NULL OR decided_at < ?)", cutoff, cutoff).
		Delete(&lobbyRow{}).Error
}
