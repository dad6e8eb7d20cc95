package live_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/livekit-server/pkg/routing"
	"github.com/livekit/livekit-server/pkg/routing/selector"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/testenv"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// nodesDB is the Redis database this package's tests write LiveKit's keys into; the cluster
// tests pick theirs among 1-14.
const nodesDB = 15

// lkRedis writes routing entries into Redis exactly as livekit-server's RedisRouter does.
type lkRedis struct {
	t  *testing.T
	rc *redis.Client
}

func newLKRedis(t *testing.T) (*lkRedis, string) {
	addr := testenv.RequireRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: nodesDB})
	clear := func() { _ = rc.Del(context.Background(), routing.NodesKey, routing.NodeRoomKey).Err() }
	clear()
	t.Cleanup(func() { clear(); _ = rc.Close() })
	return &lkRedis{t: t, rc: rc}, addr
}

// node registers (or refreshes) a node whose stats were updated at updated (RegisterNode).
func (l *lkRedis) node(id string, updated time.Time) {
	data, err := proto.Marshal(&livekit.Node{Id: id, State: livekit.NodeState_SERVING, Region: "r",
		Stats: &livekit.NodeStats{StartedAt: updated.Unix() - 60, UpdatedAt: updated.Unix(), NumRooms: 1}})
	if err != nil {
		l.t.Fatal(err)
	}
	if err := l.rc.HSet(context.Background(), routing.NodesKey, id, data).Err(); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lkRedis) unregister(id string) { l.rc.HDel(context.Background(), routing.NodesKey, id) }

// host maps room to node (SetNodeForRoom); an empty node clears it (ClearRoomState).
func (l *lkRedis) host(room, node string) {
	ctx := context.Background()
	if node == "" {
		l.rc.HDel(ctx, routing.NodeRoomKey, room)
		return
	}
	if err := l.rc.HSet(ctx, routing.NodeRoomKey, room, node).Err(); err != nil {
		l.t.Fatal(err)
	}
}

func TestNodeStaleAfterFollowsLiveKit(t *testing.T) {
	if want := 2 * selector.AvailableSeconds * time.Second; live.NodeStaleAfter != want {
		t.Fatalf("NodeStaleAfter = %v, want twice LiveKit's selector.AvailableSeconds = %v", live.NodeStaleAfter, want)
	}
}

// TestRedisNodes: rooms on live nodes are never reported; a room on a node whose stats are
// older than NodeStaleAfter, or absent from the registry, is lost; a room LiveKit re-hosted
// off a dead node loses only those who joined before the move, for as long as it stays there.
func TestRedisNodes(t *testing.T) {
	lk, addr := newLKRedis(t)
	var clock atomic.Int64
	t0 := time.Unix(time.Now().Unix(), 0)
	clock.Store(t0.UnixMilli())
	now := func() time.Time { return time.UnixMilli(clock.Load()) }
	advance := func(d time.Duration) { clock.Add(d.Milliseconds()) }
	n, err := live.NewRedisNodes(live.RedisNodesOptions{Address: addr, DB: nodesDB, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx := context.Background()
	check := func(step string, want map[string]live.LostRoom) {
		t.Helper()
		got, err := n.LostRooms(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: lost rooms %v, want %v", step, got, want)
		}
	}

	lk.node("ND_a", now())
	lk.node("ND_b", now())
	lk.host("alpha", "ND_a")
	lk.host("beta", "ND_b")
	lk.host("gamma", "ND_b")
	check("both nodes fresh", map[string]live.LostRoom{})

	// ND_b stops updating; ND_a keeps going. Stale but younger than NodeStaleAfter: nothing yet.
	bLast := now()
	advance(live.NodeStaleAfter - time.Second)
	lk.node("ND_a", now())
	check("ND_b stale for less than NodeStaleAfter", map[string]live.LostRoom{})
	// LiveKit re-hosts gamma on ND_a on its next join (ND_b is past LiveKit's 5 s).
	lk.host("gamma", "ND_a")
	cutoff := bLast.Add(selector.AvailableSeconds * time.Second)
	moved := live.LostRoom{Rehosted: true, JoinedBefore: cutoff}
	check("gamma re-hosted", map[string]live.LostRoom{"gamma": moved})

	advance(2 * time.Second)
	lk.node("ND_a", now())
	check("ND_b dead", map[string]live.LostRoom{"beta": {}, "gamma": moved})

	// A node absent from the registry (another node's startup removed it) is dead too.
	lk.unregister("ND_b")
	check("ND_b unregistered", map[string]live.LostRoom{"beta": {}, "gamma": moved})
	lk.host("delta", "ND_gone")
	check("room on a node never registered", map[string]live.LostRoom{"beta": {}, "gamma": moved, "delta": {}})

	// Rooms closed by LiveKit leave the map and the report.
	lk.host("beta", "")
	lk.host("gamma", "")
	lk.host("delta", "")
	check("rooms closed", map[string]live.LostRoom{})
	lk.host("gamma", "ND_a") // gamma again, a new meeting on a live node: nothing lost
	check("gamma reopened", map[string]live.LostRoom{})
}

// TestRedisNodesUnknown: a Redis that does not answer, or one where no node is registered
// (Parley pointed at another Redis database than LiveKit), is an error, never a loss.
func TestRedisNodesUnknown(t *testing.T) {
	lk, addr := newLKRedis(t)
	n, err := live.NewRedisNodes(live.RedisNodesOptions{Address: addr, DB: nodesDB})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	lk.host("alpha", "ND_a")
	if got, err := n.LostRooms(context.Background()); err == nil {
		t.Fatalf("no node registered: %v, want an error", got)
	}
	down, err := live.NewRedisNodes(live.RedisNodesOptions{Address: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	if got, err := down.LostRooms(context.Background()); err == nil {
		t.Fatalf("Redis down: %v, want an error", got)
	}
	if _, err := live.NewRedisNodes(live.RedisNodesOptions{}); err == nil {
		t.Fatal("empty address accepted")
	}
}

// fakeNodes is a NodeHealth answering what the test sets.
type fakeNodes struct {
	mu   sync.Mutex
	lost map[string]live.LostRoom
	err  error
}

func (f *fakeNodes) set(lost map[string]live.LostRoom, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost, f.err = lost, err
}

func (f *fakeNodes) LostRooms(context.Context) (map[string]live.LostRoom, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost, f.err
}

// staleLiveKit lists what a cluster's RoomService keeps listing after a node died.
type staleLiveKit struct {
	mu    sync.Mutex
	rooms map[string][]*livekit.ParticipantInfo
}

func (f *staleLiveKit) ListRooms(context.Context, *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*livekit.Room
	for name := range f.rooms {
		out = append(out, &livekit.Room{Name: name, Sid: "RM_" + name, CreationTime: time.Now().Unix() - 60})
	}
	return &livekit.ListRoomsResponse{Rooms: out}, nil
}

func (f *staleLiveKit) ListParticipants(_ context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &livekit.ListParticipantsResponse{Participants: f.rooms[req.Room]}, nil
}

// TestReconcileNodeLost: the reconciler ends what NodeHealth reports lost (reason node_lost,
// counted and published), keeps it ended although LiveKit still lists it, leaves other
// rooms alone, and changes nothing when the check cannot answer.
func TestReconcileNodeLost(t *testing.T) {
	old := time.Now().Add(-time.Minute)
	lk := &staleLiveKit{rooms: map[string][]*livekit.ParticipantInfo{
		"alpha": {participant("PA_a1", "a1", old)},
		"beta":  {participant("PA_b1", "b1", old), participant("PA_b2", "b2", old)},
		"gamma": {participant("PA_g1", "g1", old)},
	}}
	nodes := &fakeNodes{}
	f := newFixture(t, nil, func(o *live.Options) { o.LiveKit, o.Nodes = lk, nodes })
	ctx := context.Background()
	if rep, err := f.svc.ReconcileNow(ctx); err != nil || rep[live.RepairParticipantAdded] != 4 {
		t.Fatalf("first pass: %v, %v; want 4 participants added", rep, err)
	}
	events, stop := f.svc.Subscribe(64)
	defer stop()

	// Redis unreachable: nothing changes.
	nodes.set(map[string]live.LostRoom{"beta": {}}, errors.New("redis: connection refused"))
	if rep, err := f.svc.ReconcileNow(ctx); err != nil || len(rep) != 0 {
		t.Fatalf("pass with node health unknown: %v, %v; want no repairs", rep, err)
	}
	// beta's node died; gamma was re-hosted and g2 joined it on the live node.
	lk.mu.Lock()
	lk.rooms["gamma"] = append(lk.rooms["gamma"], participant("PA_g2", "g2", time.Now()))
	lk.mu.Unlock()
	nodes.set(map[string]live.LostRoom{"beta": {}, "gamma": {Rehosted: true, JoinedBefore: time.Now().Add(-time.Second)}}, nil)
	rep, err := f.svc.ReconcileNow(ctx)
	if err != nil || rep[live.RepairParticipantLeft] != 3 || rep[live.RepairRoomFinished] != 1 || rep[live.RepairParticipantAdded] != 1 {
		t.Fatalf("node lost: %v, %v; want b1, b2, g1 left, beta finished, g2 added", rep, err)
	}
	for room, want := range map[string]int{"alpha": 1, "beta": 0, "gamma": 1} {
		if n, err := f.svc.ActiveCount(ctx, room); err != nil || n != want {
			t.Errorf("%s active: %d, %v; want %d", room, n, err, want)
		}
	}
	ps, err := f.svc.Participants(ctx, "beta")
	if err != nil || len(ps) != 2 || ps[0].LeaveReason != live.ReasonNodeLost {
		t.Fatalf("beta participants: %+v, %v; want both left with reason node_lost", ps, err)
	}
	reasons := map[string]string{}
	for len(events) > 0 {
		ev := <-events
		if d, ok := ev.Data.(map[string]string); ok && (ev.Type == live.EventParticipantLeft || ev.Type == live.EventRoomFinished) {
			reasons[ev.Type+" "+ev.Room+" "+ev.Participant] = d["reason"]
		}
	}
	want := map[string]string{"participant_left beta " + ps[0].Identity: "node_lost", "participant_left beta " + ps[1].Identity: "node_lost",
		"participant_left gamma g1": "node_lost", "room_finished beta ": "node_lost"}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("published %v, want %v", reasons, want)
	}
	// LiveKit still lists beta and g1: they are not re-added.
	if rep, err := f.svc.ReconcileNow(ctx); err != nil || len(rep) != 0 {
		t.Fatalf("pass after the loss: %v, %v; want no repairs", rep, err)
	}
}
