package db

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one schema change. IDs are ordered by the slice they come in and must never
// change once released: use "<package>_<nnnn>_<what>", e.g. "auth_0001_users".
type Migration struct {
	ID string
	Up func(tx *gorm.DB) error
}

// ErrNewerSchema means the database records migrations this binary does not know: a newer
// Parley migrated it. Migrations are forward-only, so an older binary must not touch it.
var ErrNewerSchema = errors.New("the database was migrated by a newer Parley")

type schemaMigration struct {
	ID        string `gorm:"primaryKey;size:128"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate applies, in order, every migration not yet recorded in schema_migrations, each in
// its own transaction. It is idempotent. It refuses, before changing anything, a database
// that records a migration none of sets holds (ErrNewerSchema); on PostgreSQL an advisory lock keeps two instances
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
	known := map[string]bool{}
	for _, set := range sets {
		for _, m := range set {
			if known[m.ID] {
				return nil, fmt.Errorf("migrate: duplicate migration id %q", m.ID)
			}
			known[m.ID] = true
		}
	}
	var unknown []string
	for id := range have {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("migrate: %w: schema_migrations records %s, which this binary does not know. "+
			"Downgrades are not supported (migrations are forward-only): run the newer Parley again, "+
			"or restore the database backup taken before the upgrade", ErrNewerSchema, strings.Join(unknown, ", "))
	}
	var applied []string
	for _, set := range sets {
		for _, m := range set {
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
