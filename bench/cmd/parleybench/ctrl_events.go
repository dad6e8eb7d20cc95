package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// roomWatch follows one room's event stream (GET /api/rooms/{name}/events, Server-Sent
// Events) as a moderator and records when each participant session's joined and left events
// arrive: the control-plane benchmark times the live state with it instead of polling the
// participant list, which would add the benchmark's own requests to Parley's CPU.
type roomWatch struct {
	mu      sync.Mutex
	arrived map[string]time.Time      // type + "\x00" + session sid -> arrival
	waiters map[string]chan time.Time // same key
	latest  map[string]time.Time      // type -> latest arrival, any session
	err     error                     // why the stream ended
	done    chan struct{}
}

// watchRoom opens the stream and returns once Parley answered it.
func watchRoom(ctx context.Context, base, bearer, room string) (*roomWatch, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/rooms/"+room+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req) // no timeout: the stream lasts the run
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, &apiError{Status: resp.StatusCode, Body: "event stream of " + room}
	}
	w := &roomWatch{arrived: map[string]time.Time{}, waiters: map[string]chan time.Time{}, latest: map[string]time.Time{},
		done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			at := time.Now()
			var e struct {
				Type string `json:"type"`
				Data struct {
					Sid string `json:"sid"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(line[len("data: "):]), &e) == nil && e.Data.Sid != "" {
				w.arrive(e.Type, e.Data.Sid, at)
			}
		}
		w.mu.Lock()
		w.err = fmt.Errorf("event stream of %s ended: %v", room, sc.Err())
		w.mu.Unlock()
	}()
	return w, nil
}

func (w *roomWatch) arrive(typ, sid string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest[typ] = at
	key := typ + "\x00" + sid
	if _, ok := w.arrived[key]; ok {
		return
	}
	w.arrived[key] = at
	if ch, ok := w.waiters[key]; ok {
		ch <- at
		delete(w.waiters, key)
	}
}

// wait returns when the event typ of session sid arrived (possibly before wait was called),
// or fails after 15 s.
func (w *roomWatch) wait(ctx context.Context, typ, sid string) (time.Time, error) {
	key := typ + "\x00" + sid
	w.mu.Lock()
	if at, ok := w.arrived[key]; ok {
		w.mu.Unlock()
		return at, nil
	}
	ch := make(chan time.Time, 1)
	w.waiters[key] = ch
	w.mu.Unlock()
	select {
	case at := <-ch:
		return at, nil
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return time.Time{}, w.err
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(15 * time.Second):
		return time.Time{}, fmt.Errorf("no %s event for %s in 15s", typ, sid)
	}
}

// seenSince reports whether an event of type typ arrived after t.
func (w *roomWatch) seenSince(typ string, t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest[typ].After(t)
}
