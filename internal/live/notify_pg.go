package live

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/parley/parley/internal/bounded"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// The cross-instance relay. Several Parley instances share one PostgreSQL; a webhook is
// applied (and its events published on the Bus) by whichever instance received it, so the
// event streams of clients connected to another instance would miss it. RunRelay forwards
// every event published on this instance's Bus to the others with NOTIFY, and publishes the
// events the others NOTIFY on this Bus: PostgreSQL is the only shared service needed.

// maxNotifyPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxNotifyPayload = 7900

// relayBuffer is how far the forwarder may fall behind the Bus before it is dropped (it then
// resubscribes; the events in between reach this instance's clients but not the others').
const relayBuffer = 4096

// relayMessage is a NOTIFY payload, stored as JSON in PostgreSQL's notification queue (the
// one reason for its tags); Event's fields travel under their Go names.
type relayMessage struct {
	Origin string `json:"o"`
	Event  Event  `json:"e"`
}

// relay holds one instance's side of the LISTEN/NOTIFY exchange.
type relay struct {
	s       *Service
	origin  string
	channel string

	mu       sync.Mutex
	incoming map[[32]byte]int // events received from other instances, not yet seen on the Bus
}

// RunRelay relays Bus events between the Parley instances sharing this PostgreSQL database,
// until ctx ends. It returns at once on SQLite (one instance). Database outages are retried,
// never returned: the live state itself is kept by the webhooks and the reconciler; the relay
// only carries notifications for open event streams.
func (s *Service) RunRelay(ctx context.Context) error {
	if !s.st.postgres {
		return nil
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	r := &relay{s: s, origin: hex.EncodeToString(b), incoming: map[[32]byte]int{}}
	log := s.log.With("part", "relay")
	for r.channel == "" {
		ch, err := relayChannel(ctx, s)
		if err == nil {
			r.channel = ch
			break
		}
		log.Warn("relay: cannot name the channel; retrying", "err", err)
		if !sleepCtx(ctx, 2*time.Second) {
			return nil
		}
	}
	log.Info("relaying live events between instances", "channel", r.channel)
	done := make(chan struct{})
	go func() { defer close(done); r.forward(ctx) }()
	for ctx.Err() == nil {
		if err := r.listen(ctx); err != nil && ctx.Err() == nil {
			log.Warn("relay: listening connection lost; reconnecting", "err", err)
			sleepCtx(ctx, time.Second)
		}
	}
	<-done
	return nil
}

// relayChannel is per schema, so deployments (or tests) sharing one database with different
// search_paths do not hear each other.
func relayChannel(ctx context.Context, s *Service) (string, error) {
	var schema string
	if err := s.st.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	ch := "parley_live_" + schema
	if len(ch) > 63 { // PostgreSQL truncates identifiers longer than this
		sum := sha256.Sum256([]byte(schema))
		ch = "parley_live_" + hex.EncodeToString(sum[:12])
	}
	return ch, nil
}

// listen holds one pooled connection in LISTEN until it fails or ctx ends; the connection is
// then discarded rather than returned to the pool with a LISTEN on it.
func (r *relay) listen(ctx context.Context) error {
	conn, err := r.s.st.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var lerr error
	_ = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			lerr = fmt.Errorf("relay: driver connection is %T, not pgx", dc)
			return driver.ErrBadConn
		}
		pg := c.Conn()
		if _, err := pg.Exec(ctx, `LISTEN "`+strings.ReplaceAll(r.channel, `"`, `""`)+`"`); err != nil {
			lerr = err
			return driver.ErrBadConn
		}
		for {
			n, err := pg.WaitForNotification(ctx)
			if err != nil {
				lerr = err
				return driver.ErrBadConn
			}
			r.receive(n.Payload)
		}
	})
	return lerr
}

// receive publishes another instance's event on this instance's Bus.
func (r *relay) receive(payload string) {
	var m relayMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Origin == r.origin {
		return // our own NOTIFY coming back, or not ours to read
	}
	key, ok := eventKey(m.Event)
	if !ok {
		return
	}
	r.mu.Lock()
	bounded.Prune(r.incoming, nil) // entries whose Bus delivery was lost to a dropped forwarder
	r.incoming[key]++
	r.mu.Unlock()
	r.s.Publish(m.Event)
}

// forward sends the events published on this instance's Bus to the other instances, except
// those that came from them.
func (r *relay) forward(ctx context.Context) {
	log := r.s.log.With("part", "relay")
	for ctx.Err() == nil {
		events, cancel := r.s.Subscribe(relayBuffer)
		r.drain(ctx, events, log)
		cancel()
		select {
		case <-r.s.Closed():
			return // shutting down: the bus takes no more subscribers
		default:
		}
		if ctx.Err() == nil {
			log.Warn("relay: forwarder fell behind the event bus; some events did not reach the other instances")
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return
			}
		}
	}
}

func (r *relay) drain(ctx context.Context, events <-chan Event, log interface {
	Warn(msg string, args ...any)
}) {
	var lastWarn time.Time
	for {
		var e Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case e, ok = <-events:
			if !ok {
				return
			}
		}
		if r.fromElsewhere(e) {
			continue
		}
		payload, err := json.Marshal(relayMessage{Origin: r.origin, Event: e})
		if err != nil {
			continue
		}
		if len(payload) > maxNotifyPayload {
			log.Warn("relay: event too large to relay", "type", e.Type, "room", e.Room, "bytes", len(payload))
			continue
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = r.s.st.db.ExecContext(nctx, `SELECT pg_notify($1, $2)`, r.channel, string(payload))
		cancel()
		if err != nil && ctx.Err() == nil && time.Since(lastWarn) > 10*time.Second {
			lastWarn = time.Now()
			log.Warn("relay: notify failed; other instances miss this event", "type", e.Type, "err", err)
		}
	}
}

// fromElsewhere reports (and forgets) an event this relay itself published from another instance.
func (r *relay) fromElsewhere(e Event) bool {
	key, ok := eventKey(e)
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.incoming[key] == 0 {
		return false
	}
	if r.incoming[key]--; r.incoming[key] == 0 {
		delete(r.incoming, key)
	}
	return true
}

// eventKey identifies an event by its JSON: an event relayed in is published as decoded, so
// the copy the Bus hands back marshals to the same bytes.
func eventKey(e Event) ([32]byte, bool) {
	data, err := json.Marshal(e)
	if err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256(data), true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
