package live_test

import (
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

// FuzzWebhook throws arbitrary bodies at the real webhook handler, signed (so they reach
// the decoder and the state writer) or with an arbitrary Authorization header: no panic,
// no 5xx, only 200, 400 or 401. `go test` runs the seeds; `go test -fuzz FuzzWebhook` explores.
func FuzzWebhook(f *testing.F) {
	now := time.Now()
	p := participant("PA_f", "fuzzer", now)
	seeds := []*livekit.WebhookEvent{
		event("room_started", "fz", "RM_f", nil, now),
		event("participant_joined", "fz", "RM_f", p, now),
		event("participant_left", "fz", "RM_f", p, now),
		event("participant_connection_aborted", "fz", "RM_f", p, now),
		{Event: "track_published", Id: "EV_t", Room: &livekit.Room{Name: "fz", Sid: "RM_f"}, Participant: p,
			Track: &livekit.TrackInfo{Sid: "TR_1", Type: livekit.TrackType_AUDIO, Muted: true}},
		{Event: "track_unpublished", Id: "EV_u", Room: &livekit.Room{Name: "fz"}, Participant: p, Track: &livekit.TrackInfo{Sid: "TR_1"}},
		event("room_finished", "fz", "RM_f", nil, now),
		{Event: "egress_ended", Id: "EV_e", EgressInfo: &livekit.EgressInfo{EgressId: "EG_1"}},
		{Event: "egress_started", Id: "EV_e2"},
		{Event: "ingress_started", Id: "EV_i"},
		{Event: "participant_joined", Id: "EV_nop"},
	}
	for _, ev := range seeds {
		b, err := protojson.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true, "")
	}
	f.Add([]byte(`{"event":"participant_joined","id":"x","createdAt":"-99999999999999999","participant":{"sid":"P","identity":"i","joinedAtMs":"9223372036854775807","state":"DISCONNECTED","metadata":"{\"role\":123}"},"room":{"name":"r","sid":""}}`), true, "")
	f.Add([]byte(`{"event":"room_started","id":"`+string(make([]byte, 200))+`","room":{"name":"r"}}`), true, "")
	f.Add([]byte("null"), true, "")
	f.Add([]byte("{}"), false, "Bearer x.y.z")
	f.Add([]byte("{}"), false, "eyJhbGciOiJub25lIn0.eyJpc3MiOiJkZXZrZXkifQ.")
	fx := newFixture(f, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte, signed bool, header string) {
		authz := header
		if signed {
			authz = signBody(t, body, testSecret)
		}
		code, resp := fx.post(t, body, authz)
		switch code {
		case 200, 400, 401, 413:
		default:
			t.Fatalf("status %d %s for body %q", code, resp, body)
		}
		if !signed && code == 200 {
			t.Fatalf("unsigned webhook accepted: %q %q", header, body)
		}
	})
}
