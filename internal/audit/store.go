package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// entryRow is the audit_entries table: append only (Prune removes the oldest, moving the
// anchor). seq is given under the head's lock, so it has no gaps.
type entryRow struct {
	Seq       int64     `gorm:"primaryKey;autoIncrement:false"`
	At        time.Time `gorm:"not null;index"`
	ActorType string    `gorm:"size:16;not null"`
	ActorID   string    `gorm:"size:64;not null;index"`
	ActorName string    `gorm:"size:200;not null"`
	Action    string    `gorm:"size:64;not null;index"`
	Room      string    `gorm:"size:128;not null;index"`
	Target    string    `gorm:"size:254;not null"`
	Address   string    `gorm:"size:64;not null"`
	Detail    string    `gorm:"type:text;not null"`
	PrevHash  string    `gorm:"size:64;not null"`
	Hash      string    `gorm:"size:64;not null"`
}

func (entryRow) TableName() string { return "audit_entries" }

// headRow is the chain's one head row (id 1): the last entry's seq and hash, which every
// writer locks, and the anchor left by pruning (the last removed entry).
type headRow struct {
	ID         int    `gorm:"primaryKey;autoIncrement:false"`
	Seq        int64  `gorm:"not null"`
	Hash       string `gorm:"size:64;not null"`
	AnchorSeq  int64  `gorm:"not null"`
	AnchorHash string `gorm:"size:64;not null"`
}

func (headRow) TableName() string { return "audit_head" }

// Migrations are the audit tables and the head row of an empty chain.
func Migrations() []db.Migration {
	return []db.Migration{
		{ID: "audit_0001_entries_head", Up: func(tx *gorm.DB) error {
			tx = tx.Session(&gorm.Session{NewDB: true})
			if err := tx.AutoMigrate(&entryRow{}, &headRow{}); err != nil {
				return err
			}
			return tx.Create(&headRow{ID: 1}).Error
		}},
	}
}

func toRow(e Entry) *entryRow {
	return &entryRow{Seq: e.Seq, At: e.At, ActorType: e.Actor.Type, ActorID: e.Actor.ID, ActorName: e.Actor.Name,
		Action: e.Action, Room: e.Room, Target: e.Target, Address: e.Address, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

func (r entryRow) toEntry() Entry {
	return Entry{Seq: r.Seq, At: r.At.UTC(), Actor: Actor{Type: r.ActorType, ID: r.ActorID, Name: r.ActorName},
		Action: r.Action, Room: r.Room, Target: r.Target, Address: r.Address, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
}

// lockHead takes the chain's lock and reads the head. The no-op UPDATE locks the row on
// PostgreSQL until commit (a second writer waits, then reads the new head) and, on SQLite,
// runs inside a transaction that already holds the database's write lock.
func lockHead(tx *gorm.DB) (headRow, error) {
	var h headRow
	if err := tx.Exec("UPDATE audit_head SET seq = seq WHERE id = 1").Error; err != nil {
		return h, fmt.Errorf("lock chain: %w", err)
	}
	if err := tx.Take(&h, "id = 1").Error; err != nil {
		return h, fmt.Errorf("read chain head: %w", err)
	}
	return h, nil
}

// Filter selects entries; empty fields match all.
type Filter struct {
	ActorID string
	Action  string
	Room    string
	Target  string
	From    time.Time // inclusive
	To      time.Time // exclusive
	Limit   int
	Cursor  string // from the previous page
}

func (f Filter) query(g *gorm.DB) (*gorm.DB, error) {
	q := g
	for col, v := range map[string]string{"actor_id": f.ActorID, "action": f.Action, "room": f.Room, "target": f.Target} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.Cursor != "" {
		seq, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || seq < 1 {
			return nil, fmt.Errorf("%w: cursor is not one this list returned", ErrInvalidField)
		}
		q = q.Where("seq < ?", seq)
	}
	return q.Order("seq DESC"), nil
}

// List returns one page of entries, newest first, and the cursor of the next ("" at the end).
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q, err := f.query(l.g.WithContext(ctx))
	if err != nil {
		return nil, "", err
	}
	var rows []entryRow
	if err := q.Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list audit entries: %w", err)
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = strconv.FormatInt(rows[len(rows)-1].Seq, 10)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.toEntry()
	}
	return out, next, nil
}

// Each calls fn for every matching entry, newest first, a page at a time (exports of any
// size in bounded memory). f.Limit and f.Cursor are ignored.
func (l *Log) Each(ctx context.Context, f Filter, fn func(Entry) error) error {
	f.Limit, f.Cursor = 500, ""
	for {
		page, next, err := l.List(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}
