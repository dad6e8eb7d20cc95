// Package load is the benchmark's HTTP load generator: a fixed number of keep-alive
// connections (fasthttp's client, so the generator stays cheap next to the server on a
// small machine), a warm-up that is not measured, a measured duration and a latency
// histogram. Every request is prepared by the caller before the clock starts.
package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Request is one fully prepared request: tokens signed, bodies encoded.
type Request struct {
	Method string
	Path   string // path and query, e.g. /api/auth/me
	Header [][2]string
	Body   []byte
}

// Options describe one load run.
type Options struct {
	// Addrs are host:port targets; connections are spread across them round-robin.
	Addrs    []string
	Conns    int
	Warmup   time.Duration
	Duration time.Duration
	// Requests are sent in order, each once; Cycle allows starting over when they run out
	// (fine for idempotent requests, wrong for events that must stay unique).
	Requests []Request
	Cycle    bool
	// OK says whether a status is a success; default 2xx.
	OK func(status int) bool
}

// Result is what one run measured (the warm-up excluded).
type Result struct {
	OK        int64         // successful requests in the measured window
	Errors    int64         // failed requests (transport error or unexpected status)
	Elapsed   time.Duration // measured window
	RPS       float64       // successful requests per second
	P50, P99  time.Duration // latency of successful requests
	Max       time.Duration
	FirstErr  string // first failure, for the report
	Exhausted bool   // the prepared requests ran out before the end
}

// ErrNoRequests is returned when there is nothing to send.
var ErrNoRequests = errors.New("load: no requests prepared")

// Run executes one run and blocks until it is over.
func Run(ctx context.Context, o Options) (Result, error) {
	if len(o.Requests) == 0 {
		return Result{}, ErrNoRequests
	}
	if len(o.Addrs) == 0 || o.Conns < 1 {
		return Result{}, fmt.Errorf("load: need at least one address and one connection (got %d, %d)", len(o.Addrs), o.Conns)
	}
	if o.OK == nil {
		o.OK = func(s int) bool { return s >= 200 && s < 300 }
	}
	clients := make([]*fasthttp.HostClient, len(o.Addrs))
	for i, a := range o.Addrs {
		per := (o.Conns + len(o.Addrs) - 1) / len(o.Addrs)
		clients[i] = &fasthttp.HostClient{
			Addr: a, MaxConns: per, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			MaxIdleConnDuration: time.Minute, MaxIdemponentCallAttempts: 1,
			NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true,
		}
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()

	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	end := measureFrom.Add(o.Duration)
	var next atomic.Int64
	var exhausted atomic.Bool
	type worker struct {
		hist     Histogram
		ok, errs int64
		last     time.Time
		firstErr string
	}
	ws := make([]*worker, o.Conns)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{}
		ws[i] = w
		client := clients[i%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				if n >= int64(len(o.Requests)) {
					if !o.Cycle {
						exhausted.Store(true)
						return
					}
					n %= int64(len(o.Requests))
				}
				r := &o.Requests[n]
				req.Reset()
				req.Header.SetMethod(r.Method)
				req.SetRequestURI(r.Path)
				req.Header.SetHost(client.Addr)
				for _, h := range r.Header {
					req.Header.Set(h[0], h[1])
				}
				if r.Body != nil {
					req.SetBodyRaw(r.Body)
				}
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := client.Do(req, resp)
				t1 := time.Now()
				if t0.Before(measureFrom) {
					continue
				}
				if err == nil && o.OK(resp.StatusCode()) {
					w.ok++
					w.hist.Record(t1.Sub(t0))
				} else {
					w.errs++
					if w.firstErr == "" {
						if err != nil {
							w.firstErr = err.Error()
						} else {
							w.firstErr = fmt.Sprintf("status %d: %.200s", resp.StatusCode(), resp.Body())
						}
					}
				}
				w.last = t1
			}
		}()
	}
	wg.Wait()

	var res Result
	var h Histogram
	last := measureFrom
	for _, w := range ws {
		h.Merge(&w.hist)
		res.OK += w.ok
		res.Errors += w.errs
		if w.last.After(last) {
			last = w.last
		}
		if res.FirstErr == "" {
			res.FirstErr = w.firstErr
		}
	}
	res.Elapsed = last.Sub(measureFrom)
	if res.Elapsed > 0 {
		res.RPS = float64(res.OK) / res.Elapsed.Seconds()
	}
	res.P50, res.P99, res.Max = h.Quantile(0.50), h.Quantile(0.99), h.Max()
	res.Exhausted = exhausted.Load()
	return res, ctx.Err()
}
