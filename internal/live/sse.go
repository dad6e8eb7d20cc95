package live

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// HeartbeatInterval is how often an idle SSE stream sends a comment, so proxies and load
// balancers do not close it.
const HeartbeatInterval = 15 * time.Second

// ServeSSE writes events as Server-Sent Events to w until ctx ends, the client goes away (a
// write fails) or the subscription is dropped for being slow. keep filters events (nil: all).
// It sends a comment every heartbeat (HeartbeatInterval when zero).
func ServeSSE(ctx context.Context, w *bufio.Writer, events <-chan Event, keep func(Event) bool, heartbeat time.Duration) error {
	if heartbeat <= 0 {
		heartbeat = HeartbeatInterval
	}
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
			data, err := json.Marshal(e)
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
