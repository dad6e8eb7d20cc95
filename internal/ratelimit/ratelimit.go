// Package ratelimit holds Parley's in-process limits: token buckets for actions a minute
// (logins, guest joins, registrations, room creations, recording starts) and a counter of
// things held open at once (event streams).
//
// Trade-off: the counts live in this process's memory. That costs no database write per
// request and no extra dependency, and survives nothing: a restart resets them, and with N
// Parley instances behind a load balancer a client gets up to N times the rate. A shared
// store (Redis) would close that gap at the cost of a network call per request.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Rate is a bucket's refill speed and size.
type Rate struct {
	PerSec float64
	Burst  float64
}

// PerMinute is n a minute with a burst of n.
func PerMinute(n int) Rate { return Rate{PerSec: float64(n) / 60, Burst: float64(n)} }

// Key names one bucket and its rate.
type Key struct {
	Name string
	Rate Rate
}

type bucket struct {
	r      Rate
	tokens float64
	at     time.Time
}

// maxBuckets triggers an early sweep so a spray of addresses cannot grow memory unbounded.
const maxBuckets = 100_000

// Buckets are token buckets by key.
type Buckets struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	now       func() time.Time
	lastSweep time.Time
}

// NewBuckets builds an empty set; now is the clock (time.Now when nil).
func NewBuckets(now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{buckets: map[string]*bucket{}, now: now}
}

// Allow takes one token from every bucket, or from none when any is empty, in which case it
// returns how long until all of them hold a token again.
func (l *Buckets) Allow(keys ...Key) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	var bs [4]*bucket // no allocation for the usual one to three keys
	held := bs[:0]
	for _, k := range keys {
		b := l.buckets[k.Name]
		if b == nil {
			b = &bucket{r: k.Rate, tokens: k.Rate.Burst, at: now}
			l.buckets[k.Name] = b
		}
		b.refill(now)
		if b.tokens < 1 {
			need := time.Duration(math.Ceil((1 - b.tokens) / b.r.PerSec * float64(time.Second)))
			wait = max(wait, need)
		}
		held = append(held, b)
	}
	if wait > 0 {
		return wait, false
	}
	for _, b := range held {
		b.tokens--
	}
	return 0, true
}

// Len is how many buckets are kept (full ones are swept).
func (l *Buckets) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(b.r.Burst, b.tokens+el*b.r.PerSec)
	}
	b.at = now
}

// maybeSweep drops full buckets (they hold no information) once a minute, or at once when
// the map grows past maxBuckets.
func (l *Buckets) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute && len(l.buckets) < maxBuckets {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		b.refill(now)
		if b.tokens >= b.r.Burst {
			delete(l.buckets, k)
		}
	}
}

// Open counts what is held open at once by key (event streams by address and by user).
type Open struct {
	mu    sync.Mutex
	limit int
	open  map[string]int
}

// NewOpen allows limit open at once per key.
func NewOpen(limit int) *Open { return &Open{limit: limit, open: map[string]int{}} }

// Acquire takes one slot under every key, or none when any is full. release gives them back
// and may be called more than once.
func (o *Open) Acquire(keys ...string) (release func(), ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		if o.open[k] >= o.limit {
			return nil, false
		}
	}
	for _, k := range keys {
		o.open[k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			for _, k := range keys {
				if o.open[k]--; o.open[k] <= 0 {
					delete(o.open, k)
				}
			}
		})
	}, true
}
