package live_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
)

func TestForgedSignatureIsRefused(t *testing.T) {
	f := newFixture(t, nil, nil)
	ev := event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", time.Now()), time.Now())
	body, _ := sign(t, ev, testSecret)
	for name, authz := range map[string]string{
		"wrong secret": signBody(t, body, "another-secret-of-forty-characters-xxxxxx"),
		"no header":    "",
		"garbage":      "Bearer not.a.jwt",
		"unknown key":  claimsToken(t, body, jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["iss"] = "otherkey" }),
		"expired":      claimsToken(t, body, jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() }),
		"not yet":      claimsToken(t, body, jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(2 * time.Minute).Unix() }),
		"HS512":        claimsToken(t, body, jwt.SigningMethodHS512, testSecret, nil),
		"alg none":     claimsToken(t, body, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
	} {
		if code, resp := f.post(t, body, authz); code != 401 {
			t.Errorf("%s: status %d %s, want 401", name, code, resp)
		}
	}
	if n := f.countRows(t, "live_participants") + f.countRows(t, "live_webhook_events"); n != 0 {
		t.Fatalf("a forged webhook changed state: %d rows", n)
	}
	// The genuine event with the same id is then processed, not taken as a duplicate.
	if resp := f.send(t, ev); !strings.Contains(resp, `"ok"`) {
		t.Fatalf("genuine event after forged one: %s", resp)
	}
	if p := f.participants(t, "r1")["alice"]; p.State != live.StateJoined {
		t.Fatalf("alice: state %q, want joined", p.State)
	}
}

// claimsToken signs a webhook token for body as LiveKit does, changed by edit.
func claimsToken(t *testing.T, body []byte, m jwt.SigningMethod, key any, edit func(jwt.MapClaims)) string {
	t.Helper()
	sum := sha256.Sum256(body)
	c := jwt.MapClaims{"iss": testKey, "exp": time.Now().Add(5 * time.Minute).Unix(), "nbf": time.Now().Unix(),
		"sha256": base64.StdEncoding.EncodeToString(sum[:])}
	if edit != nil {
		edit(c)
	}
	if s, ok := key.(string); ok {
		key = []byte(s)
	}
	tok, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTamperedBodyIsRefused(t *testing.T) {
	f := newFixture(t, nil, nil)
	ev := event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", time.Now()), time.Now())
	body, authz := sign(t, ev, testSecret)
	tampered := []byte(strings.Replace(string(body), "alice", "mallory", 1))
	if code, resp := f.post(t, tampered, authz); code != 401 || !strings.Contains(resp, "checksum") {
		t.Fatalf("tampered body: status %d %s, want 401 checksum", code, resp)
	}
	if n := f.countRows(t, "live_participants"); n != 0 {
		t.Fatalf("a tampered webhook changed state: %d rows", n)
	}
}

func TestUndecodableSignedBodyIs400(t *testing.T) {
	f := newFixture(t, nil, nil)
	for name, body := range map[string]string{
		"not json":   "{{{",
		"wrong type": `{"event":"participant_joined","id":"EV_x","createdAt":{"a":1}}`,
		"no id":      `{"event":"room_started","room":{"name":"r","sid":"RM_1"}}`,
		"no sid":     `{"event":"participant_joined","id":"EV_y","room":{"name":"r"},"participant":{"identity":"a"}}`,
	} {
		if code, resp := f.post(t, []byte(body), signBody(t, []byte(body), testSecret)); code != 400 {
			t.Errorf("%s: status %d %s, want 400", name, code, resp)
		}
	}
	if n := f.countRows(t, "live_webhook_events"); n != 0 {
		t.Fatalf("an undecodable webhook changed state: %d rows", n)
	}
}

func TestReplayedEventHasNoSecondEffect(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t), nil)
			events, cancel := f.svc.Subscribe(16)
			defer cancel()
			now := time.Now()
			joined := event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now)
			left := event("participant_left", "r1", "RM_1", participant("PA_1", "alice", now), now.Add(time.Second))
			f.send(t, joined)
			f.send(t, left)
			if resp := f.send(t, joined); !strings.Contains(resp, "duplicate") {
				t.Fatalf("replayed joined: %s, want duplicate", resp)
			}
			if p := f.participants(t, "r1")["alice"]; p.State != live.StateLeft {
				t.Fatalf("alice after replayed joined: %q, want left", p.State)
			}
			// The join also proves its room runs (no room_started came): that is the first event.
			got := drain(events)
			if len(got) != 3 || got[0].Type != live.EventRoomStarted || got[1].Type != live.EventParticipantJoined || got[2].Type != live.EventParticipantLeft {
				t.Fatalf("bus events %v, want the room started, one joined and one left", types(got))
			}
		})
	}
}

func TestReorderedJoinedLeft(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t), nil)
			now := time.Now()
			// LiveKit delivered left before joined (livekit#2399), both in the same second.
			f.send(t, event("participant_left", "r1", "RM_1", participant("PA_1", "alice", now), now))
			f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
			p := f.participants(t, "r1")["alice"]
			if p.State != live.StateLeft || p.LeftAt == nil {
				t.Fatalf("alice: %+v, want left with leftAt", p)
			}
			if n, _ := f.svc.ActiveCount(context.Background(), "r1"); n != 0 {
				t.Fatalf("active count %d, want 0", n)
			}
		})
	}
}

func TestLateLeftOfOldSidKeepsRejoinedSession(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t), nil)
			t0 := time.Now().Add(-time.Minute)
			t1 := t0.Add(20 * time.Second)
			f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_old", "alice", t0), t0))
			f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_new", "alice", t1), t1))
			// The old session's left arrives late, after the rejoin.
			f.send(t, event("participant_left", "r1", "RM_1", participant("PA_old", "alice", t0), t1.Add(time.Second)))
			p := f.participants(t, "r1")["alice"]
			if p.State != live.StateJoined || p.Sid != "PA_new" {
				t.Fatalf("alice: state %q sid %q, want joined PA_new", p.State, p.Sid)
			}
			ok, err := f.svc.IsParticipant(context.Background(), "r1", "u-alice")
			if err != nil || !ok {
				t.Fatalf("IsParticipant = %v, %v; want true", ok, err)
			}
			// And a late joined of the old session does not revive it either.
			f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_old", "alice", t0), t0))
			if n, _ := f.svc.ActiveCount(context.Background(), "r1"); n != 1 {
				t.Fatalf("active count %d, want 1", n)
			}
		})
	}
}

func TestRoomStartedAfterFinishedIsIgnored(t *testing.T) {
	for _, d := range bothDrivers {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t), nil)
			now := time.Now()
			f.send(t, event("room_started", "r1", "RM_1", nil, now))
			f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
			f.send(t, event("room_finished", "r1", "RM_1", nil, now.Add(time.Second)))
			// livekit#2945: a room_started for the same sid after its room_finished.
			f.send(t, event("room_started", "r1", "RM_1", nil, now.Add(2*time.Second)))
			rooms, err := f.svc.ActiveRooms(context.Background())
			if err != nil || len(rooms) != 0 {
				t.Fatalf("active rooms %+v, %v; want none", rooms, err)
			}
			if p := f.participants(t, "r1")["alice"]; p.State != live.StateLeft || p.LeaveReason != "room_finished" {
				t.Fatalf("alice: %+v, want left (room_finished)", p)
			}
			// A new instance of the room (new sid) does start.
			f.send(t, event("room_started", "r1", "RM_2", nil, now.Add(3*time.Second)))
			if rooms, _ := f.svc.ActiveRooms(context.Background()); len(rooms) != 1 || rooms[0].Sid != "RM_2" {
				t.Fatalf("active rooms %+v, want r1 as RM_2", rooms)
			}
		})
	}
}

func TestTracksAndAbortedConnection(t *testing.T) {
	f := newFixture(t, nil, nil)
	now := time.Now()
	p := participant("PA_1", "alice", now)
	f.send(t, event("participant_joined", "r1", "RM_1", p, now))
	for _, tr := range []*livekit.TrackInfo{
		{Sid: "TR_a", Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE},
		{Sid: "TR_v", Type: livekit.TrackType_VIDEO, Source: livekit.TrackSource_CAMERA, Muted: true},
	} {
		ev := event("track_published", "r1", "RM_1", p, now)
		ev.Track = tr
		f.send(t, ev)
	}
	got := f.participants(t, "r1")["alice"].Tracks
	if len(got) != 2 || got[0].Kind != "audio" || got[0].Source != "microphone" || !got[1].Muted || got[1].Source != "camera" {
		t.Fatalf("tracks %+v", got)
	}
	un := event("track_unpublished", "r1", "RM_1", p, now)
	un.Track = &livekit.TrackInfo{Sid: "TR_v"}
	f.send(t, un)
	if got := f.participants(t, "r1")["alice"].Tracks; len(got) != 1 || got[0].Sid != "TR_a" {
		t.Fatalf("tracks after unpublish %+v", got)
	}
	f.send(t, event("participant_connection_aborted", "r1", "RM_1", p, now))
	if a := f.participants(t, "r1")["alice"]; a.State != live.StateLeft || a.LeaveReason != "connection_aborted" {
		t.Fatalf("alice after aborted connection: %+v", a)
	}
}

type egressSink struct{ got []string }

func (e *egressSink) HandleEgress(_ context.Context, info *livekit.EgressInfo) error {
	e.got = append(e.got, info.EgressId+":"+info.Status.String())
	return nil
}

func TestEgressEventsGoToTheSink(t *testing.T) {
	sink := &egressSink{}
	f := newFixture(t, nil, func(o *live.Options) { o.Egress = sink })
	ev := &livekit.WebhookEvent{Event: "egress_ended", Id: "EV_eg1", CreatedAt: time.Now().Unix(),
		EgressInfo: &livekit.EgressInfo{EgressId: "EG_1", Status: livekit.EgressStatus_EGRESS_COMPLETE}}
	f.send(t, ev)
	f.send(t, ev) // a retry
	if len(sink.got) != 1 || sink.got[0] != "EG_1:EGRESS_COMPLETE" {
		t.Fatalf("sink got %v, want one EG_1:EGRESS_COMPLETE", sink.got)
	}
}

func TestMarkRoomEnded(t *testing.T) {
	f := newFixture(t, nil, nil)
	now := time.Now()
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_2", "bob", now), now))
	if n, _ := f.svc.ActiveCount(context.Background(), "r1"); n != 2 {
		t.Fatalf("active count %d, want 2", n)
	}
	if err := f.svc.MarkRoomEnded(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	// A late joined of the ended instance changes nothing.
	f.send(t, event("room_started", "r1", "RM_1", nil, now))
	if n, _ := f.svc.ActiveCount(context.Background(), "r1"); n != 0 {
		t.Fatalf("active count after end %d, want 0", n)
	}
	if rooms, _ := f.svc.ActiveRooms(context.Background()); len(rooms) != 0 {
		t.Fatalf("active rooms after end: %+v", rooms)
	}
}

func drain(ch <-chan live.Event) []live.Event {
	var out []live.Event
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		case <-time.After(100 * time.Millisecond):
			return out
		}
	}
}

func types(es []live.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestHiddenRecorderIsNotCounted(t *testing.T) {
	f := newFixture(t, nil, nil)
	now := time.Now()
	rec := participant("PA_rec", "parley-recorder-1", now)
	rec.Permission = &livekit.ParticipantPermission{Hidden: true, Recorder: true}
	f.send(t, event("participant_joined", "r1", "RM_1", rec, now))
	f.send(t, event("participant_joined", "r1", "RM_1", participant("PA_1", "alice", now), now))
	if n, _ := f.svc.ActiveCount(context.Background(), "r1"); n != 1 {
		t.Fatalf("active count %d, want 1 (the recorder is not a participant)", n)
	}
	if ps := f.participants(t, "r1"); len(ps) != 1 {
		t.Fatalf("participants %v, want alice only", ps)
	}
}
