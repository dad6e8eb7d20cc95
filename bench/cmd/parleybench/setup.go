package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Rooms the benchmarks use, created by the bootstrap admin.
const (
	roomJoin  = "bench-join"
	roomHooks = "bench-hooks"
	roomLive  = "bench-live"
)

// setupMain starts the instance most benchmarks share and prepares its accounts and rooms.
// A missing feature is recorded (authNA, roomsNA) so its figures print n/a with the reason.
func (h *harness) setupMain(ctx context.Context) error {
	in, err := h.startInstance(ctx, "parley")
	if err != nil {
		return err
	}
	h.main = in
	if _, err := in.waitReady(ctx, 60*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "warning:", err)
	}
	time.Sleep(500 * time.Millisecond) // let start-up garbage be collected
	if h.idleRSS, err = rssMB(in.pid()); err == nil {
		f := stat("memory", "Parley RSS idle", "MiB", []float64{h.idleRSS})
		f.Note = "just ready, before any request"
		h.rep.add(f)
		h.addHeap("Parley Go heap in use idle")
	}
	a := newAPI(in.base)
	if h.admin, err = a.login(ctx, h.sec.AdminEmail, h.sec.AdminPassword); err != nil {
		h.authNA = "admin login: " + naReason(err)
		h.roomsNA = h.authNA
		return nil
	}
	// The load runs as an ordinary user; the admin only sets up and watches.
	h.user, err = a.register(ctx, "bench-user@example.com", "bench-password-"+randHex(4), "Bench User")
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning: register failed, benchmarking as the admin:", err)
		h.user = h.admin
	}
	for _, r := range []string{roomJoin, roomHooks, roomLive} {
		if err := a.createRoom(ctx, h.admin.AccessToken, r); err != nil {
			h.roomsNA = "create room: " + naReason(err)
			break
		}
	}
	return nil
}

// naReason says why a feature answered an error, short enough for the table.
// addHeap adds the main instance's go_memstats_heap_inuse_bytes, the Go heap beside RSS.
func (h *harness) addHeap(name string) {
	if v, ok := h.main.metrics()["go_memstats_heap_inuse_bytes"]; ok {
		h.rep.add(stat("memory", name, "MiB", []float64{v / (1 << 20)}))
	}
}

func naReason(err error) string {
	var ae *apiError
	if !errors.As(err, &ae) {
		return short(err.Error())
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal([]byte(ae.Body), &e) == nil && e.Error.Code != "" {
		return short(fmt.Sprintf("%d %s: %s", ae.Status, e.Error.Code, e.Error.Message))
	}
	return short(err.Error())
}
