package live

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/outbox"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
)

// BenchmarkWriterBatch measures the writer's cost per event by batch size (no HTTP).
// With "outbox", an outbound webhook endpoint is registered, so that every event also
// writes its outbox row (no worker runs: the rows stay).
func BenchmarkWriterBatch(b *testing.B) {
	for _, size := range []int{1, 4, 16, 64} {
		for _, withOutbox := range []bool{false, true} {
			name := fmt.Sprint(size)
			if withOutbox {
				name += "+outbox"
			}
			b.Run(name, func(b *testing.B) { benchWriterBatch(b, size, withOutbox) })
		}
	}
}

func benchWriterBatch(b *testing.B, size int, withOutbox bool) {
	g := dbtest.SQLite(b, append(Migrations(), outbox.Migrations()...))
	st, _ := newStore(g)
	w := &writer{st: st, conn: writeConn{st: st}, bus: NewBus(), m: newMetrics(prometheus.NewRegistry()),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, max: size}
	if withOutbox {
		ob, err := outbox.New(outbox.Options{DB: g})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ob.Register(context.Background(), outbox.NewEndpoint{URL: "http://127.0.0.1:9/hooks", Events: []string{outbox.AllTypes}}); err != nil {
			b.Fatal(err)
		}
		w.outbox = benchOutbox{ob}
	}
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i += size {
		batch := make([]*job, size)
		for k := range batch {
			n := i + k
			ev := &livekit.WebhookEvent{Event: "participant_joined", Id: fmt.Sprintf("EV_%d", n), CreatedAt: now.Unix(),
				Room:        &livekit.Room{Name: "bench", Sid: "RM_1"},
				Participant: &livekit.ParticipantInfo{Sid: fmt.Sprintf("PA_%d", n/2), Identity: fmt.Sprintf("id-%d", n/2), JoinedAt: now.Unix()}}
			if n%2 == 1 {
				ev.Event = "participant_left"
			}
			batch[k] = &job{ev: ev, done: make(chan struct{})}
		}
		w.commit(batch)
		if batch[0].err != nil {
			b.Fatal(batch[0].err)
		}
	}
}

// benchOutbox hands the writer's events to the outbox as the composition root does.
type benchOutbox struct{ ob *outbox.Service }

func (o benchOutbox) Enqueue(ctx context.Context, x Execer, evs []Event) error {
	out := make([]outbox.Event, 0, len(evs))
	for _, ev := range evs {
		data, _ := ev.Data.(map[string]any)
		out = append(out, outbox.Event{Type: ev.Type, Room: ev.Room, Identity: ev.Participant, At: ev.At, Data: data})
	}
	return o.ob.Enqueue(ctx, x, out)
}

// BenchmarkVerify measures a webhook's signature check and decoding (no HTTP, no state).
func BenchmarkVerify(b *testing.B) {
	const key, secret = "benchkey", "bench-secret-of-forty-characters-xxxxxxxx"
	v := NewVerifier(map[string]string{key: secret})
	now := time.Now()
	ev := &livekit.WebhookEvent{Event: "participant_joined", Id: "EV_bench", CreatedAt: now.Unix(),
		Room:        &livekit.Room{Name: "bench", Sid: "RM_1", CreationTime: now.Unix()},
		Participant: &livekit.ParticipantInfo{Sid: "PA_1", Identity: "id-1", Name: "Bench", JoinedAt: now.Unix()}}
	body, err := protojson.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(body)
	tok, err := auth.NewAccessToken(key, secret).SetValidFor(time.Hour).SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok, body); err != nil {
			b.Fatal(err)
		}
	}
}
