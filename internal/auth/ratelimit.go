package auth

import (
	"math"
	"sync"
	"time"
)

// limiter is a token-bucket rate limiter for login, register, refresh and password change
// attempts, keyed by client IP and by IP+email.
//
// Trade-off: the buckets live in this process's memory. That costs no database write per
// attempt and no extra dependency, and survives nothing: a restart resets the buckets, and
// with N Parley instances behind a load balancer an attacker gets up to N times the rate
// (still a few dozen guesses a minute against one account, against argon2id hashes). A
// shared store (Redis) would close that gap at the cost of a network call per attempt.
type limiter struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	now       func() time.Time
	lastSweep time.Time
	perKey    rate // IP+email: the guessing limit, auth.loginRate a minute
	perIP     rate // one IP, all emails: 10x that, so an office behind one NAT is not blocked
}

type rate struct {
	perSec float64
	burst  float64
}

type bucket struct {
	r      rate
	tokens float64
	at     time.Time
}

// maxBuckets triggers an early sweep so a spray of IPs cannot grow memory unbounded.
const maxBuckets = 100_000

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{
		buckets: map[string]*bucket{},
		now:     now,
		perKey:  rate{perSec: float64(perMinute) / 60, burst: float64(perMinute)},
		perIP:   rate{perSec: float64(perMinute*10) / 60, burst: float64(perMinute * 10)},
	}
}

// limitKey is one bucket to draw from.
type limitKey struct {
	key string
	r   rate
}

func (l *limiter) ip(ip string) limitKey { return limitKey{"ip|" + ip, l.perIP} }
func (l *limiter) ipEmail(ip, email string) limitKey {
	return limitKey{"ipe|" + ip + "|" + email, l.perKey}
}
func (l *limiter) user(id string) limitKey { return limitKey{"user|" + id, l.perKey} }

// allow takes one token from every bucket, or from none when any is empty, in which case it
// returns how long until all of them hold a token again.
func (l *limiter) allow(keys ...limitKey) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	var wait time.Duration
	bs := make([]*bucket, len(keys))
	for i, k := range keys {
		b := l.buckets[k.key]
		if b == nil {
			b = &bucket{r: k.r, tokens: k.r.burst, at: now}
			l.buckets[k.key] = b
		}
		b.refill(now)
		if b.tokens < 1 {
			need := time.Duration(math.Ceil((1 - b.tokens) / b.r.perSec * float64(time.Second)))
			wait = max(wait, need)
		}
		bs[i] = b
	}
	if wait > 0 {
		return &RateLimitError{RetryAfter: wait}
	}
	for _, b := range bs {
		b.tokens--
	}
	return nil
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(b.r.burst, b.tokens+el*b.r.perSec)
	}
	b.at = now
}

// maybeSweep drops full buckets (they hold no information) once a minute, or at once when
// the map grows past maxBuckets.
func (l *limiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute && len(l.buckets) < maxBuckets {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		b.refill(now)
		if b.tokens >= b.r.burst {
			delete(l.buckets, k)
		}
	}
}
