// Package lease elects one instance at a time for a background job (the live reconciler,
// the outbound webhook worker) through a row in the shared database: no extra service, and
// the same conditional upsert works on SQLite and PostgreSQL.
package lease

import (
	"context"
	"database/sql"
	"fmt"
)

// Table is a lease table: (name VARCHAR PRIMARY KEY, holder VARCHAR, expires_at BIGINT),
// times in unix milliseconds. Each package keeps its leases in a table of its own.
type Table struct {
	DB       *sql.DB
	Postgres bool
	Name     string // the table's name, a constant of the owning package
}

// CreateSQL is the statement that creates the table.
func (t Table) CreateSQL() string {
	return `CREATE TABLE ` + t.Name + ` (name VARCHAR(64) PRIMARY KEY, holder VARCHAR(128) NOT NULL, expires_at BIGINT NOT NULL)`
}

// Acquire takes or renews the named lease for holder until expires and reports whether
// holder has it: the holder renews its own row, anyone may take an expired one.
func (t Table) Acquire(ctx context.Context, name, holder string, now, expires int64) (bool, error) {
	q := `INSERT INTO ` + t.Name + ` (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE ` + t.Name + `.holder = excluded.holder OR ` + t.Name + `.expires_at < ?`
	if t.Postgres {
		q = `INSERT INTO ` + t.Name + ` (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE ` + t.Name + `.holder = excluded.holder OR ` + t.Name + `.expires_at < $4`
	}
	res, err := t.DB.ExecContext(ctx, q, name, holder, expires, now)
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Release gives the lease up so another instance can take it at once.
func (t Table) Release(ctx context.Context, name, holder string) error {
	q := `DELETE FROM ` + t.Name + ` WHERE name = ? AND holder = ?`
	if t.Postgres {
		q = `DELETE FROM ` + t.Name + ` WHERE name = $1 AND holder = $2`
	}
	_, err := t.DB.ExecContext(ctx, q, name, holder)
	return err
}
