package db

import (
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Gate is the in-process queue of an SQLite database's frequent writers (a gorm plugin, so
// the *gorm.DB carries it, as it carries the checkpointer). SQLite has one writer: a
// transaction that finds the write lock taken gets SQLITE_BUSY, and the busy handler behind
// busy_timeout sleeps before trying again, 1 ms, then 2, 5, 10 ... up to 100 ms, however
// soon the lock was freed. Writers that take the gate wait on a Go mutex instead and start
// the moment the other commits. Writers that do not take it (rare ones: sign-in, audit,
// admin changes) still queue on busy_timeout, as before.
//
// It also orders two kinds of writers. A foreground writer (Lock: the webhook writer, whose
// caller waits, and behind it LiveKit, which gives up on a webhook after about 15 s) goes
// first; a background writer (LockBackground: the outbound webhook worker, whose work has a
// day to be done and is durable meanwhile) waits while the foreground is busy, for at most
// maxWait, so that it takes turns of its own under a sustained load but never stands in a
// burst's way for long (bench/README.md). A nil *Gate (PostgreSQL, whose row locks wake
// waiters at once) does nothing.
type Gate struct {
	mu sync.Mutex
	// fg counts foreground writers waiting for or holding mu; idleSince is when the last one
	// let go (unix ns).
	fg        atomic.Int32
	idleSince atomic.Int64
}

const gateName = "parley:writegate"

func (*Gate) Name() string              { return gateName }
func (*Gate) Initialize(*gorm.DB) error { return nil }

// WriteGate is g's gate: nil (a no-op) but on SQLite. Hold it only across a transaction,
// never across network I/O.
func WriteGate(g *gorm.DB) *Gate {
	if g != nil {
		if w, ok := g.Config.Plugins[gateName].(*Gate); ok {
			return w
		}
	}
	return nil
}

// Lock takes the gate for a foreground write transaction.
func (g *Gate) Lock() {
	if g == nil {
		return
	}
	g.fg.Add(1)
	g.mu.Lock()
}

// Unlock ends a foreground write transaction.
func (g *Gate) Unlock() {
	if g == nil {
		return
	}
	g.idleSince.Store(time.Now().UnixNano())
	g.fg.Add(-1)
	g.mu.Unlock()
}

// backgroundIdle is how long the foreground must have let the gate be before a background
// writer takes it without waiting out maxWait: a writer under a burst commits every
// millisecond or so, one under an ordinary load far less often.
const backgroundIdle = 5 * time.Millisecond

// LockBackground takes the gate for a background write transaction once no foreground
// writer has used it for backgroundIdle, or after maxWait whatever the foreground does.
// Release it with UnlockBackground.
func (g *Gate) LockBackground(maxWait time.Duration) {
	if g == nil {
		return
	}
	deadline := time.Now().Add(maxWait)
	for {
		now := time.Now()
		if !now.Before(deadline) || (g.fg.Load() == 0 && now.UnixNano()-g.idleSince.Load() >= int64(backgroundIdle)) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.mu.Lock()
}

// UnlockBackground ends a background write transaction.
func (g *Gate) UnlockBackground() {
	if g != nil {
		g.mu.Unlock()
	}
}
