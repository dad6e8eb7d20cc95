package db

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Migration is one schema change. IDs are ordered by the slice they come in and must never
// change once released: use "<package>_<nnnn>_<what>", e.g. "auth_0001_users".
type Migration struct {
	ID string
	Up func(tx *gorm.DB) error
}

type schemaMigration struct {
	ID        string `gorm:"primaryKey;size:128"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate applies, in order, every migration not yet recorded in schema_migrations, each in
// its own transaction. It is idempotent; on PostgreSQL an advisory lock keeps two instances
// starting at once from racing.
func Migrate(g *gorm.DB, sets ...[]Migration) (applied []string, err error) {
	if IsPostgres(g) {
		// One connection holds the lock for the whole run.
		return applied, g.Connection(func(conn *gorm.DB) error {
			if err := conn.Exec("SELECT pg_advisory_lock(7204861)").Error; err != nil {
				return fmt.Errorf("migrate: lock: %w", err)
			}
			defer conn.Exec("SELECT pg_advisory_unlock(7204861)")
			applied, err = migrate(conn, sets)
			return err
		})
	}
	return migrate(g, sets)
}

func migrate(g *gorm.DB, sets [][]Migration) ([]string, error) {
	if err := g.AutoMigrate(&schemaMigration{}); err != nil {
		return nil, fmt.Errorf("migrate: schema_migrations: %w", err)
	}
	var done []schemaMigration
	if err := g.Find(&done).Error; err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	have := map[string]bool{}
	for _, d := range done {
		have[d.ID] = true
	}
	var applied []string
	seen := map[string]bool{}
	for _, set := range sets {
		for _, m := range set {
			if seen[m.ID] {
				return applied, fmt.Errorf("migrate: duplicate migration id %q", m.ID)
			}
			seen[m.ID] = true
			if have[m.ID] {
				continue
			}
			err := g.Transaction(func(tx *gorm.DB) error {
				// A fresh statement: tx still carries schema_migrations as its model, which
				// makes AutoMigrate inside a migration panic on PostgreSQL.
				if err := m.Up(tx.Session(&gorm.Session{NewDB: true})); err != nil {
					return err
				}
				return tx.Create(&schemaMigration{ID: m.ID, AppliedAt: time.Now().UTC()}).Error
			})
			if err != nil {
				return applied, fmt.Errorf("migrate: %s: %w", m.ID, err)
			}
			applied = append(applied, m.ID)
		}
	}
	return applied, nil
}
