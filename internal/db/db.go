// Package db opens Parley's database (SQLite by default, PostgreSQL for several instances)
// and runs the versioned migrations that the domain packages register.
package db

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open connects to the configured database. driver is "sqlite" or "postgres".
func Open(driver, dsn string, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true, // every write we make is explicit; halves SQLite fsyncs
		TranslateError:         true, // unique violations become gorm.ErrDuplicatedKey
	}
	switch driver {
	case "sqlite":
		return openSQLite(dsn, gcfg, log)
	case "postgres":
		g, err := gorm.Open(postgres.Open(dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("database: open postgres: %w", err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		return g, ping(g)
	}
	return nil, fmt.Errorf("database: unknown driver %q (use sqlite or postgres)", driver)
}

func ping(g *gorm.DB) error {
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database: not reachable: %w", err)
	}
	return nil
}

// IsPostgres reports whether g talks to PostgreSQL.
func IsPostgres(g *gorm.DB) bool { return g.Dialector.Name() == "postgres" }

// Close closes the pool.
func Close(g *gorm.DB) error {
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	stopCheckpointer(g)
	return sqlDB.Close()
}
