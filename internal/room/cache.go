package room

import (
	"context"
	"github.com/parley/parley/internal/bounded"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// roomCacheTTL bounds how long another instance's write (PostgreSQL deployments) can go
// unseen here; this instance's own writes invalidate at once. SQLite runs one instance.
const roomCacheTTL = time.Second

// cachedRoom is a room with its moderators and banned subjects, read together.
type cachedRoom struct {
	room  Room // shared: never modify its slices
	mods  map[string]struct{}
	bans  map[string]struct{}
	until time.Time
}

// roomCache keeps recently read rooms so that the join hot path reads no database for a
// room in use; concurrent misses of one room share one read.
type roomCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[string]*cachedRoom
	gen uint64
	sf  singleflight.Group
}

func newRoomCache(ttl time.Duration) *roomCache {
	return &roomCache{ttl: ttl, m: map[string]*cachedRoom{}}
}

// get returns the room from the cache or loads it.
func (c *roomCache) get(ctx context.Context, name string, now time.Time, load func(context.Context, string) (*cachedRoom, error)) (*cachedRoom, error) {
	c.mu.RLock()
	e, ok := c.m[name]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		return e, nil
	}
	v, err, _ := c.sf.Do(name, func() (any, error) { return load(ctx, name) })
	if err != nil {
		return nil, err
	}
	e = v.(*cachedRoom)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen { // nothing was invalidated while loading: the read is current
		bounded.Prune(c.m, func(old *cachedRoom) bool { return !now.Before(old.until) })
		stored := *e
		stored.until = now.Add(c.ttl)
		c.m[name] = &stored
	}
	return e, nil
}

// invalidate drops a room after a write; loads in flight are not stored.
func (c *roomCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, name)
	c.sf.Forget(name)
}

// lookup returns a room with whether userID moderates it and banSubject is banned from it.
func (s *Service) lookup(ctx context.Context, name, userID, banSubject string) (Room, bool, bool, error) {
	e, err := s.rooms.get(ctx, name, s.now(), s.st.loadRoom)
	if err != nil {
		return Room{}, false, false, err
	}
	_, isMod := e.mods[userID]
	_, banned := e.bans[banSubject]
	return e.room, isMod && userID != "", banned && banSubject != "", nil
}

// isBanned reports whether any of the subjects is banned from the room (false when the
// room cannot be read: the caller has already read it).
func (s *Service) isBanned(ctx context.Context, name string, subjects ...string) bool {
	e, err := s.rooms.get(ctx, name, s.now(), s.st.loadRoom)
	if err != nil {
		return false
	}
	for _, sub := range subjects {
		if _, ok := e.bans[sub]; ok && sub != "" {
			return true
		}
	}
	return false
}
