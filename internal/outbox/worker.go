package outbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	leaseName      = "outbox"
	reloadInterval = 5 * time.Second
	// batch bounds the queue heads read per pass; fanOutBatch the events one fan-out
	// transaction moves.
	batch       = 256
	fanOutBatch = 64
	// flushEvery and flushAfter bound the successes a queue holds before recording them.
	flushEvery = 64
	flushAfter = 100 * time.Millisecond
	stopGrace  = 3 * time.Second
)

// Run delivers until ctx ends, on whichever instance holds the lease; the others stand by
// and keep their endpoint list fresh for Enqueue. When ctx ends, attempts in flight finish
// (each bounded by Timeout, and by stopGrace once ctx ended) and are recorded before the
// lease is released, so a restart sends nothing twice that was answered.
func (s *Service) Run(ctx context.Context) error {
	w := &worker{s: s, busy: map[string]bool{}, perEndpoint: map[string]int{}, freed: make(chan struct{}, 1)}
	// Attempts in flight at shutdown get stopGrace to finish, then are cut: the shutdown
	// stays bounded even with a receiver that never answers (that attempt counts as failed).
	var cancelAttempts context.CancelFunc
	w.attempts, cancelAttempts = context.WithCancel(context.WithoutCancel(ctx))
	defer cancelAttempts()
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	defer func() {
		stop := time.AfterFunc(stopGrace, cancelAttempts)
		defer stop.Stop()
		w.wg.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = s.leases.Release(rctx, leaseName, s.o.Instance)
	}()
	for {
		if s.o.Now().Sub(s.loaded()) >= reloadInterval {
			if err := s.reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("webhook endpoints not reloaded", "err", err)
			}
		}
		if err := w.pass(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook delivery pass failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		case <-w.freed:
		}
	}
}

func (s *Service) loaded() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.loadedAt
}

// leaseTTL outlives the longest attempt: an instance that stops renewing still finishes the
// attempts it started before another can take the lease, so two never send at once.
func (s *Service) leaseTTL() time.Duration {
	return max(3*s.o.Poll, s.o.Timeout+5*time.Second)
}

type worker struct {
	s           *Service
	wg          sync.WaitGroup
	mu          sync.Mutex
	busy        map[string]bool // queues (endpoint + room) with an attempt in flight
	perEndpoint map[string]int
	inFlight    int
	freed       chan struct{}
	// leaseUntil is when the lease last taken expires (unix ms; 0: not held); acquiredAt is
	// when it was taken (Run's goroutine only).
	leaseUntil atomic.Int64
	acquiredAt time.Time
	// attempts is the context of every attempt: cut stopGrace after Run's ends.
	attempts context.Context
}

func (w *worker) pass(ctx context.Context) error {
	s := w.s
	if len(s.loadedEndpoints()) == 0 {
		// No endpoint, no delivery (Enqueue writes nothing, and an endpoint's deliveries go
		// with it): without a lease renewal and two reads a second, Parley rests when idle.
		w.leaseUntil.Store(0)
		return nil
	}
	now := s.o.Now()
	// The lease is renewed at most once a Poll, not on every pass (a pass follows every
	// drain that ends): each renewal is a write, and SQLite's one writer is the webhook
	// writer's. A lease renewed a Poll ago still outlives an attempt (leaseTTL).
	if w.leaseUntil.Load() == 0 || now.Sub(w.acquiredAt) >= s.o.Poll || now.Before(w.acquiredAt) {
		unlock := s.st.lock()
		held, err := s.leases.Acquire(ctx, leaseName, s.o.Instance, now.UnixMilli(), now.Add(s.leaseTTL()).UnixMilli())
		unlock()
		if err != nil || !held {
			w.leaseUntil.Store(0)
			return err
		}
		w.leaseUntil.Store(now.Add(s.leaseTTL()).UnixMilli())
		w.acquiredAt = now
	}
	// Queues busy before the read stay skipped even if their attempt ends meanwhile: the read
	// may predate that attempt's record, and would send its delivery a second time.
	w.mu.Lock()
	wasBusy := make(map[string]bool, len(w.busy))
	for k := range w.busy {
		wasBusy[k] = true
	}
	w.mu.Unlock()
	if err := w.fanOut(ctx); err != nil {
		return fmt.Errorf("outbox: fan out: %w", err)
	}
	due, from, err := s.st.due(ctx, now.UnixMilli(), batch)
	if err != nil {
		return fmt.Errorf("outbox: due deliveries: %w", err)
	}
	eps := map[string]Endpoint{}
	for _, e := range s.loadedEndpoints() {
		eps[e.ID] = e
	}
	for i, d := range due {
		ep, ok := eps[d.EndpointID]
		if !ok {
			continue // deleted on another instance; its rows go with it
		}
		key := d.EndpointID + "\x00" + d.Room
		w.mu.Lock()
		if wasBusy[key] || w.busy[key] || w.inFlight >= s.o.Concurrency || w.perEndpoint[d.EndpointID] >= s.o.PerEndpoint {
			w.mu.Unlock()
			continue
		}
		w.busy[key] = true
		w.perEndpoint[d.EndpointID]++
		w.inFlight++
		w.mu.Unlock()
		w.wg.Add(1)
		go func(d Delivery, retryFrom int64) {
			defer w.wg.Done()
			w.drain(ctx, ep, d, retryFrom)
			w.mu.Lock()
			delete(w.busy, key)
			w.perEndpoint[d.EndpointID]--
			w.inFlight--
			w.mu.Unlock()
			select {
			case w.freed <- struct{}{}:
			default:
			}
		}(d, from[i])
	}
	return nil
}

// fanOut turns the events written since the last pass into deliveries, a bounded number
// of batches per pass so the queues get their turn. A batch is one transaction: small, as
// the webhook writer waits for it when it comes in the middle of a burst.
func (w *worker) fanOut(ctx context.Context) error {
	for range 32 {
		n, err := w.s.st.fanOut(ctx, fanOutBatch)
		if err != nil || n < fanOutBatch {
			return err
		}
	}
	return nil
}

// drain delivers a queue from d on, while each attempt succeeds, the next is due and the
// lease outlives an attempt: a busy room's events go out back to back without a pass over
// every queue between two of them, and without a read per event (following). Successes are recorded in batches (one UPDATE for up to
// flushEvery of them, or after flushAfter), so that delivering never takes SQLite's write
// lock once per event from the webhook writer; the batch is recorded before the queue is
// let go, and before a shutdown releases the lease.
func (w *worker) drain(ctx context.Context, ep Endpoint, d Delivery, retryFrom int64) {
	s := w.s
	delivered := map[int][]int64{} // by HTTP status
	pending, since := 0, time.Time{}
	// ahead are the queue's next deliveries, read in one go (following) and sent in order;
	// after a failure the rest stay pending, to be read again once the head succeeds.
	var ahead []Delivery
	var aheadFrom []int64
	flush := func() {
		if pending == 0 {
			return
		}
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.st.recordDelivered(rctx, delivered, s.o.Now().UnixMilli()); err != nil {
			s.log.Error("webhook deliveries not recorded; they will be sent again", "count", pending, "err", err)
		}
		clear(delivered)
		pending = 0
	}
	defer flush()
	for {
		code, errText := s.post(w.attempts, ep, d)
		if code < 200 || code > 299 {
			flush()
			w.failed(ep, d, retryFrom, code, errText)
			return
		}
		delivered[code] = append(delivered[code], d.ID)
		if pending++; pending == 1 {
			since = s.o.Now()
		}
		if pending >= flushEvery || s.o.Now().Sub(since) >= flushAfter {
			flush()
		}
		if ctx.Err() != nil || s.o.Now().Add(s.o.Timeout).UnixMilli() >= w.leaseUntil.Load() {
			return
		}
		if len(ahead) == 0 {
			var err error
			if ahead, aheadFrom, err = s.st.following(ctx, d, s.o.Now().UnixMilli(), flushEvery); err != nil || len(ahead) == 0 {
				return
			}
		}
		d, retryFrom, ahead, aheadFrom = ahead[0], aheadFrom[0], ahead[1:], aheadFrom[1:]
	}
}

// failed records a failed attempt: the next one is scheduled, or the delivery is
// dead-lettered once the wait would pass its retry window.
func (w *worker) failed(ep Endpoint, d Delivery, retryFrom int64, code int, errText string) {
	s := w.s
	now := s.o.Now()
	status := StatusPending
	wait := retryDelay(s.o.RetryBase, s.o.RetryMax, d.Attempts+1)
	next := now.Add(wait).UnixMilli()
	if now.Add(wait).Sub(time.UnixMilli(retryFrom)) > s.o.RetryFor {
		status, next = StatusDead, 0
		s.log.Warn("webhook delivery dead-lettered", "endpoint", ep.ID, "event", d.EventID, "type", d.EventType,
			"attempts", d.Attempts+1, "last", errText)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.st.recordAttempt(ctx, d.ID, status, code, errText, now.UnixMilli(), next); err != nil {
		s.log.Error("webhook attempt not recorded; it will be sent again", "delivery", d.ID, "err", err)
	}
}

// post sends one attempt and returns the HTTP status (0 when there was no answer) and,
// for a failure, what went wrong.
func (s *Service) post(parent context.Context, ep Endpoint, d Delivery) (int, string) {
	ts := s.o.Now()
	body := []byte(d.Payload)
	sig, err := Sign(ep.Secret, d.EventID, ts, body)
	if err != nil {
		return 0, err.Error()
	}
	ctx, cancel := context.WithTimeout(parent, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return 0, clipText(err.Error(), 500)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, clipText(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(snippet)), 500)
}

// retryDelay is the wait after the n-th failed attempt: base doubled n-1 times, at most max.
func retryDelay(base, maxWait time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
