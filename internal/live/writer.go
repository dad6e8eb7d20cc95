package live

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
)

// writer is the single goroutine that writes webhook events (group commit). Each request
// hands its event over and waits; the writer takes every event that arrived while the
// previous transaction was committing and commits them together, then answers each. SQLite
// has one writer anyway, so this turns N lock waits and N commits into one; no event is
// acknowledged before the transaction holding it committed.
type writer struct {
	st   *store
	conn writeConn // used by run's goroutine only
	bus  *Bus
	// outbox, when set, records each committed event inside the batch's transaction.
	outbox Outbox
	m      *metrics
	log    *slog.Logger
	now    func() time.Time
	max    int
	jobs   chan *job
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type job struct {
	ev   *livekit.WebhookEvent
	dup  bool
	out  []Event
	err  error
	done chan struct{}
}

func newWriter(st *store, bus *Bus, m *metrics, log *slog.Logger, now func() time.Time, max int) *writer {
	w := &writer{st: st, conn: writeConn{st: st}, bus: bus, m: m, log: log, now: now, max: max,
		jobs: make(chan *job, max), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// submit queues ev and waits until its transaction committed (or failed).
func (w *writer) submit(ctx context.Context, ev *livekit.WebhookEvent) (dup bool, err error) {
	j := &job{ev: ev, done: make(chan struct{})}
	select {
	case w.jobs <- j:
	case <-w.stop:
		return false, ErrClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case <-j.done:
		return j.dup, j.err
	case <-ctx.Done():
		// The event may still commit; LiveKit's retry then finds it a duplicate.
		return false, ctx.Err()
	}
}

// close stops accepting events and waits until those already queued are committed.
func (w *writer) close(ctx context.Context) error {
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *writer) run() {
	defer close(w.done)
	defer w.conn.close()
	batch := make([]*job, 0, w.max)
	for {
		var first *job
		select {
		case first = <-w.jobs:
		case <-w.stop:
			// Drain what was queued before the stop, then quit.
			for {
				select {
				case j := <-w.jobs:
					w.commit([]*job{j})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		batch = w.gather(batch)
		w.commit(batch)
	}
}

// gather adds what is queued to the batch. Before committing it yields the processor a few
// times while events keep arriving: on a busy machine, handlers that are ready to hand over
// their event get to, so one commit (BEGIN and COMMIT cost as much as the statements of
// several events) serves more events; on an idle machine the yields return at once and add
// nothing. A longer window is slower (bench/README.md): handlers then wait more than the
// shared commit saves.
func (w *writer) gather(batch []*job) []*job {
	for round := 0; round < 4 && len(batch) < w.max; round++ {
		added := 0
	drain:
		for len(batch) < w.max {
			select {
			case j := <-w.jobs:
				batch = append(batch, j)
				added++
			default:
				break drain
			}
		}
		if added == 0 && round > 0 {
			break
		}
		runtime.Gosched()
	}
	return batch
}

// commit writes a batch in one transaction. If it fails, each event is retried alone so
// that one bad event cannot fail its neighbours.
func (w *writer) commit(batch []*job) {
	start := time.Now()
	err := w.commitTx(batch)
	if err != nil {
		w.st.forgetRooms("") // the cache may name rows the rollback undid
	}
	if err != nil && len(batch) > 1 {
		w.log.Warn("webhook batch failed, retrying events one by one", "events", len(batch), "err", err)
		for _, j := range batch {
			j.err = w.commitTx([]*job{j})
		}
	} else {
		for _, j := range batch {
			j.err = err
		}
	}
	w.m.batchSize.Observe(float64(len(batch)))
	w.m.commitSeconds.Observe(time.Since(start).Seconds())
	for _, j := range batch {
		if j.err != nil {
			w.log.Error("webhook event not stored", "event", j.ev.Event, "id", j.ev.Id, "err", j.err)
			j.err = wrapUnavailable("store webhook "+j.ev.Event, j.err)
		} else {
			for _, e := range j.out {
				w.bus.Publish(e)
			}
		}
		close(j.done)
	}
}

func (w *writer) commitTx(batch []*job) error {
	ctx, cancel := w.st.writeContext()
	defer cancel()
	seen := w.now().UnixMilli()
	return w.conn.tx(ctx, func(x execer) error {
		evs := make([]*livekit.WebhookEvent, len(batch))
		for i, j := range batch {
			evs[i] = j.ev
		}
		fresh, err := w.st.claimEvents(ctx, x, evs, seen)
		if err != nil {
			return err
		}
		for i, j := range batch {
			j.dup, j.out = !fresh[i], nil
			if !fresh[i] {
				continue
			}
			if j.out, err = w.st.applyEvent(ctx, x, j.ev, seen); err != nil {
				return err
			}
		}
		return w.enqueue(ctx, x, batch)
	})
}

func (w *writer) enqueue(ctx context.Context, x execer, batch []*job) error {
	if w.outbox == nil {
		return nil
	}
	var evs []Event
	for _, j := range batch {
		evs = append(evs, j.out...)
	}
	if len(evs) == 0 {
		return nil
	}
	return w.outbox.Enqueue(ctx, x, evs)
}
