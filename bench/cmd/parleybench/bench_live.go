package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

const liveJoins = 10

// benchLive: a real lksdk participant joins with a token from the join route; the time
// from ConnectToRoomWithToken returning until GET /participants lists it as joined, and
// from Disconnect until it is listed as left (or gone). Polled every 5 ms as the admin.
func (h *harness) benchLive(ctx context.Context) {
	const g = "live state"
	if reason := h.authNA + h.roomsNA; reason != "" {
		h.rep.na(g, "join->state", "ms", reason)
		h.rep.na(g, "leave->state", "ms", reason)
		return
	}
	a := newAPI(h.main.base)
	if _, err := a.participantState(ctx, h.admin.AccessToken, roomLive, "nobody"); err != nil {
		h.rep.na(g, "join->state", "ms", "participants: "+naReason(err))
		h.rep.na(g, "leave->state", "ms", "participants: "+naReason(err))
		return
	}
	var joins, connects, leaves []float64
	var failures []string
	already, lost := 0, 0
	for i := 0; i < liveJoins && ctx.Err() == nil; i++ {
		j, err := a.join(ctx, h.user.AccessToken, roomLive)
		if err != nil {
			failures = append(failures, "join: "+naReason(err))
			break
		}
		url := j.URL
		if url == "" {
			url = fmt.Sprintf("ws://127.0.0.1:%d", h.main.lkPort)
		}
		tc := time.Now()
		room, err := lksdk.ConnectToRoomWithToken(url, j.Token, &lksdk.RoomCallback{}, lksdk.WithAutoSubscribe(false))
		if err != nil {
			failures = append(failures, "connect: "+short(err.Error()))
			continue
		}
		t0 := time.Now()
		polls, err := waitState(ctx, a, h.admin.AccessToken, roomLive, j.Identity, func(s string) bool { return s == "joined" })
		if err != nil {
			failures = append(failures, "join: "+err.Error())
			room.Disconnect()
			continue
		}
		joins = append(joins, ms(time.Since(t0)))
		connects = append(connects, ms(time.Since(tc)))
		if polls == 1 {
			already++
		}
		t1 := time.Now()
		room.Disconnect()
		lkGone := h.watchLiveKitLeave(ctx, roomLive, j.Identity)
		_, err = waitState(ctx, a, h.admin.AccessToken, roomLive, j.Identity, func(s string) bool { return s == "left" || s == "" })
		gone := <-lkGone
		// lksdk's Disconnect queues the leave and closes the socket; now and then the leave
		// is lost and LiveKit drops the participant only on its own timeout. That measures
		// the client, not Parley: such leaves are counted, not timed.
		if gone > 2*time.Second || gone < 0 {
			lost++
			continue
		}
		if err != nil {
			failures = append(failures, "leave: "+err.Error())
			continue
		}
		leaves = append(leaves, ms(time.Since(t1)))
	}
	note := ""
	if len(failures) > 0 {
		note = fmt.Sprintf("%d failures, first: %s", len(failures), short(failures[0]))
	}
	for _, f := range []struct {
		name string
		v    []float64
		note string
	}{
		{"join->state", joins, fmt.Sprintf("from connect returning; already listed at the first poll in %d of %d", already, len(joins))},
		{"connect->state", connects, "from calling ConnectToRoomWithToken (includes signalling and ICE)"},
		{"leave->state", leaves, fmt.Sprintf("from Disconnect(); %d leaves lost by the client excluded (LiveKit itself kept the participant > 2 s)", lost)},
	} {
		if len(f.v) == 0 {
			h.rep.na(g, f.name, "ms", "no successful join: "+note)
			continue
		}
		p50 := stat(g, f.name+" p50", "ms", f.v)
		p50.Note = strings.TrimSuffix(fmt.Sprintf("%d joins, %s; %s", len(f.v), f.note, note), "; ")
		h.rep.add(p50)
		p99 := stat(g, f.name+" p99", "ms", f.v)
		p99.Median = quantile(f.v, 0.99)
		p99.Note = "p99 of the joins; min/max over them"
		h.rep.add(p99)
	}
}

// waitState polls until identity's state satisfies done and says how many polls it took.
// watchLiveKitLeave reports, once, how long after now LiveKit itself stopped listing
// identity (-1 when it still did after 20 s), polling RoomService every 10 ms.
func (h *harness) watchLiveKitLeave(ctx context.Context, room, identity string) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	rs := lksdk.NewRoomServiceClient(fmt.Sprintf("http://127.0.0.1:%d", h.main.lkPort), h.sec.LKKey, h.sec.LKSecret)
	t0 := time.Now()
	go func() {
		for time.Since(t0) < 20*time.Second && ctx.Err() == nil {
			res, err := rs.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
			if err == nil {
				found := false
				for _, p := range res.Participants {
					found = found || p.Identity == identity
				}
				if !found {
					out <- time.Since(t0)
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		out <- -1
	}()
	return out
}

func waitState(ctx context.Context, a *api, bearer, room, identity string, done func(string) bool) (int, error) {
	deadline := time.Now().Add(15 * time.Second)
	last := ""
	for polls := 1; time.Now().Before(deadline) && ctx.Err() == nil; polls++ {
		s, err := a.participantState(ctx, bearer, room, identity)
		if err == nil && done(s) {
			return polls, nil
		}
		last = s
		if err != nil {
			last = err.Error()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("state not reached in 15s (last %q)", short(last))
}

// quantile of a small sample, nearest rank.
func quantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// benchLiveKit starts bin/parley in a fresh directory 5 times. Cold start: exec ->
// /readyz 200, and /healthz first answering -> /readyz 200 (LiveKit starts after the HTTP
// listener). Restart: then kill -9 that instance's livekit-server child and time until a
// new child exists and /readyz is 200 again. A fresh instance each time measures an
// isolated crash; crashes in a row would measure the supervisor's backoff instead.
func (h *harness) benchLiveKit(ctx context.Context, cold, restart bool) {
	const g = "livekit"
	coldName, restartName := "cold start: exec -> /readyz 200", "restart-to-ready (kill -9)"
	na := func(reason string) {
		if cold {
			h.rep.na(g, coldName, "ms", reason)
		}
		if restart {
			h.rep.na(g, restartName, "ms", reason)
		}
	}
	var total, lk, supCold, rst, supRst []float64
	for i := 0; i < 5 && ctx.Err() == nil; i++ {
		in, err := h.startInstance(ctx, fmt.Sprintf("lk%d", i))
		if err != nil {
			na(short(err.Error()))
			return
		}
		ready, err := in.waitReady(ctx, 60*time.Second)
		if err != nil {
			in.stop()
			na(short(err.Error()))
			return
		}
		if _, r := in.readyz(); r.Checks["livekit"] == "" {
			in.stop()
			na("/readyz has no livekit check: supervisor not wired")
			return
		}
		total = append(total, ms(ready.Sub(in.startAt)))
		lk = append(lk, ms(ready.Sub(in.health)))
		sum0, n0, metricsOK := in.readySeconds()
		if metricsOK && n0 == 1 {
			supCold = append(supCold, sum0*1000)
		}
		fmt.Fprintf(os.Stderr, "   cold %d: exec->ready %.0fms, healthz->ready %.0fms\n", i+1, total[i], lk[i])
		if restart {
			d, err := killLiveKit(ctx, in)
			if err != nil {
				in.stop()
				h.rep.na(g, restartName, "ms", short(err.Error()))
				restart = false
			} else {
				rst = append(rst, ms(d))
				if sum1, n1, ok := in.readySeconds(); metricsOK && ok && n1 == n0+1 {
					supRst = append(supRst, (sum1-sum0)*1000)
				}
				fmt.Fprintf(os.Stderr, "   restart %d: %.0fms\n", i+1, ms(d))
			}
		}
		in.stop()
	}
	if cold {
		f := stat(g, coldName, "ms", total)
		f.Note = "fresh data dir each time (migrations, secrets)"
		h.rep.add(f)
		f = stat(g, "cold start: /healthz -> /readyz 200", "ms", lk)
		f.Note = "LiveKit starts after the HTTP listener"
		h.rep.add(f)
		if len(supCold) > 0 {
			f = stat(g, "cold start, supervisor's own timing", "ms", supCold)
			f.Note = "parley_livekit_ready_seconds: spawn -> probe answers"
			h.rep.add(f)
		}
	}
	if restart {
		f := stat(g, restartName, "ms", rst)
		f.Note = "isolated crash: new child and /readyz 200"
		h.rep.add(f)
		if len(supRst) > 0 {
			f = stat(g, "restart-to-ready, supervisor's own timing", "ms", supRst)
			f.Note = "parley_livekit_ready_seconds: failure detected -> probe answers"
			h.rep.add(f)
		}
	}
}

// killLiveKit kills in's livekit-server child and returns how long until a new child
// exists and /readyz is 200.
func killLiveKit(ctx context.Context, in *instance) (time.Duration, error) {
	old, t0, err := in.killLiveKitChild()
	if err != nil {
		return 0, err
	}
	deadline := t0.Add(60 * time.Second)
	for ctx.Err() == nil {
		if kid := childNamed(in.pid(), "livekit-server"); kid != 0 && kid != old {
			if code, _ := in.readyz(); code == 200 {
				return time.Since(t0), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not ready 60s after the kill: %s", short(in.logTail()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, ctx.Err()
}

// killLiveKitChild sends SIGKILL to in's livekit-server child: its pid and when.
func (in *instance) killLiveKitChild() (int, time.Time, error) {
	old := childNamed(in.pid(), "livekit-server")
	if old == 0 {
		return 0, time.Time{}, fmt.Errorf("no livekit-server child of bin/parley")
	}
	t0 := time.Now()
	return old, t0, syscall.Kill(old, syscall.SIGKILL)
}

// readySeconds reads the supervisor's parley_livekit_ready_seconds sum and count.
func (in *instance) readySeconds() (sum float64, count int, ok bool) {
	m := in.metrics()
	sum, ok1 := m["parley_livekit_ready_seconds_sum"]
	n, ok2 := m["parley_livekit_ready_seconds_count"]
	return sum, int(n), ok1 && ok2
}

// metrics reads the unlabelled series of /metrics.
func (in *instance) metrics() map[string]float64 {
	out := map[string]float64{}
	code, body := in.get("/metrics")
	if code != 200 {
		return out
	}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out
}
