package live

import (
	"context"
	"database/sql"
)

// writeConn is the webhook writer's own database connection, held for the writer's life,
// with its statements prepared on it once. Transactions are plain BEGIN/COMMIT statements
// rather than database/sql's Tx: a Tx watches its context on a goroutine, and every query in
// it starts another; with one connection and a context that is never cancelled (SQLite) a
// batch costs no goroutine at all, which on two cores is a large part of the writer's turn.
type writeConn struct {
	st    *store
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// tx runs fn in one transaction on the writer's connection, opening it when needed. After a
// failure the connection is rolled back, or dropped if even that fails (a broken network
// connection to PostgreSQL), and the next call opens a new one.
func (c *writeConn) tx(ctx context.Context, fn func(x execer) error) error {
	if c.conn == nil {
		conn, err := c.st.db.Conn(ctx)
		if err != nil {
			return err
		}
		c.conn, c.stmts = conn, map[string]*sql.Stmt{}
	}
	begin := "BEGIN IMMEDIATE" // take SQLite's write lock now, not on the first write
	if c.st.postgres {
		begin = "BEGIN"
	}
	c.st.gate.Lock() // queue behind the outbox worker's writes in Go, not in SQLite's sleeps
	defer c.st.gate.Unlock()
	if _, err := c.ExecContext(ctx, begin); err != nil {
		c.close()
		return err
	}
	if err := fn(c); err != nil {
		c.rollback()
		return err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		c.rollback()
		return err
	}
	return nil
}

func (c *writeConn) rollback() {
	if _, err := c.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		c.close()
	}
}

// close returns the connection to the pool (closing it first if it is broken).
func (c *writeConn) close() {
	if c.conn == nil {
		return
	}
	for _, st := range c.stmts {
		_ = st.Close()
	}
	_ = c.conn.Close()
	c.conn, c.stmts = nil, nil
}

func (c *writeConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *writeConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *writeConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *writeConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		// A Row carrying err: the connection reports the same failure.
		return c.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
