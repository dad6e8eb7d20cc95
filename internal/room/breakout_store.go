package room

import (
	"context"
	"fmt"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// breakoutMigration adds the running breakout sessions and who is assigned where: in the
// database, so that every instance moves and lets in the same people.
func breakoutMigration() db.Migration {
	type roomBreakouts struct {
		RoomID    string `gorm:"primaryKey;size:36"`
		Rooms     int    `gorm:"not null"`
		EndsAt    *time.Time
		StartedBy string `gorm:"size:64;not null"`
		CreatedAt time.Time
	}
	type roomBreakoutMembers struct {
		RoomID   string `gorm:"primaryKey;size:36"`
		Identity string `gorm:"primaryKey;size:128"`
		Idx      int    `gorm:"not null"`
	}
	return db.Migration{ID: "room_0003_breakouts", Up: func(tx *gorm.DB) error {
		return tx.AutoMigrate(&roomBreakouts{}, &roomBreakoutMembers{})
	}}
}

type breakoutRow struct {
	RoomID    string
	Rooms     int
	EndsAt    *time.Time
	StartedBy string
	CreatedAt time.Time
}

func (breakoutRow) TableName() string { return "room_breakouts" }

type breakoutMemberRow struct {
	RoomID   string
	Identity string
	Idx      int
}

func (breakoutMemberRow) TableName() string { return "room_breakout_members" }

// startBreakouts replaces the room's breakout session with a new one; ErrBreakoutsRunning
// when one runs already (two moderators at once: the first wins).
func (s store) startBreakouts(ctx context.Context, b breakoutRow, members map[string]int) error {
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&b).Error; err != nil {
			return fmt.Errorf("%w (%v)", ErrBreakoutsRunning, err)
		}
		for id, idx := range members {
			if err := tx.Create(&breakoutMemberRow{RoomID: b.RoomID, Identity: id, Idx: idx}).Error; err != nil {
				return fmt.Errorf("breakouts: assign %s: %w", id, err)
			}
		}
		return nil
	})
}

// breakouts reads the room's session and its members; ok is false when none runs.
func (s store) breakouts(ctx context.Context, roomID string) (breakoutRow, map[string]int, bool, error) {
	var rows []breakoutRow
	if err := s.g.WithContext(ctx).Where("room_id = ?", roomID).Limit(1).Find(&rows).Error; err != nil {
		return breakoutRow{}, nil, false, fmt.Errorf("breakouts: read: %w", err)
	}
	if len(rows) == 0 {
		return breakoutRow{}, nil, false, nil
	}
	var ms []breakoutMemberRow
	if err := s.g.WithContext(ctx).Where("room_id = ?", roomID).Find(&ms).Error; err != nil {
		return breakoutRow{}, nil, false, fmt.Errorf("breakouts: read members: %w", err)
	}
	members := make(map[string]int, len(ms))
	for _, m := range ms {
		members[m.Identity] = m.Idx
	}
	return rows[0], members, true, nil
}

// endBreakouts deletes the room's session; ended is false when another call (or instance)
// ended it first, so only one of them calls everyone back.
func (s store) endBreakouts(ctx context.Context, roomID string) (ended bool, err error) {
	err = s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("room_id = ?", roomID).Delete(&breakoutRow{})
		if res.Error != nil {
			return res.Error
		}
		ended = res.RowsAffected > 0
		return tx.Where("room_id = ?", roomID).Delete(&breakoutMemberRow{}).Error
	})
	if err != nil {
		return false, fmt.Errorf("breakouts: end: %w", err)
	}
	return ended, nil
}

// breakoutTimers lists the rooms whose breakout split has a timer, with its end.
func (s store) breakoutTimers(ctx context.Context) ([]breakoutRow, error) {
	var rows []breakoutRow
	err := s.g.WithContext(ctx).Select("room_id", "ends_at").Where("ends_at IS NOT NULL").Find(&rows).Error
	return rows, err
}
