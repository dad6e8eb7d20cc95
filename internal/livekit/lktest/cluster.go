package lktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/testenv"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// Cluster is two livekit-server nodes sharing one Redis database. Each node is its own
// region and selects nodes region-aware, so a room created through a node's API is hosted
// on that node: a test knows where every room lives (RegionOf reads it from Redis).
type Cluster struct {
	Nodes [2]*Server
	RDB   *redis.Client
	Addr  string // Redis
	DB    int
}

// StartCluster starts the two nodes with o's keys and webhook URL on the Redis that
// testenv.RequireRedis finds (the test skips, or fails under PARLEY_REQUIRE_SERVICES,
// without one), in a private database that is emptied before and after.
func StartCluster(t testing.TB, o Options) *Cluster {
	t.Helper()
	addr := testenv.RequireRedis(t)
	// A private Redis database: other clusters' nodes are not candidates (15 is internal/live's).
	db := 1 + rand.IntN(14)
	c := &Cluster{RDB: redis.NewClient(&redis.Options{Addr: addr, DB: db}), Addr: addr, DB: db}
	if err := c.RDB.FlushDB(context.Background()).Err(); err != nil {
		testenv.SkipOrFail(t, "Redis", err)
	}
	t.Cleanup(func() {
		_ = c.RDB.FlushDB(context.Background()).Err()
		_ = c.RDB.Close()
	})
	for i := range c.Nodes {
		// Start writes "redis:\n  address: ..." last, so the first line extends that block.
		// The selector drops nodes whose load average per core passes sysload_limit before it
		// looks at regions; on a busy test machine that sent rooms to the wrong node, so the
		// limit is out of reach here.
		n := o
		n.RedisAddr = addr
		n.ExtraYAML = fmt.Sprintf("  db: %d\nregion: r%d\nnode_selector:\n  kind: regionaware\n  sysload_limit: 1000\n  regions:\n"+
			"    - {name: r0, lat: 0, lon: 0}\n    - {name: r1, lat: 50, lon: 50}\n", db, i) + o.ExtraYAML
		c.Nodes[i] = Start(t, n)
	}
	return c
}

// RegionOf reports the region of the node hosting room, from LiveKit's Redis routing table.
func (c *Cluster) RegionOf(t testing.TB, room string) string {
	t.Helper()
	ctx := context.Background()
	id, err := c.RDB.HGet(ctx, "room_node_map", room).Result()
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	data, err := c.RDB.HGet(ctx, "nodes", id).Bytes()
	if err != nil {
		return "unknown node " + id
	}
	var n livekit.Node
	if err := proto.Unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	return n.Region
}
