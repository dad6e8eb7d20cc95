package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/parley/parley/bench/load"
)

// pairedHooks runs the join and webhook ingestion loads in pairs: a run without endpoints,
// and a run with the three (register() before it, unregister() after, which drops what the
// endpoints had not been sent yet, so a run's backlog does not fall into the next one), in
// alternating order.
// Each figure is the median over the pairs of with / without. Every run starts from a quiet
// Parley (settle): dropping a run's backlog, and SQLite's checkpoint of what it wrote, are
// work of the run before, not of the next one.
func (h *harness) pairedHooks(ctx context.Context, register func() error, unregister func()) {
	defer unregister()
	leave := h.occupy(ctx, roomJoin)
	defer leave()
	join := joinRequests(h.user.AccessToken, roomJoin)
	var joinRatios, hookRatios []float64
	for i := 0; i < h.runs && ctx.Err() == nil; i++ {
		var pair [2][2]float64 // [without, with][join, webhook]
		// The order alternates, so that a machine getting busier or calmer favours neither.
		for _, with := range [][2]int{{0, 1}, {1, 0}}[i%2] {
			h.settle(ctx)
			if with == 1 {
				if err := register(); err != nil {
					h.rep.na("webhook", "webhook ingestion: with endpoints / without, paired runs", "ratio", err.Error())
					return
				}
			}
			r, err := load.Run(ctx, h.opts([]string{h.main.addr}, h.conns, join, true))
			if err != nil {
				h.rep.na("join", "join: with endpoints / without, paired runs", "ratio", err.Error())
				return
			}
			pair[with][0] = r.RPS
			h.settle(ctx)
			// As many unique events as the join rate suggests Parley could take, and more.
			n := int(r.RPS*(h.warmup+h.duration).Seconds()) + 2000
			evs, err := webhookEvents(h.sec.LKKey, h.sec.LKSecret, roomHooks, fmt.Sprintf("p%d%d%s", i, with, randHex(3)), n)
			if err != nil {
				h.rep.na("webhook", "webhook ingestion: with endpoints / without, paired runs", "ratio", err.Error())
				return
			}
			wait := h.profileRun(ctx, "hooks-pair"+[2]string{"without", "with"}[with], i+1)
			r, err = load.Run(ctx, h.opts([]string{h.main.addr}, webhookSenders, evs, false))
			wait()
			if err != nil {
				h.rep.na("webhook", "webhook ingestion: with endpoints / without, paired runs", "ratio", err.Error())
				return
			}
			pair[with][1] = r.RPS
			if with == 1 {
				unregister()
			}
		}
		fmt.Fprintf(os.Stderr, "   pair %d: join %.0f / %.0f, webhook %.0f / %.0f (with / without)\n",
			i+1, pair[1][0], pair[0][0], pair[1][1], pair[0][1])
		if pair[0][0] > 0 && pair[0][1] > 0 {
			joinRatios, hookRatios = append(joinRatios, pair[1][0]/pair[0][0]), append(hookRatios, pair[1][1]/pair[0][1])
		}
	}
	j := stat("join", "join: with endpoints / without, paired runs", "ratio", joinRatios)
	j.Note = "median over pairs of runs seconds apart; target >= 0.9"
	w := stat("webhook", "webhook ingestion: with endpoints / without, paired runs", "ratio", hookRatios)
	w.Note = j.Note
	h.rep.add(j)
	h.rep.add(w)
}

// settle waits until the main instance has used at most one clock tick (10 ms) of CPU in
// each of two consecutive quarter seconds, or 20 s have passed, and says how long it took.
func (h *harness) settle(ctx context.Context) {
	const window = 250 * time.Millisecond
	start := time.Now()
	_, _, last, err := procStat(h.main.pid())
	for quiet := 0; err == nil && quiet < 2 && time.Since(start) < 20*time.Second && ctx.Err() == nil; {
		time.Sleep(window)
		var now time.Duration
		if _, _, now, err = procStat(h.main.pid()); err != nil {
			break
		}
		if now-last <= 10*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	if d := time.Since(start); d > 2*window+100*time.Millisecond {
		fmt.Fprintf(os.Stderr, "   settled in %.1f s\n", d.Seconds())
	}
}
