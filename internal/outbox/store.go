package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// Migrations are the outbox's tables. Times are unix milliseconds.
//
//   - outbox_events: what a state change's transaction writes, one narrow row per event
//     (no secondary index: it is on the webhook writer's path); the worker moves each to a
//     delivery per subscribed endpoint and deletes it, so the table stays short.
//   - outbox_endpoints: registered receivers; events is a comma-separated list of types.
//   - outbox_deliveries: one row per event and endpoint, kept as the delivery log. The
//     partial index on pending rows finds each (endpoint, room) queue's head; id orders a
//     queue (rows are inserted in the order of the state changes that caused them).
//     retry_from starts the retry window (reset by a replay); status is pending, delivered
//     or dead.
//   - outbox_leases: the delivery worker's lease (one instance at a time).
func Migrations() []db.Migration {
	return []db.Migration{{ID: "outbox_0001_webhooks", Up: func(tx *gorm.DB) error {
		serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
		if db.IsPostgres(tx) {
			serial = "BIGSERIAL PRIMARY KEY"
		}
		for _, q := range []string{
			`CREATE TABLE outbox_events (seq ` + serial + `, event_id VARCHAR(64) NOT NULL, event_type VARCHAR(64) NOT NULL,
				room VARCHAR(255) NOT NULL DEFAULT '', payload TEXT NOT NULL, created_at BIGINT NOT NULL)`,
			`CREATE TABLE outbox_endpoints (id VARCHAR(64) PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL,
				secret VARCHAR(128) NOT NULL, created_at BIGINT NOT NULL)`,
			`CREATE TABLE outbox_deliveries (id ` + serial + `, endpoint_id VARCHAR(64) NOT NULL,
				event_id VARCHAR(64) NOT NULL, event_type VARCHAR(64) NOT NULL, room VARCHAR(255) NOT NULL DEFAULT '',
				payload TEXT NOT NULL, status VARCHAR(16) NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
				created_at BIGINT NOT NULL, retry_from BIGINT NOT NULL, next_at BIGINT NOT NULL DEFAULT 0,
				last_at BIGINT NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0,
				last_error TEXT NOT NULL DEFAULT '', delivered_at BIGINT NOT NULL DEFAULT 0)`,
			`CREATE INDEX outbox_deliveries_pending ON outbox_deliveries (endpoint_id, room, id) WHERE status = 'pending'`,
			`CREATE INDEX outbox_deliveries_log ON outbox_deliveries (endpoint_id, id)`,
			`CREATE TABLE outbox_leases (name VARCHAR(64) PRIMARY KEY, holder VARCHAR(128) NOT NULL, expires_at BIGINT NOT NULL)`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}}
}

// Endpoint is a registered receiver.
type Endpoint struct {
	ID        string
	URL       string
	Events    []string // event types, or "*" for all
	Secret    string   // whsec_...
	CreatedAt time.Time
}

// Wants reports whether the endpoint subscribed to the event type.
func (e Endpoint) Wants(typ string) bool {
	for _, t := range e.Events {
		if t == typ || (t == AllTypes && typ != TypeTest) {
			return true
		}
	}
	return false
}

// Delivery is one event's delivery to one endpoint, with its last attempt.
type Delivery struct {
	ID          int64
	EndpointID  string
	EventID     string
	EventType   string
	Room        string
	Payload     string
	Status      string // pending | delivered | dead
	Attempts    int
	CreatedAt   time.Time
	NextAt      *time.Time
	LastAt      *time.Time
	LastStatus  int
	LastError   string
	DeliveredAt *time.Time
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
)

type deliveryRow struct {
	endpointID, eventID, eventType, room, payload string
	createdAt                                     int64
}

// store runs the outbox's SQL through database/sql: Enqueue runs inside other packages'
// transactions, which are database/sql connections, not gorm sessions.
//
// gate (db.WriteGate) is held around the worker's own write transactions, as a background
// writer: they queue behind the webhook writer in Go rather than in SQLite's busy handler.
type store struct {
	db       *sql.DB
	postgres bool
	gate     *db.Gate
}

// backgroundWait bounds how long a worker write waits for a busy webhook writer (db.Gate):
// under a sustained load of webhooks the worker still takes a turn this often.
const backgroundWait = 250 * time.Millisecond

// writeContext is ctx on PostgreSQL; on SQLite one never cancelled, as the webhook writer's
// (internal/live writeContext): for a cancellable one mattn/go-sqlite3 hands every statement
// to a goroutine of its own and waits, and the fan-out holds the gate meanwhile. A fan-out
// is bounded (fanOutBatch), and shutdown waits for it.
func (s store) writeContext(ctx context.Context) context.Context {
	if s.postgres {
		return ctx
	}
	return context.Background()
}

func (s store) lock() func() {
	s.gate.LockBackground(backgroundWait)
	return s.gate.UnlockBackground
}

func (s store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// insertEvents writes events inside the caller's transaction.
func (s store) insertEvents(ctx context.Context, x Execer, rows []deliveryRow) error {
	if len(rows) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO outbox_events (event_id, event_type, room, payload, created_at) VALUES `)
	args := make([]any, 0, 5*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, r.eventID, r.eventType, r.room, r.payload, r.createdAt)
	}
	if _, err := x.ExecContext(ctx, s.q(q.String()), args...); err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

// fanOut moves up to limit of the oldest events to one delivery per subscribed endpoint, in
// one transaction, and reports how many it moved. An event committed late with a lower seq
// (PostgreSQL hands out seqs before commit) is simply moved by a later call.
//
// The endpoints are read in the same transaction, so an endpoint deleted meanwhile (on any
// instance) gets no deliveries, and one registered after the event gets none of it.
func (s store) fanOut(ctx context.Context, limit int) (int, error) {
	ctx = s.writeContext(ctx)
	// Most passes find nothing: a read first, so they never take SQLite's write lock.
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM outbox_events LIMIT 1`).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	defer s.lock()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	eps, err := s.endpointsIn(ctx, tx)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT seq, event_id, event_type, room, payload, created_at FROM outbox_events
		ORDER BY seq LIMIT ?`), limit)
	if err != nil {
		return 0, err
	}
	var seqs []any
	var out []deliveryRow
	for rows.Next() {
		var seq int64
		var r deliveryRow
		if err := rows.Scan(&seq, &r.eventID, &r.eventType, &r.room, &r.payload, &r.createdAt); err != nil {
			rows.Close()
			return 0, err
		}
		seqs = append(seqs, seq)
		for _, ep := range eps {
			// An endpoint gets the events of its lifetime: one registered after an event was
			// written (it waited for its fan-out) was not there when it happened.
			if ep.Wants(r.eventType) && ep.CreatedAt.UnixMilli() <= r.createdAt {
				r.endpointID = ep.ID
				out = append(out, r)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(seqs) == 0 {
		return 0, err
	}
	for len(out) > 0 { // bounded statements: a few hundred rows each
		n := min(len(out), 500)
		if err := s.insertDeliveries(ctx, tx, out[:n]); err != nil {
			return 0, err
		}
		out = out[n:]
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM outbox_events WHERE seq IN (?`+strings.Repeat(", ?", len(seqs)-1)+`)`), seqs...); err != nil {
		return 0, err
	}
	return len(seqs), tx.Commit()
}

func (s store) insertDeliveries(ctx context.Context, x Execer, rows []deliveryRow) error {
	if len(rows) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO outbox_deliveries (endpoint_id, event_id, event_type, room, payload, created_at, retry_from, next_at) VALUES `)
	args := make([]any, 0, 8*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.endpointID, r.eventID, r.eventType, r.room, r.payload, r.createdAt, r.createdAt, r.createdAt)
	}
	if _, err := x.ExecContext(ctx, s.q(q.String()), args...); err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

func (s store) endpoints(ctx context.Context) ([]Endpoint, error) { return s.endpointsIn(ctx, s.db) }

// endpointsIn reads the endpoints through q (the database, or a transaction).
func (s store) endpointsIn(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]Endpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, url, events, secret, created_at FROM outbox_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("outbox: endpoints: %w", err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var e Endpoint
		var events string
		var created int64
		if err := rows.Scan(&e.ID, &e.URL, &events, &e.Secret, &created); err != nil {
			return nil, err
		}
		e.Events, e.CreatedAt = strings.Split(events, ","), time.UnixMilli(created).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s store) insertEndpoint(ctx context.Context, e Endpoint) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outbox_endpoints (id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)`),
		e.ID, e.URL, strings.Join(e.Events, ","), e.Secret, e.CreatedAt.UnixMilli())
	return err
}

// deleteEndpoint removes the endpoint and its delivery log in one transaction.
func (s store) deleteEndpoint(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM outbox_endpoints WHERE id = ?`), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook endpoint %q: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM outbox_deliveries WHERE endpoint_id = ?`), id); err != nil {
		return err
	}
	return tx.Commit()
}

// recordAttempt stores an attempt's outcome; status is the delivery's status afterwards.
func (s store) recordAttempt(ctx context.Context, id int64, status string, code int, errText string, at, next int64) error {
	ctx = s.writeContext(ctx)
	delivered := int64(0)
	if status == StatusDelivered {
		delivered = at
	}
	defer s.lock()()
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox_deliveries SET status = ?, attempts = attempts + 1, last_at = ?,
		last_status = ?, last_error = ?, next_at = ?, delivered_at = ? WHERE id = ? AND status = 'pending'`),
		status, at, code, errText, next, delivered, id)
	return err
}

// recordDelivered marks deliveries delivered, in one statement per HTTP status.
func (s store) recordDelivered(ctx context.Context, byStatus map[int][]int64, at int64) error {
	ctx = s.writeContext(ctx)
	defer s.lock()()
	for code, ids := range byStatus {
		q := `UPDATE outbox_deliveries SET status = 'delivered', attempts = attempts + 1, last_at = ?, last_status = ?,
			last_error = '', next_at = 0, delivered_at = ? WHERE status = 'pending' AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
		args := []any{at, code, at}
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := s.db.ExecContext(ctx, s.q(q), args...); err != nil {
			return err
		}
	}
	return nil
}
