package live

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/prometheus/client_golang/prometheus"
)

// One event that the database refuses fails alone: its neighbours in the batch are stored,
// its id is not kept (so LiveKit's retry applies it later), and the writer's connection
// goes on working after the rollback.
func TestWriterIsolatesAFailingEvent(t *testing.T) {
	g := dbtest.SQLite(t, Migrations())
	if err := g.Exec(`CREATE TRIGGER boom BEFORE INSERT ON live_participants WHEN NEW.identity = 'boom'
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`).Error; err != nil {
		t.Fatal(err)
	}
	st, err := newStore(g)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(st, NewBus(), newMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, 16)
	defer w.close(t.Context())
	joined := func(id, identity string) *job {
		return &job{done: make(chan struct{}), ev: &livekit.WebhookEvent{Event: "participant_joined", Id: id, CreatedAt: time.Now().Unix(),
			Room:        &livekit.Room{Name: "r", Sid: "RM_1"},
			Participant: &livekit.ParticipantInfo{Sid: "PA_" + identity, Identity: identity, JoinedAt: time.Now().Unix()}}}
	}
	batch := []*job{joined("EV_a", "alice"), joined("EV_b", "boom"), joined("EV_c", "carol")}
	w.commit(batch)
	if batch[0].err != nil || batch[2].err != nil || batch[1].err == nil {
		t.Fatalf("errors = %v, %v, %v; want only the middle event to fail", batch[0].err, batch[1].err, batch[2].err)
	}
	var n int64
	g.Raw(`SELECT COUNT(*) FROM live_participants`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d sessions stored, want alice and carol", n)
	}
	if err := g.Exec(`DROP TRIGGER boom`).Error; err != nil {
		t.Fatal(err)
	}
	for _, j := range []*job{joined("EV_b", "boom"), joined("EV_a", "alice")} {
		dup, err := w.submit(t.Context(), j.ev)
		if err != nil {
			t.Fatalf("submit %s after the failure: %v", j.ev.Id, err)
		}
		if want := j.ev.Id == "EV_a"; dup != want {
			t.Errorf("%s duplicate = %v, want %v", j.ev.Id, dup, want)
		}
	}
}
