package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"gorm.io/gorm"
)

// backends are the chain's tests on each database: on PostgreSQL, two pools stand for two
// instances writing at once.
func backends(t *testing.T, fn func(t *testing.T, a, b *gorm.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		g := dbtest.SQLite(t, Migrations())
		fn(t, g, g)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := dbtest.PostgresDSN(t)
		open := func() *gorm.DB {
			g, err := db.Open("postgres", dsn, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close(g) })
			return g
		}
		a := open()
		if _, err := db.Migrate(a, Migrations()); err != nil {
			t.Fatal(err)
		}
		fn(t, a, open())
	})
}

func entry(i int) Entry {
	return Entry{Actor: Actor{Type: ActorUser, ID: fmt.Sprintf("u%d", i%3), Name: "Ada"}, Action: "participant.kick",
		Room: "standup", Target: fmt.Sprintf("p%d", i), Address: "127.0.0.1", Detail: `{"ban":false}`}
}

func TestConcurrentWritersKeepOneChain(t *testing.T) {
	backends(t, func(t *testing.T, ga, gb *gorm.DB) {
		ctx := context.Background()
		logs := []*Log{New(ga, nil, nil), New(gb, nil, nil)}
		const writers, each = 8, 10
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := logs[w%2].Record(ctx, entry(w*each+i)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		n, err := logs[0].Verify(ctx)
		if err != nil || n != writers*each {
			t.Fatalf("Verify = %d, %v; want %d entries and no error", n, err, writers*each)
		}
	})
}

func TestVerifyNamesTheEditedRow(t *testing.T) {
	backends(t, func(t *testing.T, g, _ *gorm.DB) {
		ctx := context.Background()
		l := New(g, nil, nil)
		for i := range 5 {
			if err := l.Record(ctx, entry(i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name, sql string
			seq       int64
			says      string
		}{
			{"edited target", "UPDATE audit_entries SET target = 'someone-else' WHERE seq = 3", 3, "edited"},
			{"edited and rehashed", "", 4, "entry 3 was changed"},
			{"removed", "DELETE FROM audit_entries WHERE seq = 3", 3, "removed"},
			{"removed at the end", "DELETE FROM audit_entries WHERE seq = 5", 5, "removed at the end"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tx := g.Begin()
				defer tx.Rollback()
				if tc.sql == "" { // the editor also recomputes the edited entry's own hash
					var r entryRow
					tx.Take(&r, "seq = 3")
					e := r.toEntry()
					e.Target = "someone-else"
					tc.sql = fmt.Sprintf("UPDATE audit_entries SET target = '%s', hash = '%s' WHERE seq = 3", e.Target, hashOf(e))
				}
				if err := tx.Exec(tc.sql).Error; err != nil {
					t.Fatal(err)
				}
				_, err := New(tx, nil, nil).Verify(ctx)
				var be *BrokenError
				if !errors.As(err, &be) || be.Seq != tc.seq || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("Verify = %v; want entry %d named, saying %q", err, tc.seq, tc.says)
				}
			})
		}
		if _, err := l.Verify(ctx); err != nil {
			t.Fatalf("the untouched chain: %v", err)
		}
	})
}

func TestPruneKeepsTheChainVerifiable(t *testing.T) {
	backends(t, func(t *testing.T, g, _ *gorm.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		l := New(g, nil, func() time.Time { return now })
		for i := range 6 {
			now = now.Add(24 * time.Hour)
			if err := l.Record(ctx, entry(i)); err != nil {
				t.Fatal(err)
			}
		}
		removed, err := l.Prune(ctx, now.Add(-72*time.Hour+time.Second)) // the first three
		if err != nil || removed != 3 {
			t.Fatalf("Prune = %d, %v; want 3", removed, err)
		}
		n, err := l.Verify(ctx)
		if err != nil || n != 4 { // three kept and the prune's own entry
			t.Fatalf("Verify after prune = %d, %v; want 4", n, err)
		}
		page, _, err := l.List(ctx, Filter{Action: "audit.prune"})
		if err != nil || len(page) != 1 || page[0].Actor.Type != ActorSystem {
			t.Fatalf("the prune's own entry: %+v, %v", page, err)
		}
		if err := g.Exec("DELETE FROM audit_entries WHERE seq = 4").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := l.Verify(ctx); err == nil || !strings.Contains(err.Error(), "audit entry 4") {
			t.Fatalf("removing the first kept entry: Verify = %v, want entry 4 named", err)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	ctx := context.Background()
	l := New(g, nil, nil)
	for i := range 7 {
		e := entry(i)
		if i%2 == 1 {
			e.Action, e.Room = "recording.download", "other"
		}
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	f := Filter{Action: "participant.kick", Limit: 3}
	for {
		page, next, err := l.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen = append(seen, e.Seq)
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if fmt.Sprint(seen) != "[7 5 3 1]" {
		t.Errorf("kicks newest first over pages = %v, want [7 5 3 1]", seen)
	}
	if _, _, err := l.List(ctx, Filter{Cursor: "nope"}); !errors.Is(err, ErrInvalidField) {
		t.Errorf("bad cursor: %v, want ErrInvalidField", err)
	}
}
