package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// benchHooks runs the join and webhook ingestion loads again with three outbound webhook
// endpoints registered for every event: two that answer at once and one that accepts the
// connection and never answers (each attempt to it waits out webhooks.timeout). Delivery is
// off the request path, so the figures beside those without endpoints show what writing
// the outbox in the state change's transaction costs.
func (h *harness) benchHooks(ctx context.Context) {
	if reason := h.authNA + h.roomsNA; reason != "" {
		h.rep.na("webhook", "webhook ingestion (3 webhook endpoints)", "events/s", reason)
		return
	}
	var answered atomic.Int64
	ok := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	var urls []string
	for i := 0; i < 2; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			h.rep.na("webhook", "webhook ingestion (3 webhook endpoints)", "events/s", err.Error())
			return
		}
		go func() { _ = ok.Serve(ln) }()
		urls = append(urls, "http://"+ln.Addr().String()+"/hooks")
	}
	defer ok.Close()
	silent, err := blackhole()
	if err != nil {
		h.rep.na("webhook", "webhook ingestion (3 webhook endpoints)", "events/s", err.Error())
		return
	}
	defer silent.Close()
	urls = append(urls, "http://"+silent.Addr().String()+"/hooks")

	a := newAPI(h.main.base)
	register := func() ([]string, error) {
		var ids []string
		for _, u := range urls {
			var ep struct{ ID string }
			if err := a.do(ctx, "POST", "/api/admin/webhooks", h.admin.AccessToken, map[string]any{"url": u, "events": []string{"*"}}, &ep); err != nil {
				return ids, fmt.Errorf("register endpoint: %s", naReason(err))
			}
			ids = append(ids, ep.ID)
		}
		return ids, nil
	}
	unregister := func(ids []string) {
		for _, id := range ids {
			_ = a.do(context.WithoutCancel(ctx), "DELETE", "/api/admin/webhooks/"+id, h.admin.AccessToken, nil, nil)
		}
	}
	ids, err := register()
	if err != nil {
		unregister(ids)
		h.rep.na("webhook", "webhook ingestion (3 webhook endpoints)", "events/s", err.Error())
		return
	}
	defer func() { unregister(ids) }()
	h.suffix = " (3 webhook endpoints)"
	defer func() { h.suffix = "" }()
	h.benchJoin(ctx)
	h.benchWebhook(ctx)
	h.compare("join", "join")
	h.compare("webhook", "webhook ingestion")
	// The same comparison in pairs of runs a few seconds apart, the endpoints registered for
	// the second run of each pair only: on a shared machine, whose load changes within a
	// minute, the medians above compare runs up to a minute apart.
	unregister(ids)
	ids = nil
	h.pairedHooks(ctx, func() error { var err error; ids, err = register(); return err }, func() { unregister(ids); ids = nil })
	fmt.Fprintf(os.Stderr, "   %d deliveries answered by the two live endpoints\n", answered.Load())
}

// compare adds the ratio of a figure with endpoints to the same figure without, when both
// ran: of the medians, and of each one's ratio to its ceiling (the ceiling runs right before
// each run, so that one is what the machine's other load changes least).
func (h *harness) compare(group, name string) {
	find := func(n string) *Figure {
		for i := range h.rep.Figures {
			if f := &h.rep.Figures[i]; f.Group == group && f.Name == n {
				return f
			}
		}
		return nil
	}
	without, with := find(name), find(name+h.suffix)
	if without == nil || with == nil || without.Median == 0 {
		return
	}
	r := stat(group, name+": with endpoints / without", "ratio", []float64{with.Median / without.Median})
	r.Note = "medians of the two rows above; target >= 0.9"
	h.rep.add(r)
	cw, cwo := find(name+h.suffix+" / ceiling"), find(name+" / ceiling")
	if cw != nil && cwo != nil && cwo.Median > 0 {
		r := stat(group, name+": with endpoints / without, each to its ceiling", "ratio", []float64{cw.Median / cwo.Median})
		r.Note = "the ceiling shares the 2 cores with Parley's deliveries too"
		h.rep.add(r)
	}
}

// blackhole accepts connections and never answers them, like a receiver that hangs.
func blackhole() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				mu.Lock()
				for _, c := range held {
					c.Close()
				}
				mu.Unlock()
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return ln, nil
}
