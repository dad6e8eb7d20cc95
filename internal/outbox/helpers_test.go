package outbox

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

var drivers = map[string]func(t *testing.T) *gorm.DB{
	"sqlite":   func(t *testing.T) *gorm.DB { return dbtest.SQLite(t, Migrations()) },
	"postgres": func(t *testing.T) *gorm.DB { return dbtest.Postgres(t, Migrations()) },
}

// forEachDriver runs test as a subtest on a fresh database of each driver.
func forEachDriver(t *testing.T, test func(t *testing.T, g *gorm.DB)) {
	for name, open := range drivers {
		t.Run(name, func(t *testing.T) { test(t, open(t)) })
	}
}

// enqueue commits events in a transaction of their own, as a state change would.
func enqueue(t *testing.T, g *gorm.DB, s *Service, evs ...Event) {
	t.Helper()
	sqlDB, _ := g.DB()
	tx, err := sqlDB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(context.Background(), tx, evs); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
