package recording

import (
	"context"
	"testing"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/room"
	"gorm.io/gorm"
)

// TestMigrationBackfillsRoomAndOwner: recordings made before rooms were tracked by id get
// their room's id and owner where that room still exists; a recording older than the room
// now holding its name stays unassigned (administrators only).
func TestMigrationBackfillsRoomAndOwner(t *testing.T) {
	before := [][]db.Migration{room.Migrations(), Migrations()[:3]} // up to the one before room_owner
	for name, open := range map[string]func(t *testing.T) *gorm.DB{
		"sqlite":   func(t *testing.T) *gorm.DB { return dbtest.SQLite(t, before...) },
		"postgres": func(t *testing.T) *gorm.DB { return dbtest.Postgres(t, before...) },
	} {
		t.Run(name, func(t *testing.T) { testBackfill(t, open(t)) })
	}
}

func testBackfill(t *testing.T, g *gorm.DB) {
	ctx := context.Background()
	day := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		id, name, owner string
		created         time.Time
	}{{"room-a", "standup", "alice", day}, {"room-b", "retro", "bob", day.Add(48 * time.Hour)}} {
		if err := g.Exec(`INSERT INTO rooms (id, name, title, owner_id, public, allow_guests, locked, max_participants,
			auto_record, can_publish, can_subscribe, can_publish_data, publish_sources, invite_code, created_at, updated_at)
			VALUES (?, ?, ?, ?, false, false, false, 0, false, true, true, true, '', 'code', ?, ?)`,
			r.id, r.name, r.name, r.owner, r.created, r.created).Error; err != nil {
			t.Fatal(err)
		}
	}
	st := store{db: g}
	for _, r := range []Recording{
		{ID: "rec-standup", Room: "standup", StartedAt: day.Add(time.Hour)},
		{ID: "rec-old-retro", Room: "retro", StartedAt: day.Add(time.Hour)}, // before room-b existed
		{ID: "rec-gone", Room: "deleted-room", StartedAt: day.Add(time.Hour)},
	} {
		r.Backend, r.Status, r.UpdatedAt = "builtin", StatusComplete, r.StartedAt
		w := toRow(r)
		if err := g.Omit("owner_id").Create(&w).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(g, room.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{
		"rec-standup":   {"room-a", "alice"},
		"rec-old-retro": {"", ""},
		"rec-gone":      {"", ""},
	} {
		r, err := st.get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.RoomID != want[0] || r.OwnerID != want[1] {
			t.Errorf("%s: room %q owner %q, want %q %q", id, r.RoomID, r.OwnerID, want[0], want[1])
		}
	}
}
