package outbox

import (
	"context"
	"regexp"
	"testing"
	"time"

	"gorm.io/gorm"
)

// One Enqueue writes each wanted event of the batch as its own row, with its own body (the
// event's identity and room beside its data) and its own id; an event no endpoint wants
// leaves no row.
func TestEnqueueWritesEachEventOfABatch(t *testing.T) {
	forEachDriver(t, func(t *testing.T, g *gorm.DB) {
		s := newService(t, g, Options{})
		if _, err := s.Register(context.Background(), NewEndpoint{URL: "http://127.0.0.1:9/hooks",
			Events: []string{TypeParticipantJoined, TypeParticipantLeft}}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 8, 4, 5, 6, 0, time.UTC)
		evs := []Event{
			{Type: TypeParticipantJoined, Room: "a", Identity: "alice", At: at, Data: map[string]any{"sid": "PA_1"}},
			{Type: TypeRoomStarted, Room: "a", At: at},
			{Type: TypeParticipantLeft, Room: "b", Identity: "bob", At: at, Data: map[string]any{"sid": "PA_2", "reason": "left"}},
		}
		enqueue(t, g, s, evs...)
		var rows []struct {
			EventID, EventType, Room, Payload string
		}
		if err := g.Raw("SELECT event_id, event_type, room, payload FROM outbox_events ORDER BY seq").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := []Event{evs[0], evs[2]}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
		}
		id := regexp.MustCompile(`^msg_[0-9a-f]{32}$`)
		for i, r := range rows {
			body, _ := payload(want[i])
			if r.Payload != string(body) || r.EventType != want[i].Type || r.Room != want[i].Room {
				t.Errorf("row %d: %+v\nwant body %s", i, r, body)
			}
			if !id.MatchString(r.EventID) {
				t.Errorf("row %d: event id %q", i, r.EventID)
			}
		}
		if rows[0].EventID == rows[1].EventID {
			t.Errorf("two events share the id %s", rows[0].EventID)
		}
	})
}
