package room

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// scheduleMigration adds the planned meetings of rooms.
func scheduleMigration() db.Migration {
	type roomSchedules struct {
		ID         string `gorm:"primaryKey;size:36"`
		RoomID     string `gorm:"size:36;not null;index"`
		Title      string `gorm:"size:200;not null"`
		StartLocal string `gorm:"size:16;not null"`
		Minutes    int    `gorm:"not null"`
		TimeZone   string `gorm:"size:64;not null"`
		RRule      string `gorm:"size:500;not null"`
		Invitees   string `gorm:"type:text;not null"`
		LobbyOpens int    `gorm:"not null"`
		CreatedBy  string `gorm:"size:64;not null"`
		CreatedAt  time.Time
	}
	return db.Migration{ID: "room_0004_schedules", Up: func(tx *gorm.DB) error { return tx.AutoMigrate(&roomSchedules{}) }}
}

// scheduleEditMigration adds what editing needs: the occurrences cancelled one by one
// (UTC starts, comma-separated) and the sequence of changes invitees were told of; and
// the auto-record option.
func scheduleEditMigration() db.Migration {
	type roomSchedules struct {
		ExDates    string `gorm:"type:text;not null;default:''"`
		Sequence   int    `gorm:"not null;default:0"`
		AutoRecord bool   `gorm:"not null;default:false"`
	}
	return db.Migration{ID: "room_0005_schedule_edits", Up: func(tx *gorm.DB) error {
		for _, col := range []string{"ExDates", "Sequence", "AutoRecord"} {
			if err := tx.Migrator().AddColumn(&roomSchedules{}, col); err != nil {
				return err
			}
		}
		return nil
	}}
}

type scheduleRow struct {
	ID         string
	RoomID     string
	Title      string
	StartLocal string
	Minutes    int
	TimeZone   string
	RRule      string
	Invitees   string
	LobbyOpens int
	ExDates    string
	Sequence   int
	AutoRecord bool
	CreatedBy  string
	CreatedAt  time.Time
}

func (scheduleRow) TableName() string { return "room_schedules" }

func toScheduleRow(roomID, by string, sc Schedule) scheduleRow {
	ex := make([]string, len(sc.ExDates))
	for i, x := range sc.ExDates {
		ex[i] = x.UTC().Format(time.RFC3339)
	}
	return scheduleRow{ID: sc.ID, RoomID: roomID, Title: sc.Title, StartLocal: sc.Start.Format("2006-01-02T15:04"),
		Minutes: int(sc.Duration / time.Minute), TimeZone: sc.TimeZone, RRule: sc.RRule, Invitees: strings.Join(sc.Invitees, ","),
		LobbyOpens: int(sc.LobbyOpens / time.Minute), ExDates: strings.Join(ex, ","), Sequence: sc.Sequence, AutoRecord: sc.AutoRecord, CreatedBy: by, CreatedAt: sc.CreatedAt}
}

func (s store) addSchedule(ctx context.Context, roomID, by string, sc Schedule) error {
	row := toScheduleRow(roomID, by, sc)
	if err := s.g.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("schedule: add: %w", err)
	}
	return nil
}

// schedules reads schedules matching the condition (on room_schedules), with their room's name.
func (s store) schedules(ctx context.Context, where string, args ...any) ([]Schedule, error) {
	var rows []scheduleRow
	if err := s.g.WithContext(ctx).Where(where, args...).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("schedules: read: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.RoomID
	}
	var rooms []roomRow
	if err := s.g.WithContext(ctx).Select("id", "name").Where("id IN ?", ids).Find(&rooms).Error; err != nil {
		return nil, fmt.Errorf("schedules: read rooms: %w", err)
	}
	names := map[string]string{}
	for _, r := range rooms {
		names[r.ID] = r.Name
	}
	out := make([]Schedule, 0, len(rows))
	for _, r := range rows {
		loc, err := time.LoadLocation(r.TimeZone)
		if err != nil {
			continue // a zone this machine's tzdata no longer knows
		}
		start, err := time.ParseInLocation("2006-01-02T15:04", r.StartLocal, loc)
		if err != nil {
			continue
		}
		var inv []string
		if r.Invitees != "" {
			inv = strings.Split(r.Invitees, ",")
		}
		var ex []time.Time
		for _, x := range strings.Split(r.ExDates, ",") {
			if at, err := time.Parse(time.RFC3339, x); err == nil {
				ex = append(ex, at.In(loc))
			}
		}
		out = append(out, Schedule{ID: r.ID, Room: names[r.RoomID], Title: r.Title, Start: start, Duration: time.Duration(r.Minutes) * time.Minute,
			TimeZone: r.TimeZone, RRule: r.RRule, Invitees: inv, LobbyOpens: time.Duration(r.LobbyOpens) * time.Minute,
			ExDates: ex, Sequence: r.Sequence, AutoRecord: r.AutoRecord, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

func (s store) deleteSchedule(ctx context.Context, roomID, id string) error {
	res := s.g.WithContext(ctx).Where("room_id = ? AND id = ?", roomID, id).Delete(&scheduleRow{})
	if res.Error != nil {
		return fmt.Errorf("schedule: delete: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrScheduleNotFound
	}
	return nil
}

// updateSchedule stores a changed schedule (its creator and creation time stay).
func (s store) updateSchedule(ctx context.Context, roomID string, sc Schedule) error {
	row := toScheduleRow(roomID, "", sc)
	res := s.g.WithContext(ctx).Model(&scheduleRow{}).Where("room_id = ? AND id = ?", roomID, sc.ID).Select(
		"Title", "StartLocal", "Minutes", "TimeZone", "RRule", "Invitees", "LobbyOpens", "ExDates", "Sequence", "AutoRecord").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("schedule: update: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrScheduleNotFound
	}
	return nil
}
