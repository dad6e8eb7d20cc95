package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/internal/audit"
)

// TestAuditedRoutesOnRealServices sends each audited route once, on the real auth, room and
// recording services, and finds its entry with the room and target it acted on; the chain
// of all of them verifies. Every rule names a route the app has.
func TestAuditedRoutesOnRealServices(t *testing.T) {
	e := newMatrixEnv(t)
	registered := map[route]bool{}
	for _, r := range e.app.GetRoutes(true) {
		registered[route{r.Method, r.Path}] = true
	}
	for r := range auditRules {
		if !registered[r] && !strings.HasPrefix(r.path, webhooksPrefix) {
			t.Errorf("audit rule for %s %s names no route of the app", r.method, r.path)
		}
	}
	for i, tc := range []struct {
		method, path, rec, caller string
		body                      any
		action, target            string // target "{rec}": the recording's id
	}{
		{"PATCH", "/api/rooms/{r}", "", "owner", map[string]any{"locked": true}, "room.lock", ""},
		{"PATCH", "/api/rooms/{r}", "", "owner", map[string]any{"title": "T"}, "room.update", ""},
		{"POST", "/api/rooms/{r}/participants/target/kick", "", "moderator", map[string]any{}, "participant.kick", "target"},
		{"POST", "/api/rooms/{r}/participants/target/mute", "", "moderator", map[string]any{"source": "microphone", "muted": true}, "participant.mute", "target"},
		{"PUT", "/api/rooms/{r}/participants/target/permissions", "", "moderator", map[string]any{"canPublishSources": []string{"microphone"}}, "participant.permissions", "target"},
		{"POST", "/api/rooms/{r}/end", "", "moderator", nil, "room.end", ""},
		{"POST", "/api/rooms/{r}/recordings", "", "owner", nil, "recording.start", "*"},
		{"POST", "/api/recordings/{rec}/stop", "active", "owner", nil, "recording.stop", "{rec}"},
		{"GET", "/api/recordings/{rec}/file", "complete", "owner", nil, "recording.download", "{rec}"},
		{"DELETE", "/api/recordings/{rec}", "complete", "owner", nil, "recording.delete", "{rec}"},
		{"DELETE", "/api/rooms/{r}", "", "owner", nil, "room.delete", ""},
		{"PATCH", "/api/admin/users/{u}", "", "admin", map[string]any{"role": "user"}, "user.update", "{u}"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			c := e.seed(fmt.Sprintf("audited-%02d", i), tc.rec, tc.caller)
			r := strings.NewReplacer("{r}", c.room, "{rec}", c.rec, "{u}", e.ids["user"])
			if got := e.do(tc.method, r.Replace(tc.path), tc.body, tc.caller); got.status >= 300 && got.status != 302 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, got.status, got.raw)
			}
			entries, _, err := e.audit.List(context.Background(), audit.Filter{Action: tc.action})
			if err != nil {
				t.Fatal(err)
			}
			want := r.Replace(tc.target)
			for _, en := range entries {
				room := en.Room == c.room || tc.caller == "admin"
				if room && (want == "*" && en.Target != "" || want == en.Target) && en.Actor.ID == e.ids[tc.caller] && en.Address != "" {
					return
				}
			}
			t.Errorf("no %s entry for room %s, target %q, actor %s in %+v", tc.action, c.room, want, tc.caller, entries)
		})
	}
	if n, err := e.audit.Verify(context.Background()); err != nil || n == 0 {
		t.Errorf("Verify = %d, %v", n, err)
	}
}

// TestWebhookReplayAndTestSendAudited: a replay and a test-send of the real outbox each leave
// an entry naming who asked, the endpoint (target) and the delivery (detail).
func TestWebhookReplayAndTestSendAudited(t *testing.T) {
	e := newMatrixEnv(t)
	for _, tc := range []struct{ path, action string }{
		{"/api/admin/webhooks/" + e.hook + "/test", "webhook.test"},
		{"/api/admin/webhooks/" + e.hook + "/deliveries/" + e.hookDelivery + "/replay", "webhook.replay"},
	} {
		got := e.do("POST", tc.path, nil, "admin")
		if got.status >= 300 {
			t.Fatalf("POST %s: %d %s", tc.path, got.status, got.raw)
		}
		delivery, _ := got.body["id"].(string)
		eventID, _ := got.body["eventId"].(string)
		if tc.action == "webhook.replay" && delivery != e.hookDelivery {
			t.Fatalf("replay answered delivery %q, want %q", delivery, e.hookDelivery)
		}
		entries, _, err := e.audit.List(context.Background(), audit.Filter{Action: tc.action})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%s: %d entries, want 1: %+v", tc.action, len(entries), entries)
		}
		en := entries[0]
		var detail map[string]string
		_ = json.Unmarshal([]byte(en.Detail), &detail)
		if en.Actor.Type != audit.ActorUser || en.Actor.ID != e.ids["admin"] || en.Target != e.hook ||
			detail["delivery"] != delivery || detail["eventId"] != eventID || eventID == "" || en.Address == "" {
			t.Errorf("%s entry = %+v (detail %v), want admin %s, endpoint %s, delivery %s (%s)",
				tc.action, en, detail, e.ids["admin"], e.hook, delivery, eventID)
		}
	}
	if n, err := e.audit.Verify(context.Background()); err != nil || n == 0 {
		t.Errorf("Verify = %d, %v", n, err)
	}
}
