package live_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/prometheus/client_golang/prometheus"
)

// relayInstance is one Parley instance's live service on a shared PostgreSQL schema.
func relayInstance(t *testing.T, dsn string) *live.Service {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := db.Open("postgres", dsn, log)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(g) })
	if _, err := db.Migrate(g, live.Migrations()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	svc, err := live.New(live.Options{DB: g, APIKey: "devkey", APISecret: "lktest-secret-0123456789-0123456789-abcd",
		Registry: prometheus.NewRegistry(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.RunRelay(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunRelay: %v", err)
		}
	})
	return svc
}

// collect gathers the rooms of events of type typ arriving on ch for d.
func collect(ch <-chan live.Event, typ string, d time.Duration) map[string]int {
	got := map[string]int{}
	deadline := time.After(d)
	for {
		select {
		case e := <-ch:
			if e.Type == typ {
				got[e.Room]++
			}
		case <-deadline:
			return got
		}
	}
}

func TestRelayAcrossInstances(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	a, b := relayInstance(t, dsn), relayInstance(t, dsn)
	other := relayInstance(t, dbtest.PostgresDSN(t)) // another deployment: another schema
	chA, stopA := a.Subscribe(1024)
	defer stopA()
	chB, stopB := b.Subscribe(1024)
	defer stopB()
	chO, stopO := other.Subscribe(1024)
	defer stopO()

	// Wait until both listen: a probe published on A reaches B.
	deadline := time.Now().Add(10 * time.Second)
	for probe := 0; ; probe++ {
		a.Publish(live.Event{Type: "probe", Room: fmt.Sprint(probe), At: time.Now().UTC()})
		if len(collect(chB, "probe", 200*time.Millisecond)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an event published on instance A never reached instance B")
		}
	}
	b.Publish(live.Event{Type: "probe", Room: "from-b", At: time.Now().UTC()})
	if got := collect(chA, "probe", 2*time.Second); got["from-b"] != 1 {
		t.Fatalf("instance A did not get B's probe: %v", got)
	}

	// Interleaved events from both sides: each instance sees every one exactly once, with no
	// echo back and forth, and the other deployment sees none.
	const n = 50
	start := time.Now()
	for i := 0; i < n; i++ {
		a.Publish(live.Event{Type: "test", Room: fmt.Sprintf("a-%d", i), Data: map[string]any{"i": i}, At: time.Now().UTC()})
		b.Publish(live.Event{Type: "test", Room: fmt.Sprintf("b-%d", i), At: time.Now().UTC()})
	}
	gotA, gotB := collect(chA, "test", 3*time.Second), collect(chB, "test", 100*time.Millisecond)
	for _, got := range []map[string]int{gotA, gotB} {
		if len(got) != 2*n {
			t.Errorf("got %d distinct events, want %d", len(got), 2*n)
		}
		for room, c := range got {
			if c != 1 {
				t.Errorf("event %s delivered %d times", room, c)
			}
		}
	}
	if got := collect(chO, "test", 100*time.Millisecond); len(got) != 0 {
		t.Errorf("a deployment on another schema received %d events", len(got))
	}
	t.Logf("%d events each way relayed in %v", n, time.Since(start))
}
