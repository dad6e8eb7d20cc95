package live_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/bench/load"
	"github.com/parley/parley/bench/ref"
)

// TestWebhookThroughput measures webhook ingestion with state persisted on SQLite (16
// concurrent senders, every event signed before the clock starts) next to the ceiling
// measured the same way: bench/ref's handler, which verifies and decodes but writes nothing.
// Run with PARLEY_BENCH=1 go test -run TestWebhookThroughput -v ./internal/live/
func TestWebhookThroughput(t *testing.T) {
	if os.Getenv("PARLEY_BENCH") != "1" {
		t.Skip("set PARLEY_BENCH=1 to run the webhook throughput measurement")
	}
	const senders = 16
	warmup, window := 300*time.Millisecond, 1500*time.Millisecond
	refApp, err := ref.New("webhook", ref.Keys{LiveKitKey: testKey, LiveKitSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil, nil)
	ceilAddr, parleyAddr := serve(t, refApp), serve(t, f.app)
	ctx := context.Background()
	run := func(addr string, reqs []load.Request, cycle bool) load.Result {
		r, err := load.Run(ctx, load.Options{Addrs: []string{addr}, Conns: senders, Warmup: warmup, Duration: window,
			Requests: reqs, Cycle: cycle})
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors > 0 {
			t.Fatalf("%d errors, first: %s", r.Errors, r.FirstErr)
		}
		return r
	}
	// Short alternating windows: the machine is shared, so its speed drifts; a ratio taken
	// from neighbouring windows stays meaningful.
	pool := signedEvents(t, "ceiling", 20000)
	var ratios []float64
	var sumCeil, sumGot float64
	for round := 0; round < 8; round++ {
		ceil := run(ceilAddr, pool, true)
		evs := signedEvents(t, fmt.Sprintf("r%d", round), int(ceil.RPS*(warmup+window).Seconds()*1.5)+5000)
		got := run(parleyAddr, evs, false)
		ratios = append(ratios, got.RPS/ceil.RPS)
		sumCeil, sumGot = sumCeil+ceil.RPS, sumGot+got.RPS
		t.Logf("round %d: ceiling %.0f events/s (p99 %v); parley %.0f events/s (p99 %v) = %.0f%%%s",
			round, ceil.RPS, ceil.P99, got.RPS, got.P99, 100*got.RPS/ceil.RPS, map[bool]string{true: " (ran out of events)"}[got.Exhausted])
	}
	sort.Float64s(ratios)
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if h := mf.GetMetric()[0].GetHistogram(); h != nil && h.GetSampleCount() > 0 {
			t.Logf("%s: mean %.4g over %d", mf.GetName(), h.GetSampleSum()/float64(h.GetSampleCount()), h.GetSampleCount())
		}
	}
	t.Logf("parley/ceiling: median %.0f%%, overall %.0f%% (mean ceiling %.0f, parley %.0f events/s)",
		100*ratios[len(ratios)/2], 100*sumGot/sumCeil, sumCeil/8, sumGot/8)
}

func serve(t testing.TB, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(time.Second) })
	return ln.Addr().String()
}

// signedEvents are n unique participant_joined/left events (in pairs), signed like LiveKit.
func signedEvents(t testing.TB, tag string, n int) []load.Request {
	reqs := make([]load.Request, n)
	now := time.Now()
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				p := participant(fmt.Sprintf("PA_%s_%d", tag, i/2), fmt.Sprintf("hook-%s-%d", tag, i/2), now)
				kind := "participant_joined"
				if i%2 == 1 {
					kind = "participant_left"
					p.State = livekit.ParticipantInfo_DISCONNECTED
				}
				ev := event(kind, "bench", "RM_"+tag, p, now)
				ev.Id = fmt.Sprintf("EV_%s_%d", tag, i)
				body, authz := sign(t, ev, testSecret)
				reqs[i] = load.Request{Method: "POST", Path: "/api/livekit/webhook", Body: body,
					Header: [][2]string{{"Content-Type", "application/webhook+json"}, {"Authorization", authz}}}
			}
		}(w)
	}
	wg.Wait()
	return reqs
}
