package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley/parley/internal/live"
)

// heartbeatInterval is how often an idle SSE stream sends a comment, so proxies and load
// balancers do not close it.
const heartbeatInterval = 15 * time.Second

// eventJSON is one Server-Sent Event's data; the SSE `event:` line repeats its type (the
// names are live's Event* constants).
type eventJSON struct {
	Type        string    `json:"type"`
	Room        string    `json:"room,omitempty"`
	Participant string    `json:"participant,omitempty"`
	Data        any       `json:"data,omitempty"`
	At          time.Time `json:"at"`
}

// writeSSE writes events as Server-Sent Events to w until ctx ends, the client goes away (a
// write fails), the subscription is dropped for being slow or check refuses. keep filters
// events (nil: all). It sends a comment every heartbeat.
//
// check (nil: none) runs before every heartbeat and before every batch of events: the
// events waiting in the channel when it passes were all published before it ran, so none is
// sent on the strength of an older check. A refusal sends `event: closed` with the reason
// and ends the stream; the client's reconnection then gets the route's own 401 or 403.
func writeSSE(ctx context.Context, w *bufio.Writer, events <-chan live.Event, keep func(live.Event) bool,
	check func(context.Context) error, heartbeat time.Duration) error {
	// The first bytes tell the client (and any proxy) that the stream is open.
	if _, err := fmt.Fprintf(w, "retry: 3000\n: connected\n\n"); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := refused(ctx, w, check); err != nil {
				return err
			}
			if _, err := w.WriteString(": heartbeat\n\n"); err != nil {
				return err
			}
		case e, ok := <-events:
			if !ok {
				// Dropped for falling behind: tell the client why; it reconnects.
				_, _ = w.WriteString("event: dropped\ndata: {\"reason\":\"slow consumer or server shutdown\"}\n\n")
				_ = w.Flush()
				return nil
			}
			if keep != nil && !keep(e) {
				// Nothing to send (a room's stream hears every room's events): no check,
				// which reads the database, for an event this stream leaves out.
				continue
			}
			if err := refused(ctx, w, check); err != nil {
				return err
			}
			for n := len(events); ; n-- { // e, then what was already waiting behind it
				if err := writeEvent(w, e, keep); err != nil {
					return err
				}
				if n == 0 {
					break
				}
				if e, ok = <-events; !ok {
					break // dropped: the next receive says so
				}
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// errRefused ends a stream whose caller may no longer follow it.
var errRefused = errors.New("event stream: no longer allowed")

// refused runs check; on a refusal it tells the client why and returns errRefused.
func refused(ctx context.Context, w *bufio.Writer, check func(context.Context) error) error {
	if check == nil {
		return nil
	}
	cerr := check(ctx)
	if cerr == nil {
		return nil
	}
	reason, _ := json.Marshal(map[string]string{"reason": "no longer allowed to follow these events"})
	_, _ = fmt.Fprintf(w, "event: closed\ndata: %s\n\n", reason)
	_ = w.Flush()
	return errRefused
}

// writeEvent writes one event unless keep filters it out.
func writeEvent(w *bufio.Writer, e live.Event, keep func(live.Event) bool) error {
	if keep != nil && !keep(e) {
		return nil
	}
	data, err := json.Marshal(eventJSON{Type: e.Type, Room: e.Room, Participant: e.Participant, Data: e.Data, At: e.At})
	if err != nil {
		return nil
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data)
	return err
}
