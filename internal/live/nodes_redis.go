package live

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// LiveKit's routing state in Redis (livekit-server v1.13.5, pkg/routing/redisrouter.go).
const (
	// lkNodesKey is a hash of node id => protobuf livekit.Node (routing.NodesKey). Every node
	// rewrites its entry with fresh Stats.UpdatedAt (unix seconds) every stats_update_interval
	// (2 s by default); a node that dies keeps its entry, with stats that stop ageing.
	lkNodesKey = "nodes"
	// lkRoomNodeKey is a hash of room name => id of the node hosting it (routing.NodeRoomKey).
	lkRoomNodeKey = "room_node_map"
	// lkAvailableSeconds is selector.AvailableSeconds: LiveKit stops placing rooms on a node
	// whose stats are this old and re-hosts its rooms elsewhere on their next join.
	lkAvailableSeconds = 5
)

// NodeStaleAfter is how old a node's stats must be before Parley declares its rooms lost:
// twice LiveKit's own availability threshold (5 s), because ending meetings is worse than
// not placing new ones on a node that missed two stats updates.
const NodeStaleAfter = 2 * lkAvailableSeconds * time.Second

// redisRetryAfter is how long an unanswering Redis is left alone.
const redisRetryAfter = 30 * time.Second

// RedisNodesOptions configure NewRedisNodes: the cluster's Redis, as LiveKit's redis.* keys.
type RedisNodesOptions struct {
	Address  string
	Password string
	DB       int
	Now      func() time.Time // default time.Now
}

// RedisNodes reads LiveKit's node registry and room->node map from Redis and reports the
// rooms lost with a dead node. It remembers which node hosted each room at the previous
// read, so a room LiveKit has already re-hosted on a live node is still recognised (its
// participants from the dead node stay listed in Redis). Use one per reconciler.
type RedisNodes struct {
	rc  *redis.Client
	now func() time.Time
	db  int

	mu sync.Mutex
	// retryAt: after a Redis error, Redis is not asked again before this (go-redis logs
	// every failed dial on its own global logger; an outage should not log every pass).
	retryAt  time.Time
	host     map[string]string    // room -> node id at the previous read
	updated  map[string]int64     // node id -> last Stats.UpdatedAt seen (unix s)
	moved    map[string]movedRoom // room -> its re-hosting off a dead node
	lastRead time.Time
}

type movedRoom struct {
	to     string
	cutoff time.Time
}

// NewRedisNodes connects lazily to the Redis at o.Address.
func NewRedisNodes(o RedisNodesOptions) (*RedisNodes, error) {
	if o.Address == "" {
		return nil, errors.New("live: livekit.redis.address is empty")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rc := redis.NewClient(&redis.Options{Addr: o.Address, Password: o.Password, DB: o.DB,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
		DialerRetries: 2, MaxRetries: 1})
	return &RedisNodes{rc: rc, now: o.Now, db: o.DB, host: map[string]string{}, updated: map[string]int64{},
		moved: map[string]movedRoom{}}, nil
}

// Close closes the Redis connections.
func (n *RedisNodes) Close() error { return n.rc.Close() }

// LostRooms implements NodeHealth. A room mapped to a node that is absent from the registry
// or whose stats are older than NodeStaleAfter is lost entirely. A room LiveKit moved off a
// node that had stopped updating (absent, or older than LiveKit's own 5 s) is re-hosted: the
// participants who joined before the old node stopped are lost. An error changes nothing.
func (n *RedisNodes) LostRooms(ctx context.Context) (map[string]LostRoom, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	if now.Before(n.retryAt) {
		return nil, fmt.Errorf("live: redis failed recently; next try at %s", n.retryAt.Format(time.TimeOnly))
	}
	// Rooms first: a node that registers between the two reads is then simply unused.
	rooms, err := n.rc.HGetAll(ctx, lkRoomNodeKey).Result()
	if err != nil {
		n.retryAt = now.Add(redisRetryAfter)
		return nil, fmt.Errorf("live: redis %s: %w", lkRoomNodeKey, err)
	}
	raw, err := n.rc.HGetAll(ctx, lkNodesKey).Result()
	if err != nil {
		n.retryAt = now.Add(redisRetryAfter)
		return nil, fmt.Errorf("live: redis %s: %w", lkNodesKey, err)
	}
	if len(raw) == 0 {
		// LiveKit answered Parley, so some node is registered in the cluster's Redis.
		return nil, fmt.Errorf("live: no LiveKit node registered in redis db %d: is livekit.redis the cluster's Redis?", n.db)
	}
	stats := make(map[string]int64, len(raw)) // node id -> UpdatedAt, 0 when not known yet
	for id, v := range raw {
		var node livekit.Node
		if err := proto.Unmarshal([]byte(v), &node); err != nil || node.GetStats() == nil {
			stats[id] = 0 // unreadable or no stats yet: LiveKit counts it available, so do we
			continue
		}
		stats[id] = node.GetStats().GetUpdatedAt()
		n.updated[id] = stats[id]
	}
	// age reports how long ago a node last updated its stats; absent nodes are infinitely old.
	age := func(id string) time.Duration {
		at, ok := stats[id]
		switch {
		case !ok:
			return math.MaxInt64
		case at == 0:
			return 0
		}
		return now.Sub(time.Unix(at, 0))
	}
	out := map[string]LostRoom{}
	for room, id := range rooms {
		if age(id) >= NodeStaleAfter {
			out[room] = LostRoom{}
			continue
		}
		if m, ok := n.moved[room]; ok && m.to == id {
			out[room] = LostRoom{Rehosted: true, JoinedBefore: m.cutoff}
			continue
		}
		if prev, ok := n.host[room]; ok && prev != id && age(prev) >= lkAvailableSeconds*time.Second {
			cutoff := n.lastRead // absent and never seen with stats: the room was there at the last read
			if at, ok := n.updated[prev]; ok {
				// LiveKit cannot re-host before the old node is lkAvailableSeconds stale, so
				// whoever joined before that joined on the old node.
				cutoff = time.Unix(at+lkAvailableSeconds, 0)
			}
			n.moved[room] = movedRoom{to: id, cutoff: cutoff}
			out[room] = LostRoom{Rehosted: true, JoinedBefore: cutoff}
		}
	}
	for room, m := range n.moved {
		if rooms[room] != m.to {
			delete(n.moved, room) // closed or moved again: its stale entries are gone with it
		}
	}
	for id := range n.updated {
		if _, ok := stats[id]; !ok && !hostsAny(rooms, id) {
			delete(n.updated, id)
		}
	}
	n.host, n.lastRead = rooms, now
	return out, nil
}

func hostsAny(host map[string]string, id string) bool {
	for _, h := range host {
		if h == id {
			return true
		}
	}
	return false
}
