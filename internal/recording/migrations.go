package recording

import (
	"gorm.io/gorm"

	"github.com/parley/parley/internal/db"
)

// Migrations create the recordings table. The partial unique index is what makes "at most
// one live recording per room" hold across several Parley instances sharing one database.
func Migrations() []db.Migration {
	return []db.Migration{{
		ID: "recording_0001_recordings",
		Up: func(tx *gorm.DB) error {
			// go-sqlite3 parses times only in DATETIME/TIMESTAMP columns; PostgreSQL wants zones.
			ts := "DATETIME"
			if db.IsPostgres(tx) {
				ts = "TIMESTAMPTZ"
			}
			for _, stmt := range []string{
				`CREATE TABLE recordings (
					id VARCHAR(36) PRIMARY KEY,
					room VARCHAR(128) NOT NULL,
					room_id VARCHAR(64) NOT NULL DEFAULT '',
					backend VARCHAR(16) NOT NULL,
					handle VARCHAR(128) NOT NULL DEFAULT '',
					status VARCHAR(16) NOT NULL,
					started_by VARCHAR(64) NOT NULL DEFAULT '',
					started_at ` + ts + ` NOT NULL,
					ended_at ` + ts + `,
					duration_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
					size_bytes BIGINT NOT NULL DEFAULT 0,
					error TEXT NOT NULL DEFAULT '',
					note TEXT NOT NULL DEFAULT '',
					progress DOUBLE PRECISION NOT NULL DEFAULT 0,
					file_key TEXT NOT NULL DEFAULT '',
					updated_at ` + ts + ` NOT NULL
				)`,
				`CREATE UNIQUE INDEX recordings_one_live_per_room ON recordings (room) WHERE status IN ('starting', 'active', 'ending')`,
				`CREATE INDEX recordings_room_started ON recordings (room, started_at)`,
				`CREATE INDEX recordings_started ON recordings (started_at)`,
				`CREATE INDEX recordings_handle ON recordings (handle)`,
				`CREATE INDEX recordings_status ON recordings (status)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}, {
		// The built-in recorder records on the instance that started it: only that instance
		// can tell whether it still knows the recording.
		ID: "recording_0002_instance",
		Up: func(tx *gorm.DB) error {
			return tx.Exec(`ALTER TABLE recordings ADD COLUMN instance VARCHAR(128) NOT NULL DEFAULT ''`).Error
		},
	}, {
		// A failed composition or upload is retried with backoff: its schedule.
		ID: "recording_0003_retry",
		Up: func(tx *gorm.DB) error {
			ts := "DATETIME"
			if db.IsPostgres(tx) {
				ts = "TIMESTAMPTZ"
			}
			for _, stmt := range []string{
				`ALTER TABLE recordings ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0`,
				`ALTER TABLE recordings ADD COLUMN retryable BOOLEAN NOT NULL DEFAULT FALSE`,
				`ALTER TABLE recordings ADD COLUMN next_retry_at ` + ts,
				`CREATE INDEX recordings_retry ON recordings (retryable, next_retry_at)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}, {
		// Recordings belong to a room by its id, never by its name (a deleted room's name can
		// be taken again), and keep the owner they were made for once that room is deleted.
		ID: "recording_0004_room_owner",
		Up: backfillRoomOwner,
	}}
}

// backfillRoomOwner adds owner_id and fills room_id and owner_id where the room still
// exists. A room created after the recording started is a later room of the same name,
// not this one: such recordings keep an empty room_id and only administrators see them.
func backfillRoomOwner(tx *gorm.DB) error {
	stmts := []string{
		`ALTER TABLE recordings ADD COLUMN owner_id VARCHAR(64) NOT NULL DEFAULT ''`,
		`CREATE INDEX recordings_room_id_started ON recordings (room_id, started_at)`,
		`CREATE INDEX recordings_owner_started ON recordings (owner_id, started_at)`,
	}
	// The room package's table; absent only where this package is migrated alone (its tests).
	if tx.Migrator().HasTable("rooms") {
		stmts = append(stmts, `UPDATE recordings SET room_id = (SELECT r.id FROM rooms r WHERE r.name = recordings.room AND r.created_at <= recordings.started_at)
			WHERE room_id = '' AND EXISTS (SELECT 1 FROM rooms r WHERE r.name = recordings.room AND r.created_at <= recordings.started_at)`,
			`UPDATE recordings SET owner_id = (SELECT r.owner_id FROM rooms r WHERE r.id = recordings.room_id)
			WHERE owner_id = '' AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = recordings.room_id)`)
	}
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
