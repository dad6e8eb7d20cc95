package room

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Migrations are the room tables. Each migration declares its own frozen copy of the
// tables it creates, so later changes to the row types never rewrite history.
func Migrations() []db.Migration {
	type rooms struct {
		ID              string `gorm:"primaryKey;size:36"`
		Name            string `gorm:"size:63;not null;uniqueIndex"`
		Title           string `gorm:"size:200;not null"`
		OwnerID         string `gorm:"size:64;not null;index"`
		Public          bool   `gorm:"not null;index"`
		AllowGuests     bool   `gorm:"not null"`
		Locked          bool   `gorm:"not null"`
		MaxParticipants int    `gorm:"not null"`
		AutoRecord      bool   `gorm:"not null"`
		CanPublish      bool   `gorm:"not null"`
		CanSubscribe    bool   `gorm:"not null"`
		CanPublishData  bool   `gorm:"not null"`
		PublishSources  string `gorm:"size:128;not null"`
		InviteCode      string `gorm:"size:64;not null"`
		CreatedAt       time.Time
		UpdatedAt       time.Time
	}
	type roomModerators struct {
		RoomID    string `gorm:"primaryKey;size:36"`
		UserID    string `gorm:"primaryKey;size:64;index"`
		CreatedAt time.Time
	}
	// subject is a participant identity or a user id; a user's identity is its id.
	type roomBans struct {
		RoomID    string `gorm:"primaryKey;size:36"`
		Subject   string `gorm:"primaryKey;size:128"`
		Reason    string `gorm:"size:500;not null"`
		BannedBy  string `gorm:"size:64;not null"`
		CreatedAt time.Time
	}
	return []db.Migration{{ID: "room_0001_rooms", Up: func(tx *gorm.DB) error {
		return tx.AutoMigrate(&rooms{}, &roomModerators{}, &roomBans{})
	}}, lobbyMigration(), breakoutMigration(), scheduleMigration(), scheduleEditMigration(), feedMigration()}
}

type roomRow struct {
	ID              string
	Name            string
	Title           string
	OwnerID         string
	Public          bool
	AllowGuests     bool
	Locked          bool
	MaxParticipants int
	AutoRecord      bool
	Lobby           bool
	LobbyUsers      bool
	CanPublish      bool
	CanSubscribe    bool
	CanPublishData  bool
	PublishSources  string
	InviteCode      string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (roomRow) TableName() string { return "rooms" }

type moderatorRow struct {
	RoomID    string
	UserID    string
	CreatedAt time.Time
}

func (moderatorRow) TableName() string { return "room_moderators" }

type banRow struct {
	RoomID    string
	Subject   string
	Reason    string
	BannedBy  string
	CreatedAt time.Time
}

func (banRow) TableName() string { return "room_bans" }

func toRow(r Room) roomRow {
	return roomRow{ID: r.ID, Name: r.Name, Title: r.Title, OwnerID: r.OwnerID, Public: r.Public,
		AllowGuests: r.AllowGuests, Locked: r.Locked, MaxParticipants: r.MaxParticipants,
		AutoRecord: r.AutoRecord, Lobby: r.Lobby, LobbyUsers: r.LobbyUsers, CanPublish: r.Defaults.CanPublish, CanSubscribe: r.Defaults.CanSubscribe,
		CanPublishData: r.Defaults.CanPublishData, PublishSources: strings.Join(r.Defaults.Sources, ","),
		InviteCode: r.InviteCode, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (w roomRow) room() Room {
	var sources []string
	if w.PublishSources != "" {
		sources = strings.Split(w.PublishSources, ",")
	}
	return Room{ID: w.ID, Name: w.Name, Title: w.Title, OwnerID: w.OwnerID, Public: w.Public,
		AllowGuests: w.AllowGuests, Locked: w.Locked, MaxParticipants: w.MaxParticipants, AutoRecord: w.AutoRecord,
		Lobby: w.Lobby, LobbyUsers: w.LobbyUsers,
		Defaults: Permissions{CanPublish: w.CanPublish, CanSubscribe: w.CanSubscribe,
			CanPublishData: w.CanPublishData, Sources: sources},
		InviteCode: w.InviteCode, CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

// store is the one gorm user of the package.
type store struct{ g *gorm.DB }

// loadRoom reads a room by name with its moderators and the subjects banned from it.
func (s store) loadRoom(ctx context.Context, name string) (*cachedRoom, error) {
	return s.loadRoomWhere(ctx, "name", name)
}

// loadRoomByID is loadRoom by the room's id, which no later room ever takes.
func (s store) loadRoomByID(ctx context.Context, id string) (*cachedRoom, error) {
	return s.loadRoomWhere(ctx, "id", id)
}

func (s store) loadRoomWhere(ctx context.Context, column, value string) (*cachedRoom, error) {
	var rows []roomRow
	if err := s.g.WithContext(ctx).Where(column+" = ?", value).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("room %s %q: read: %w", column, value, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("room %s %q: %w", column, value, ErrNotFound)
	}
	name := rows[0].Name
	e := &cachedRoom{room: rows[0].room(), mods: map[string]struct{}{}, bans: map[string]struct{}{}}
	mods, err := s.moderators(ctx, e.room.ID)
	if err != nil {
		return nil, err
	}
	e.room.Moderators = append([]string{}, mods[e.room.ID]...)
	for _, m := range e.room.Moderators {
		e.mods[m] = struct{}{}
	}
	var banned []string
	if err := s.g.WithContext(ctx).Model(&banRow{}).Where("room_id = ?", e.room.ID).Pluck("subject", &banned).Error; err != nil {
		return nil, fmt.Errorf("room %q: read bans: %w", name, err)
	}
	for _, b := range banned {
		e.bans[b] = struct{}{}
	}
	return e, nil
}

func (s store) moderators(ctx context.Context, roomIDs ...string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(roomIDs) == 0 {
		return out, nil
	}
	var rows []moderatorRow
	if err := s.g.WithContext(ctx).Where("room_id IN ?", roomIDs).Order("created_at, user_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read moderators: %w", err)
	}
	for _, m := range rows {
		out[m.RoomID] = append(out[m.RoomID], m.UserID)
	}
	return out, nil
}

// create inserts a room and its moderators; a taken name is ErrNameTaken.
func (s store) create(ctx context.Context, r Room) error {
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := toRow(r)
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("room %q: %w", r.Name, ErrNameTaken)
			}
			return fmt.Errorf("room %q: create: %w", r.Name, err)
		}
		return setModerators(tx, r.ID, r.Moderators, r.CreatedAt)
	})
}

func setModerators(tx *gorm.DB, roomID string, users []string, now time.Time) error {
	if err := tx.Where("room_id = ?", roomID).Delete(&moderatorRow{}).Error; err != nil {
		return fmt.Errorf("clear moderators: %w", err)
	}
	for _, u := range users {
		if err := tx.Create(&moderatorRow{RoomID: roomID, UserID: u, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("add moderator %s: %w", u, err)
		}
	}
	return nil
}

// update writes every field of r; moderators are replaced when setMods.
func (s store) update(ctx context.Context, r Room, setMods bool) error {
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := toRow(r)
		res := tx.Model(&roomRow{}).Where("id = ?", r.ID).Select("*").Omit("id", "created_at").Updates(&row)
		if res.Error != nil {
			return fmt.Errorf("room %q: update: %w", r.Name, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("room %q: %w", r.Name, ErrNotFound)
		}
		if setMods {
			return setModerators(tx, r.ID, r.Moderators, r.UpdatedAt)
		}
		return nil
	})
}

func (s store) delete(ctx context.Context, id string) error {
	return s.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&moderatorRow{}, &banRow{}, &lobbyRow{}, &breakoutRow{}, &breakoutMemberRow{}, &scheduleRow{}} {
			if err := tx.Where("room_id = ?", id).Delete(m).Error; err != nil {
				return fmt.Errorf("delete room %s: %w", id, err)
			}
		}
		return tx.Where("id = ?", id).Delete(&roomRow{}).Error
	})
}

func (s store) addModerator(ctx context.Context, roomID, userID string, now time.Time) error {
	err := s.g.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&moderatorRow{RoomID: roomID, UserID: userID, CreatedAt: now}).Error
	if err != nil {
		return fmt.Errorf("add moderator %s: %w", userID, err)
	}
	return nil
}

func (s store) removeModerator(ctx context.Context, roomID, userID string) error {
	if err := s.g.WithContext(ctx).Where("room_id = ? AND user_id = ?", roomID, userID).Delete(&moderatorRow{}).Error; err != nil {
		return fmt.Errorf("remove moderator %s: %w", userID, err)
	}
	return nil
}

func (s store) ban(ctx context.Context, roomID, by, reason string, now time.Time, subjects ...string) error {
	for _, sub := range subjects {
		err := s.g.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&banRow{RoomID: roomID, Subject: sub, Reason: reason, BannedBy: by, CreatedAt: now}).Error
		if err != nil {
			return fmt.Errorf("ban %s: %w", sub, err)
		}
	}
	return nil
}

func (s store) setInviteCode(ctx context.Context, id, code string, now time.Time) error {
	return s.g.WithContext(ctx).Model(&roomRow{}).Where("id = ?", id).
		Updates(map[string]any{"invite_code": code, "updated_at": now}).Error
}

// list returns rooms visible to the caller ordered by name, after the cursor (a name).
func (s store) list(ctx context.Context, c Caller, after string, limit int) ([]Room, error) {
	q := s.g.WithContext(ctx).Model(&roomRow{}).Order("name").Limit(limit)
	if after != "" {
		q = q.Where("name > ?", after)
	}
	if !c.Admin {
		q = q.Where("public = ? OR owner_id = ? OR id IN (SELECT room_id FROM room_moderators WHERE user_id = ?)",
			true, c.UserID, c.UserID)
	}
	var rows []roomRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	out := make([]Room, len(rows))
	for i, w := range rows {
		out[i] = w.room()
	}
	return out, nil
}

func (s store) count(ctx context.Context) (int64, error) {
	var n int64
	err := s.g.WithContext(ctx).Model(&roomRow{}).Count(&n).Error
	return n, err
}
