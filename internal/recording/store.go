package recording

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/fielderr"
	"gorm.io/gorm"
)

type row struct {
	ID              string `gorm:"primaryKey"`
	Room            string
	RoomID          string
	OwnerID         string
	Backend         string
	Handle          string
	Status          string
	StartedBy       string
	StartedAt       time.Time
	EndedAt         *time.Time
	DurationSeconds float64
	SizeBytes       int64
	Error           string
	Note            string
	Progress        float64
	FileKey         string
	Instance        string
	UpdatedAt       time.Time
	Attempts        int
	Retryable       bool
	NextRetryAt     *time.Time
}

func (row) TableName() string { return "recordings" }

func toRow(r Recording) row {
	return row{ID: r.ID, Room: r.Room, RoomID: r.RoomID, OwnerID: r.OwnerID, Backend: r.Backend, Handle: r.Handle,
		Status: string(r.Status), StartedBy: r.StartedBy, StartedAt: r.StartedAt.UTC(), EndedAt: r.EndedAt,
		DurationSeconds: r.DurationSeconds, SizeBytes: r.SizeBytes, Error: r.Error, Note: r.Note,
		Progress: r.Progress, FileKey: r.FileKey, Instance: r.Instance, UpdatedAt: r.UpdatedAt.UTC(),
		Attempts: r.Attempts, Retryable: r.Retryable, NextRetryAt: r.NextRetryAt}
}

func (w row) recording() Recording {
	r := Recording{ID: w.ID, Room: w.Room, RoomID: w.RoomID, OwnerID: w.OwnerID, Backend: w.Backend, Handle: w.Handle,
		Status: Status(w.Status), StartedBy: w.StartedBy, StartedAt: w.StartedAt.UTC(),
		DurationSeconds: w.DurationSeconds, SizeBytes: w.SizeBytes, Error: w.Error, Note: w.Note,
		Progress: w.Progress, FileKey: w.FileKey, Instance: w.Instance, UpdatedAt: w.UpdatedAt.UTC(),
		Attempts: w.Attempts, Retryable: w.Retryable}
	if w.EndedAt != nil {
		t := w.EndedAt.UTC()
		r.EndedAt = &t
	}
	if w.NextRetryAt != nil && w.Retryable {
		t := w.NextRetryAt.UTC()
		r.NextRetryAt = &t
	}
	return r
}

// store is the only gorm user of the package. onChange runs inside the transaction of every
// applied transition (Options.OnTransition).
type store struct {
	db       *gorm.DB
	onChange func(ctx context.Context, x Execer, r Recording) error
}

// Execer is an open transaction handed to Options.OnTransition.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s store) insert(ctx context.Context, r Recording) error {
	w := toRow(r)
	err := s.db.WithContext(ctx).Create(&w).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("room %q: %w", r.Room, ErrAlreadyRecording)
	}
	if err != nil {
		return fmt.Errorf("recording %s: insert: %w", r.ID, err)
	}
	return nil
}

func (s store) get(ctx context.Context, id string) (Recording, error) {
	var w row
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Recording{}, fmt.Errorf("recording %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("recording %q: read: %w", id, err)
	}
	return w.recording(), nil
}

func (s store) byHandle(ctx context.Context, backend, handle string) (Recording, error) {
	var w row
	err := s.db.WithContext(ctx).Where("backend = ? AND handle = ?", backend, handle).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Recording{}, fmt.Errorf("recording with %s handle %q: %w", backend, handle, ErrNotFound)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("recording with handle %q: read: %w", handle, err)
	}
	return w.recording(), nil
}

// setHandle records the backend's handle once it is known; it never overwrites another one.
func (s store) setHandle(ctx context.Context, id, handle string, now time.Time) error {
	return s.db.WithContext(ctx).Model(&row{}).Where("id = ? AND handle = ''", id).
		Updates(map[string]any{"handle": handle, "updated_at": now.UTC()}).Error
}

// transition moves the recording to u.Status if, and only if, its current state allows it,
// in one conditional UPDATE; it returns the recording as it is afterwards. A repeat of the
// current state is ErrDuplicate and anything else ErrIllegalTransition; neither changes it.
func (s store) transition(ctx context.Context, id string, u Update, now time.Time) (Recording, error) {
	set := map[string]any{"status": string(u.Status), "updated_at": now.UTC()}
	if u.Error != "" {
		set["error"] = u.Error
	}
	if u.Note != "" {
		set["note"] = u.Note
	}
	if u.Handle != "" {
		set["handle"] = gorm.Expr("CASE WHEN handle = '' THEN ? ELSE handle END", u.Handle)
	}
	if u.Status == StatusComplete {
		set["progress"] = 1.0
	} else if u.Progress > 0 {
		set["progress"] = u.Progress
	}
	if u.DurationSeconds > 0 {
		set["duration_seconds"] = u.DurationSeconds
	}
	if u.SizeBytes > 0 {
		set["size_bytes"] = u.SizeBytes
	}
	if u.FileKey != "" {
		set["file_key"] = u.FileKey
	}
	if u.Status.Terminal() {
		set["ended_at"] = now.UTC()
	}
	if u.Status == StatusFailed && u.Retryable {
		set["attempts"] = gorm.Expr("attempts + 1")
	}
	if u.Status != StatusFailed { // a retry's outcome: no longer scheduled
		set["retryable"], set["next_retry_at"] = false, nil
	}
	var cur Recording
	var moved bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&row{}).Where("id = ? AND status IN ?", id, statusStrings(sourcesOf(u.Status))).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("recording %s: -> %s: %w", id, u.Status, res.Error)
		}
		var err error
		if cur, err = (store{db: tx}).get(ctx, id); err != nil {
			return err
		}
		moved = res.RowsAffected > 0
		if moved && s.onChange != nil {
			// The outbound webhook is written with the change: both commit or neither does.
			return s.onChange(ctx, tx.Statement.ConnPool, cur)
		}
		return nil
	})
	if err != nil {
		return Recording{}, err
	}
	if !moved {
		return cur, transitionError(id, cur.Status, u.Status)
	}
	return cur, nil
}

// touch updates progress and note of a live recording without changing its state.
func (s store) touch(ctx context.Context, id string, u Update, now time.Time) error {
	set := map[string]any{"updated_at": now.UTC()}
	if u.Progress > 0 {
		set["progress"] = u.Progress
	}
	if u.Note != "" {
		set["note"] = u.Note
	}
	if u.SizeBytes > 0 {
		set["size_bytes"] = u.SizeBytes
	}
	return s.db.WithContext(ctx).Model(&row{}).Where("id = ? AND status = ?", id, string(u.Status)).Updates(set).Error
}

func statusStrings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// Filter narrows a listing; empty fields do not narrow it.
type Filter struct {
	Room string // a room name, as the caller asks
	// RoomID and OwnerID are what the access rules narrow a listing to (Guard.List).
	RoomID  string
	OwnerID string
	Limit   int
	Cursor  string
}

// list returns recordings newest first, with a cursor for the next page.
func (s store) list(ctx context.Context, f Filter) ([]Recording, string, error) {
	q := s.db.WithContext(ctx).Model(&row{})
	switch {
	case f.RoomID != "":
		q = q.Where("room_id = ?", f.RoomID)
	case f.Room != "":
		q = q.Where("room = ?", f.Room)
	}
	if f.OwnerID != "" {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("started_at < ? OR (started_at = ? AND id < ?)", at, at, id)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var ws []row
	if err := q.Order("started_at DESC, id DESC").Limit(f.Limit + 1).Find(&ws).Error; err != nil {
		return nil, "", fmt.Errorf("recordings: list: %w", err)
	}
	next := ""
	if len(ws) > f.Limit {
		ws = ws[:f.Limit]
		last := ws[len(ws)-1]
		next = encodeCursor(last.StartedAt, last.ID)
	}
	out := make([]Recording, len(ws))
	for i, w := range ws {
		out[i] = w.recording()
	}
	return out, next, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixNano(), 10) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if ns, id, ok := strings.Cut(string(b), "|"); ok {
			if n, perr := strconv.ParseInt(ns, 10, 64); perr == nil {
				return time.Unix(0, n).UTC(), id, nil
			}
		}
	}
	return time.Time{}, "", fielderr.New(ErrInvalid, "cursor", "%q is not one this server issued", c)
}

// where returns the recordings matching a condition, oldest first, at most limit.
func (s store) where(ctx context.Context, limit int, cond string, args ...any) ([]Recording, error) {
	var ws []row
	if err := s.db.WithContext(ctx).Where(cond, args...).Order("started_at").Limit(limit).Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("recordings: query: %w", err)
	}
	out := make([]Recording, len(ws))
	for i, w := range ws {
		out[i] = w.recording()
	}
	return out, nil
}

func (s store) countLive(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&row{}).Where("status IN ?", statusStrings([]Status{StatusStarting, StatusActive, StatusEnding})).Count(&n).Error
	return n, err
}

func (s store) delete(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Where("id = ?", id).Delete(&row{}).Error
}

// all is every recording, oldest first.
func (s store) all(ctx context.Context) ([]Recording, error) {
	var rows []row
	if err := s.db.WithContext(ctx).Order("started_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("recordings: list all: %w", err)
	}
	out := make([]Recording, len(rows))
	for i, w := range rows {
		out[i] = w.recording()
	}
	return out, nil
}
