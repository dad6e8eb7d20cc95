package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/parley/parley/internal/bounded"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/lease"
	"gorm.io/gorm"
)

// Participant session states.
const (
	StateJoining = "joining"
	StateJoined  = "joined"
	StateLeft    = "left"
)

// Migrations are the live state's tables. Times are unix milliseconds (BIGINT) so that the
// same SQL orders them on SQLite and PostgreSQL; 0 means unset.
//
//   - live_webhook_events: ids of processed webhooks; the primary key makes a retried or
//     concurrently delivered event a no-op across every instance sharing the database.
//     LiveKit stops retrying after ~30 s, so ids are kept an hour and pruned by a scan (an
//     index on received_at would cost every webhook commit a page write).
//   - live_rooms: one row per room name, its current (or last) LiveKit room sid.
//   - live_participants: one row per participant session (LiveKit participant sid), never
//     deleted: the current state and the usage history at once. hidden marks recorders
//     (hidden, recorder or egress participants): kept, but never counted or listed.
//   - live_tracks: published tracks per session.
//   - live_leases: the reconciler lease (one instance at a time).
//
// updated_at is the event's own time (ordering); seen_at is this machine's clock when the
// row was last written, which lets the reconciler leave alone rows newer than its snapshot.
func Migrations() []db.Migration {
	return []db.Migration{{ID: "live_0001_state", Up: func(tx *gorm.DB) error {
		for _, q := range []string{
			`CREATE TABLE live_webhook_events (id VARCHAR(128) PRIMARY KEY, event VARCHAR(64) NOT NULL, received_at BIGINT NOT NULL)`,
			`CREATE TABLE live_rooms (name VARCHAR(255) PRIMARY KEY, sid VARCHAR(64) NOT NULL DEFAULT '',
				active INTEGER NOT NULL DEFAULT 0, started_at BIGINT NOT NULL DEFAULT 0, finished_at BIGINT NOT NULL DEFAULT 0,
				updated_at BIGINT NOT NULL DEFAULT 0, seen_at BIGINT NOT NULL DEFAULT 0)`,
			`CREATE TABLE live_participants (sid VARCHAR(64) PRIMARY KEY, room VARCHAR(255) NOT NULL,
				room_sid VARCHAR(64) NOT NULL DEFAULT '', identity VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL DEFAULT '',
				user_id VARCHAR(64) NOT NULL DEFAULT '', role VARCHAR(32) NOT NULL DEFAULT '', state VARCHAR(16) NOT NULL,
				joined_at BIGINT NOT NULL DEFAULT 0, left_at BIGINT NOT NULL DEFAULT 0, leave_reason VARCHAR(64) NOT NULL DEFAULT '',
				hidden INTEGER NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL DEFAULT 0, seen_at BIGINT NOT NULL DEFAULT 0)`,
			// Index choice is about the webhook commit: every index is a page written per
			// commit. (room, joined_at) grows at the end of each room's range (a hot page);
			// identity is only looked up among open sessions, a small partial index.
			`CREATE INDEX live_participants_room ON live_participants (room, joined_at)`,
			`CREATE INDEX live_participants_open ON live_participants (room, identity) WHERE state <> 'left'`,
			`CREATE INDEX live_participants_joined ON live_participants (joined_at)`, // dropped by live_0002
			`CREATE TABLE live_tracks (sid VARCHAR(64) PRIMARY KEY, participant_sid VARCHAR(64) NOT NULL,
				room VARCHAR(255) NOT NULL, source VARCHAR(32) NOT NULL DEFAULT '', kind VARCHAR(16) NOT NULL DEFAULT '',
				muted INTEGER NOT NULL DEFAULT 0, unpublished_at BIGINT NOT NULL DEFAULT 0,
				updated_at BIGINT NOT NULL DEFAULT 0, seen_at BIGINT NOT NULL DEFAULT 0)`,
			`CREATE INDEX live_tracks_participant ON live_tracks (participant_sid)`,
			`CREATE INDEX live_tracks_room ON live_tracks (room, unpublished_at)`,
			`CREATE TABLE live_leases (name VARCHAR(64) PRIMARY KEY, holder VARCHAR(128) NOT NULL, expires_at BIGINT NOT NULL)`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}, {ID: "live_0002_drop_joined_index", Up: func(tx *gorm.DB) error {
		// The usage query asks for sessions overlapping [since, now]: every session joined
		// before now matches, so this index never narrowed it, and it cost every webhook
		// commit a page write (bench/README.md).
		return tx.Exec(`DROP INDEX IF EXISTS live_participants_joined`).Error
	}}}
}

// store runs the live state's SQL through database/sql: the webhook path is hot, and plain
// statements with ? placeholders (rebound to $n on PostgreSQL) cost a fraction of gorm's.
type store struct {
	db       *sql.DB
	postgres bool
	// gate is held around each write transaction of the webhook writer (db.WriteGate).
	gate *db.Gate

	mu       sync.Mutex
	roomSids map[string]string // room -> sid this process already made the running instance
}

func (s *store) knownRoomSid(room string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomSids[room]
}

func (s *store) rememberRoomSid(room, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bounded.Prune(s.roomSids, nil)
	s.roomSids[room] = sid
}

// forgetRooms drops the cache (room empty: all), after a room ended or a rolled back write.
func (s *store) forgetRooms(room string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room == "" {
		clear(s.roomSids)
		return
	}
	delete(s.roomSids, room)
}

func newStore(g *gorm.DB) (*store, error) {
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("live: database handle: %w", err)
	}
	return &store{db: sqlDB, postgres: db.IsPostgres(g), gate: db.WriteGate(g), roomSids: map[string]string{}}, nil
}

// q rebinds ? placeholders for PostgreSQL. Statements are constants, so the rebinding is
// done once each; q is only called from code paths whose statements are all known up front.
func (s *store) q(query string) string {
	if !s.postgres {
		return query
	}
	return rebind(query)
}

func rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *store) exec(ctx context.Context, x execer, query string, args ...any) (int64, error) {
	res, err := x.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// writeContext bounds a write transaction. On SQLite it is never cancelled: for a context
// that can be, mattn/go-sqlite3 runs every statement on a new goroutine and waits for it (to
// interrupt on cancel), two thread hand-offs per statement that cost the webhook writer much
// of its throughput (bench/README.md); SQLite's busy_timeout bounds lock waits anyway. PostgreSQL is
// across a network and keeps a deadline.
func (s *store) writeContext() (context.Context, context.CancelFunc) {
	if s.postgres {
		return context.WithTimeout(context.Background(), 15*time.Second)
	}
	return context.Background(), func() {}
}

func (s *store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *store) eventSeen(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM live_webhook_events WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// pruneEvents forgets webhook ids received before the given time.
func (s *store) pruneEvents(ctx context.Context, before int64) (int64, error) {
	return s.exec(ctx, s.db, `DELETE FROM live_webhook_events WHERE received_at < ?`, before)
}

// acquireLease takes or renews the named lease for holder until expires; it reports whether
// holder has it (internal/lease).
func (s *store) acquireLease(ctx context.Context, name, holder string, now, expires int64) (bool, error) {
	return s.leases().Acquire(ctx, name, holder, now, expires)
}

// releaseLease gives the lease up so another instance can take it at once.
func (s *store) releaseLease(ctx context.Context, name, holder string) error {
	return s.leases().Release(ctx, name, holder)
}

func (s *store) leases() lease.Table {
	return lease.Table{DB: s.db, Postgres: s.postgres, Name: "live_leases"}
}

// LastWebhookAt is when the newest verified webhook still in the log (ids are kept an hour)
// was received, zero when there is none. It reads the database rather than this process's
// memory, so `parley doctor`, a process of its own, sees what the running server received.
func LastWebhookAt(ctx context.Context, sqlDB *sql.DB) (time.Time, error) {
	var ms sql.NullInt64
	if err := sqlDB.QueryRowContext(ctx, `SELECT MAX(received_at) FROM live_webhook_events`).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("live: last webhook: %w", err)
	}
	if !ms.Valid || ms.Int64 == 0 {
		return time.Time{}, nil
	}
	return msTime(ms.Int64), nil
}
