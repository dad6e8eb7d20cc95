package live_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
)

// recordingOutbox writes a row per event in the transaction it is handed, or fails.
type recordingOutbox struct {
	mu   sync.Mutex
	fail bool
	seen []string
}

func (o *recordingOutbox) Enqueue(ctx context.Context, x live.Execer, evs []live.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		if _, err := x.ExecContext(ctx, `INSERT INTO hook_log (type, identity) VALUES (?, ?)`, e.Type, e.Participant); err != nil {
			return err
		}
		o.seen = append(o.seen, e.Type)
	}
	if o.fail {
		return errors.New("outbox refused")
	}
	return nil
}

// The outbox is written in the webhook's transaction: a refusal fails the webhook (LiveKit
// retries it) and keeps nothing of it; ending a meeting gives every session still in it a
// participant_left in the same transaction as the room_finished.
func TestOutboxSharesTheStateChangesTransaction(t *testing.T) {
	ob := &recordingOutbox{}
	f := newFixture(t, nil, func(o *live.Options) { o.Outbox = ob })
	if err := f.db.Exec(`CREATE TABLE hook_log (type VARCHAR(64), identity VARCHAR(255))`).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.send(t, event("participant_joined", "standup", "RM_1", participant("PA_a", "alice", now), now))
	ob.mu.Lock()
	ob.fail = true
	ob.mu.Unlock()
	body, authz := sign(t, event("participant_joined", "standup", "RM_1", participant("PA_b", "bob", now), now), testSecret)
	if code, resp := f.post(t, body, authz); code != 503 {
		t.Fatalf("webhook with a refusing outbox: %d %s, want 503 so that LiveKit retries", code, resp)
	}
	if _, in := f.participants(t, "standup")["bob"]; in {
		t.Error("bob was stored although his outbox row was not")
	}
	ob.mu.Lock()
	ob.fail = false
	ob.mu.Unlock()
	if code, _ := f.post(t, body, authz); code != 200 {
		t.Fatalf("LiveKit's retry: %d, want 200 (not a duplicate: the failed attempt kept nothing)", code)
	}
	if err := f.svc.MarkRoomEnded(context.Background(), "standup"); err != nil {
		t.Fatal(err)
	}
	var rows []string
	if err := f.db.Raw(`SELECT type || ':' || identity FROM hook_log ORDER BY rowid`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"participant_joined:alice": true, "room_started:": true, "participant_joined:bob": true,
		"participant_left:alice": true, "participant_left:bob": true, "room_finished:": true}
	got := map[string]bool{}
	for _, r := range rows {
		got[r] = true
	}
	for w := range want {
		if !got[w] {
			t.Errorf("outbox rows %v lack %s", rows, w)
		}
	}
	if rows[len(rows)-1] != "room_finished:" {
		t.Errorf("last outbox row %s, want room_finished after its sessions' participant_left", rows[len(rows)-1])
	}
}

// A meeting that ends takes its tracks with it: LiveKit's track_unpublished for them arrives
// after Parley ended the meeting (or after room_finished) and must not reach integrations as
// a change after room.finished.
func TestNoTrackEventsAfterTheRoomFinished(t *testing.T) {
	for _, end := range []string{"ended by Parley", "room_finished"} {
		t.Run(end, func(t *testing.T) {
			ob := &recordingOutbox{}
			f := newFixture(t, nil, func(o *live.Options) { o.Outbox = ob })
			if err := f.db.Exec(`CREATE TABLE hook_log (type VARCHAR(64), identity VARCHAR(255))`).Error; err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			p := participant("PA_a", "alice", now)
			f.send(t, event("participant_joined", "standup", "RM_1", p, now))
			pub := event("track_published", "standup", "RM_1", p, now)
			pub.Track = &livekit.TrackInfo{Sid: "TR_a", Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE}
			f.send(t, pub)
			if end == "room_finished" {
				f.send(t, event("room_finished", "standup", "RM_1", nil, now.Add(time.Second)))
			} else if err := f.svc.MarkRoomEnded(context.Background(), "standup"); err != nil {
				t.Fatal(err)
			}
			un := event("track_unpublished", "standup", "RM_1", p, now.Add(2*time.Second))
			un.Track = pub.Track
			f.send(t, un)
			ob.mu.Lock()
			defer ob.mu.Unlock()
			if last := ob.seen[len(ob.seen)-1]; last != live.EventRoomFinished {
				t.Fatalf("events %v: want room_finished last", ob.seen)
			}
		})
	}
}
