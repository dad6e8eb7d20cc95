package live

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
)

// Gate re-applies Parley's admission rules to a participant LiveKit has let in (the room
// package's Gatekeeper implements it). A LiveKit token stays valid for its whole lifetime:
// a ban, a lock, a demotion or a disabled account does not touch the tokens already
// handed out, so each join (fresh: a new session) and, every reconcile pass, each
// participant still present is judged again, and removed or demoted when Parley would
// refuse it now.
type Gate interface {
	Admitted(ctx context.Context, room string, p *livekit.ParticipantInfo, fresh bool)
}

// gateQueue runs the gate on joins off the webhook path: the webhook is answered once the
// join is durable, and the gate's reads and LiveKit calls never slow it down.
type gateQueue struct {
	mu     sync.Mutex
	gate   Gate
	slots  chan struct{}
	wg     sync.WaitGroup
	closed bool
	// ctx ends the checks in flight at shutdown; the reconciler judges them again later.
	ctx    context.Context
	cancel context.CancelFunc
}

// gateParallelism bounds the checks in flight; past it a join is left to the reconciler,
// which judges every participant each pass.
const gateParallelism = 64

// gateTimeout bounds one check (a database read and at most two LiveKit calls).
const gateTimeout = 10 * time.Second

func newGateQueue() *gateQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &gateQueue{slots: make(chan struct{}, gateParallelism), ctx: ctx, cancel: cancel}
}

func (q *gateQueue) set(g Gate) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.gate = g
}

func (q *gateQueue) current() Gate {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.gate
}

// admitted checks one join in the background; it reports whether it was taken.
func (q *gateQueue) admitted(room string, p *livekit.ParticipantInfo) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.gate == nil || q.closed {
		return false
	}
	select {
	case q.slots <- struct{}{}:
	default:
		return false
	}
	g := q.gate
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer func() { <-q.slots }()
		ctx, cancel := context.WithTimeout(q.ctx, gateTimeout)
		defer cancel()
		g.Admitted(ctx, room, p, true)
	}()
	return true
}

// close cancels the checks in flight and waits for them to return.
func (q *gateQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

// SetGate installs the admission gate. It is a setter for the same reason as
// SetEgressSink: the room service it calls is built on this service.
func (s *Service) SetGate(g Gate) { s.gate.set(g) }

// WasIn reports whether identity had a session in the room, other than exceptSid, that was
// open at any moment since `since`: a participant who was in the meeting and reconnects.
func (s *Service) WasIn(ctx context.Context, room, identity, exceptSid string, since time.Time) (bool, error) {
	var one int
	err := s.st.db.QueryRowContext(ctx, s.st.q(`SELECT 1 FROM live_participants WHERE room = ? AND identity = ? AND sid <> ?
		AND (state <> 'left' OR left_at >= ?) LIMIT 1`), room, identity, exceptSid, since.UnixMilli()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrapUnavailable("was in", err)
}
