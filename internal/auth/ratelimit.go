package auth

import (
	"time"

	"github.com/parley/parley/internal/ratelimit"
)

// limiter limits login, register, refresh and password change attempts, keyed by client IP
// and by IP+email (the trade-offs of in-memory buckets are ratelimit's).
type limiter struct {
	b      *ratelimit.Buckets
	perKey ratelimit.Rate // IP+email: the guessing limit, auth.loginRate a minute
	perIP  ratelimit.Rate // one IP, all emails: 10x that, so an office behind one NAT is not blocked
}

type limitKey = ratelimit.Key

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{
		b:      ratelimit.NewBuckets(now),
		perKey: ratelimit.PerMinute(perMinute),
		perIP:  ratelimit.PerMinute(perMinute * 10),
	}
}

func (l *limiter) ip(ip string) limitKey { return limitKey{Name: "ip|" + ip, Rate: l.perIP} }
func (l *limiter) ipEmail(ip, email string) limitKey {
	return limitKey{Name: "ipe|" + ip + "|" + email, Rate: l.perKey}
}
func (l *limiter) user(id string) limitKey { return limitKey{Name: "user|" + id, Rate: l.perKey} }

// allow takes one token from every bucket, or returns a *RateLimitError saying how long
// until all of them hold one again.
func (l *limiter) allow(keys ...limitKey) error {
	if wait, ok := l.b.Allow(keys...); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	return nil
}
