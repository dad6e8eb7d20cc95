package live_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
)

// judgedGate records what the live state hands the admission gate.
type judgedGate struct {
	mu     sync.Mutex
	judged []string // "room/identity fresh|present"
}

func (g *judgedGate) Admitted(_ context.Context, room string, p *livekit.ParticipantInfo, fresh bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	kind := "present"
	if fresh {
		kind = "fresh"
	}
	g.judged = append(g.judged, fmt.Sprintf("%s/%s %s", room, p.GetIdentity(), kind))
}

// took returns and forgets what was judged.
func (g *judgedGate) took() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]int{}
	for _, j := range g.judged {
		out[j]++
	}
	g.judged = nil
	return out
}

// TestGateJudgesJoinsAndEveryPass: each participant_joined LiveKit signs and sends reaches
// the gate as a fresh join; each reconcile pass hands it every participant LiveKit runs, a
// session its webhook never announced as fresh, the others as present.
func TestGateJudgesJoinsAndEveryPass(t *testing.T) {
	e := startLiveKit(t, time.Hour)
	g := &judgedGate{}
	e.svc.SetGate(g)
	e.createRoom(t, "gated")
	e.connect(t, "gated", "w1")
	waitFor(t, 10*time.Second, "the join webhook to reach the gate", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.judged) > 0
	})
	if got := g.took(); got["gated/w1 fresh"] != 1 || len(got) != 1 {
		t.Fatalf("after w1's join webhook the gate saw %v, want gated/w1 fresh once", got)
	}
	e.cut.Store(true)
	e.connect(t, "gated", "w2") // its webhook is lost
	waitFor(t, 10*time.Second, "LiveKit to list w2", func() bool {
		res, err := e.rc.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: "gated"})
		return err == nil && len(res.Participants) == 2
	})
	for pass, want := range []map[string]int{
		{"gated/w1 present": 1, "gated/w2 fresh": 1},
		{"gated/w1 present": 1, "gated/w2 present": 1},
	} {
		if _, err := e.svc.ReconcileNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := g.took(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pass %d: the gate saw %v, want %v", pass+1, got, want)
		}
	}
}
