package recording

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
)

// The outbound webhook hook runs inside the transition's transaction: what it writes
// commits with the transition, and its failure rolls the transition back.
func TestTransitionHookSharesTheTransaction(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	if err := g.Exec(`CREATE TABLE hook_log (id VARCHAR(64), status VARCHAR(16))`).Error; err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fail := errors.New("outbox full")
	var failing bool
	st := store{db: g, onChange: func(ctx context.Context, x Execer, r Recording) error {
		if _, err := x.ExecContext(ctx, `INSERT INTO hook_log (id, status) VALUES (?, ?)`, r.ID, string(r.Status)); err != nil {
			return err
		}
		if failing {
			return fail
		}
		return nil
	}}
	seed(t, st, "rec", "standup", StatusStarting)
	if _, err := st.transition(ctx, "rec", Update{Status: StatusActive}, time.Now()); err != nil {
		t.Fatal(err)
	}
	failing = true
	if _, err := st.transition(ctx, "rec", Update{Status: StatusFailed}, time.Now()); !errors.Is(err, fail) {
		t.Fatalf("transition with a failing hook: %v, want its error", err)
	}
	r, _ := st.get(ctx, "rec")
	var logged []string
	if err := g.Raw(`SELECT status FROM hook_log ORDER BY rowid`).Scan(&logged).Error; err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusActive || len(logged) != 1 || logged[0] != string(StatusActive) {
		t.Errorf("status %s, hook rows %v: want active, and only the committed transition's row", r.Status, logged)
	}
	// A transition the state refuses changes nothing, and the hook is not called.
	failing = false
	if _, err := st.transition(ctx, "rec", Update{Status: StatusStarting}, time.Now()); err == nil {
		t.Fatal("active -> starting applied")
	}
	if err := g.Raw(`SELECT status FROM hook_log`).Scan(&logged).Error; err != nil || len(logged) != 1 {
		t.Errorf("hook rows %v after a refused transition", logged)
	}
}
