// Package audit is Parley's append-only audit log: who did what to which room or object,
// when and from where. Each entry carries the hash of the one before it, so an edited,
// removed or inserted entry breaks the chain and Verify names it. Other code records
// through the small Recorder interface; the HTTP layer lists and exports.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/parley/parley/internal/db"
	"gorm.io/gorm"
)

// Recorder is what code that does auditable things needs.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// Kinds of actor.
const (
	ActorUser   = "user"
	ActorKey    = "key"
	ActorGuest  = "guest"  // anyone not signed in (a guest, a failed sign-in)
	ActorSystem = "system" // Parley itself (retention)
)

// Actor is who did it.
type Actor struct {
	Type string
	ID   string
	Name string
}

// Entry is one audited action. Seq, PrevHash and Hash are set by Record.
type Entry struct {
	Seq      int64
	At       time.Time
	Actor    Actor
	Action   string // e.g. "participant.kick", "recording.download", "auth.login_failed"
	Room     string
	Target   string // the object acted on: an identity, a recording, user or key id, an e-mail
	Address  string // the client's address
	Detail   string // compact JSON of what was asked, when it says more than the action
	PrevHash string
	Hash     string
}

// ErrInvalidField is a bad filter.
var ErrInvalidField = errors.New("invalid field")

// BrokenError is a chain that does not verify, naming the first entry that breaks it.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string { return fmt.Sprintf("audit entry %d: %s", e.Seq, e.Reason) }

// Log is the audit log on the database.
type Log struct {
	g   *gorm.DB
	log *slog.Logger
	now func() time.Time
}

// New builds the log on a migrated database (see Migrations).
func New(g *gorm.DB, log *slog.Logger, now func() time.Time) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Log{g: g, log: log.With("component", "audit"), now: now}
}

// hashOf is an entry's hash: SHA-256 over its sequence number, content and the previous
// hash, each field length-prefixed so no two different entries encode alike. Times are
// taken to the microsecond, what both SQLite and PostgreSQL keep.
func hashOf(e Entry) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	field("parley-audit-v1")
	field(strconv.FormatInt(e.Seq, 10))
	field(e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))
	for _, s := range []string{e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Action, e.Room, e.Target, e.Address, e.Detail, e.PrevHash} {
		field(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Record appends e to the chain. Writers on every instance are serialized on the chain's
// head row (a row lock on PostgreSQL, SQLite's write lock), so the chain never forks. On
// SQLite it queues on the write gate (db.Gate) first: an entry of every sign-in of a burst
// would otherwise wait in SQLite's busy handler, and one that kept losing was not written.
func (l *Log) Record(ctx context.Context, e Entry) error {
	gate := db.WriteGate(l.g)
	gate.Lock()
	defer gate.Unlock()
	e.Actor.Name = clip(e.Actor.Name, 200)
	e.Target, e.Detail, e.Address = clip(e.Target, 254), clip(e.Detail, 2000), clip(e.Address, 64)
	err := l.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		head, err := lockHead(tx)
		if err != nil {
			return err
		}
		e.Seq, e.PrevHash = head.Seq+1, head.Hash
		e.At = l.now().UTC().Truncate(time.Microsecond)
		e.Hash = hashOf(e)
		if err := tx.Create(toRow(e)).Error; err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return tx.Model(&headRow{}).Where("id = 1").Updates(map[string]any{"seq": e.Seq, "hash": e.Hash}).Error
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Prune removes entries older than before and moves the anchor (the last removed entry's
// sequence number and hash) so the rest still verifies. It records what it removed.
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	var removed int64
	err := l.g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockHead(tx); err != nil {
			return err
		}
		var last entryRow
		err := tx.Where("at < ?", before.UTC()).Order("seq DESC").Limit(1).Take(&last).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res := tx.Where("seq <= ?", last.Seq).Delete(&entryRow{})
		if res.Error != nil {
			return res.Error
		}
		removed = res.RowsAffected
		return tx.Model(&headRow{}).Where("id = 1").Updates(map[string]any{"anchor_seq": last.Seq, "anchor_hash": last.Hash}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("audit prune: %w", err)
	}
	if removed > 0 {
		err = l.Record(ctx, Entry{Actor: Actor{Type: ActorSystem, Name: "retention"}, Action: "audit.prune",
			Detail: fmt.Sprintf(`{"removed":%d,"before":%q}`, removed, before.UTC().Format(time.RFC3339))})
	}
	return removed, err
}

// Verify walks the whole chain from its anchor and returns how many entries it checked,
// or a *BrokenError naming the first entry that was edited, removed or inserted.
func (l *Log) Verify(ctx context.Context) (int64, error) {
	var head headRow
	if err := l.g.WithContext(ctx).Take(&head, "id = 1").Error; err != nil {
		return 0, fmt.Errorf("audit verify: read head: %w", err)
	}
	want, prev := head.AnchorSeq+1, head.AnchorHash
	var n int64
	for {
		var rows []entryRow
		if err := l.g.WithContext(ctx).Where("seq >= ?", want).Order("seq").Limit(500).Find(&rows).Error; err != nil {
			return n, fmt.Errorf("audit verify: %w", err)
		}
		for _, r := range rows {
			e := r.toEntry()
			switch {
			case e.Seq != want:
				return n, &BrokenError{Seq: want, Reason: fmt.Sprintf("is missing (the next entry is %d): removed", e.Seq)}
			case e.PrevHash != prev:
				return n, &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("its previous hash does not match entry %d: entry %d was changed or replaced", e.Seq-1, e.Seq-1)}
			case hashOf(e) != e.Hash:
				return n, &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("its content (%s at %s) does not match its hash: edited", e.Action, e.At.Format(time.RFC3339))}
			}
			want, prev = e.Seq+1, e.Hash
			n++
		}
		if len(rows) < 500 {
			break
		}
	}
	if head.Seq != want-1 || head.Hash != prev {
		return n, &BrokenError{Seq: want, Reason: fmt.Sprintf("is missing: the chain's head says %d entries, the last one found is %d (entries removed at the end)", head.Seq, want-1)}
	}
	return n, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // never cut a UTF-8 sequence
		n--
	}
	return s[:n]
}
