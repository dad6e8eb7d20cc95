package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// checkCache keeps the session check of principals already verified, so that a burst of
// requests with one access token reads the database once. It is correct only while every
// write to sessions and users goes through this process's store: each transaction bumps the
// generation once it has committed, and an entry read under an older generation is never
// served. So a revocation, a disabled account or a changed role made here takes effect on
// the next request. Another instance's writes are not seen, which is why the cache is off
// on PostgreSQL (several instances may share it); on SQLite the TTL bounds the staleness a
// writer outside the server (none exists today) could cause.
type checkCache struct {
	ttl time.Duration
	gen atomic.Uint64

	mu sync.RWMutex
	m  map[string]cachedCheck
}

type cachedCheck struct {
	row   sessionCheck
	gen   uint64
	until time.Time
}

// maxCachedChecks bounds the cache's memory: past it the cache starts over empty, which
// costs one database read per session and nothing else.
const maxCachedChecks = 4096

// checkCacheTTL bounds how long one check is served without reading the database again.
const checkCacheTTL = 2 * time.Second

func newCheckCache(ttl time.Duration) *checkCache {
	if ttl <= 0 {
		return nil
	}
	return &checkCache{ttl: ttl, m: make(map[string]cachedCheck)}
}

// generation is read before a database read; put stores the read only under it.
func (c *checkCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// invalidate is called after every committed write to sessions or users.
func (c *checkCache) invalidate() {
	if c != nil {
		c.gen.Add(1)
	}
}

func (c *checkCache) get(sid string, now time.Time) (sessionCheck, bool) {
	if c == nil {
		return sessionCheck{}, false
	}
	c.mu.RLock()
	e, ok := c.m[sid]
	c.mu.RUnlock()
	if !ok || e.gen != c.gen.Load() || !now.Before(e.until) {
		return sessionCheck{}, false
	}
	return e.row, true
}

// put stores a live session's check read under generation gen (refusals are not cached:
// they are rare, and a refused token must not crowd out live ones).
func (c *checkCache) put(sid string, row sessionCheck, gen uint64, now time.Time) {
	if c == nil || gen != c.gen.Load() {
		return
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedChecks {
		clear(c.m)
	}
	c.m[sid] = cachedCheck{row: row, gen: gen, until: now.Add(c.ttl)}
	c.mu.Unlock()
}
