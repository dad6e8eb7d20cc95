// Package schema is the one list of every module's database migrations, in the order they
// must run: the server applies it and the upgrade test checks a migrated database against it.
package schema

import (
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/outbox"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// Migrations lists each module's migrations; modules run in this order.
func Migrations() [][]db.Migration {
	return [][]db.Migration{
		auth.Migrations(),
		room.Migrations(),
		live.Migrations(),
		recording.Migrations(),
		apikey.Migrations(),
		audit.Migrations(),
		outbox.Migrations(),
	}
}
