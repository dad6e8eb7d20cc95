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
// Each figure is the median over the pairs of with / without.
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
			time.Sleep(500 * time.Millisecond) // let the deregistration's deliveries in flight end
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
