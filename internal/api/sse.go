package api

import (
	"bufio"
	"context"
	"encoding/json"
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
// write fails) or the subscription is dropped for being slow. keep filters events (nil: all).
// It sends a comment every heartbeat.
func writeSSE(ctx context.Context, w *bufio.Writer, events <-chan live.Event, keep func(live.Event) bool, heartbeat time.Duration) error {
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
				continue
			}
			data, err := json.Marshal(eventJSON{Type: e.Type, Room: e.Room, Participant: e.Participant, Data: e.Data, At: e.At})
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}
