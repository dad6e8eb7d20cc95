package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/bench/load"
	"github.com/parley/parley/bench/ref"
)

var jsonHeader = [2]string{"Content-Type", "application/json"}

// loadRuns loads target h.runs times, each right after the matching ceiling run (when
// ceiling is not nil), and returns their results. With -profiles, each target run of the main
// instance is profiled as <profile>-run<i> (profile "": not profiled).
func (h *harness) loadRuns(ctx context.Context, profile string, ceiling, target func(i int) (load.Result, error)) (ceil, got []load.Result, err error) {
	for i := 0; i < h.runs && ctx.Err() == nil; i++ {
		if ceiling != nil {
			r, err := ceiling(i)
			if err != nil {
				return ceil, got, fmt.Errorf("ceiling run %d: %w", i+1, err)
			}
			ceil = append(ceil, r)
		}
		wait := h.profileRun(ctx, profile, i+1)
		r, err := target(i)
		wait()
		if err != nil {
			return ceil, got, fmt.Errorf("run %d: %w", i+1, err)
		}
		got = append(got, r)
		fmt.Fprintf(os.Stderr, "   run %d: %.0f/s p99 %.1fms errors %d\n", i+1, r.RPS, ms(r.P99), r.Errors)
	}
	return ceil, got, ctx.Err()
}

// throughputFigures adds req/s, p50 and p99 figures (and the ratio to the ceiling).
func (h *harness) throughputFigures(group, what string, ceil, got []load.Result, withP50 bool) {
	var rps, p50, p99, crps []float64
	var errs int64
	first := ""
	for _, r := range got {
		rps, p50, p99 = append(rps, r.RPS), append(p50, ms(r.P50)), append(p99, ms(r.P99))
		errs += r.Errors
		if first == "" {
			first = r.FirstErr
		}
	}
	note := ""
	if errs > 0 {
		note = fmt.Sprintf("%d errors, first: %s", errs, short(first))
	}
	for _, r := range ceil {
		crps = append(crps, r.RPS)
	}
	if len(ceil) > 0 {
		h.rep.add(stat(group, what+" ceiling", "req/s", crps))
	}
	f := stat(group, what, "req/s", rps)
	f.Note = note
	h.rep.add(f)
	if withP50 {
		h.rep.add(stat(group, what+" p50", "ms", p50))
	}
	h.rep.add(stat(group, what+" p99", "ms", p99))
	if len(ceil) > 0 {
		var ratios []float64
		for i := range got {
			if i < len(ceil) && ceil[i].RPS > 0 {
				ratios = append(ratios, got[i].RPS/ceil[i].RPS)
			}
		}
		rf := stat(group, what+" / ceiling", "ratio", ratios)
		rf.Note = "target >= 0.8"
		if group == "webhook" {
			rf.Note = "target >= 0.75"
		}
		h.rep.add(rf)
	}
}

func (h *harness) opts(addrs []string, conns int, reqs []load.Request, cycle bool) load.Options {
	return load.Options{Addrs: addrs, Conns: conns, Warmup: h.warmup, Duration: h.duration, Requests: reqs, Cycle: cycle}
}

// benchJoin: POST /api/rooms/{name}/join by a logged-in user on a public room, after the
// same load on the reference join server; also Parley's RSS idle and under that load.
func (h *harness) benchJoin(ctx context.Context) {
	const g = "join"
	name := "join" + h.suffix
	if reason := h.authNA + h.roomsNA; reason != "" {
		h.rep.na(g, name, "req/s", reason)
		h.rep.na("memory", "Parley RSS under join load", "MiB", reason)
		return
	}
	if _, err := newAPI(h.main.base).join(ctx, h.user.AccessToken, roomJoin); err != nil {
		h.rep.na(g, name, "req/s", "join: "+naReason(err))
		h.rep.na("memory", "Parley RSS under join load", "MiB", "join: "+naReason(err))
		return
	}
	leave := h.occupy(ctx, roomJoin)
	defer leave()
	refAddr, stopRef, err := h.startRef(ctx, "join")
	if err != nil {
		h.rep.na(g, name, "req/s", err.Error())
		return
	}
	defer stopRef()
	refTok, _ := ref.SignAccess(refJWTSecret, "user-1", time.Hour)
	refReq := []load.Request{{Method: "POST", Path: "/api/rooms/" + roomJoin + "/join", Body: []byte(`{}`),
		Header: [][2]string{jsonHeader, {"Authorization", "Bearer " + refTok}}}}
	req := joinRequests(h.user.AccessToken, roomJoin)
	var peaks []float64
	ceil, got, err := h.loadRuns(ctx, profileName("join"+h.suffix),
		func(int) (load.Result, error) { return load.Run(ctx, h.opts([]string{refAddr}, h.conns, refReq, true)) },
		func(int) (load.Result, error) {
			stop := sampleRSS(h.main.pid(), &peaks)
			defer stop()
			return load.Run(ctx, h.opts([]string{h.main.addr}, h.conns, req, true))
		})
	if err != nil {
		h.rep.na(g, name, "req/s", err.Error())
		return
	}
	h.throughputFigures(g, name, ceil, got, true)
	if h.suffix == "" {
		h.rep.add(stat("memory", "Parley RSS under join load (peak)", "MiB", peaks))
	}
}

// occupy puts the admin in room as a real participant until the returned function is
// called: a join into a meeting that has begun, as most joins are (Parley asks LiveKit to
// create an empty room again on each join, in case LiveKit just closed it).
func (h *harness) occupy(ctx context.Context, room string) (leave func()) {
	j, err := newAPI(h.main.base).join(ctx, h.admin.AccessToken, room)
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning: the join room stays empty:", err)
		return func() {}
	}
	r, err := lksdk.ConnectToRoomWithToken(j.URL, j.Token, &lksdk.RoomCallback{}, lksdk.WithAutoSubscribe(false))
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning: the join room stays empty:", err)
		return func() {}
	}
	return r.Disconnect
}

func joinRequests(bearer, room string) []load.Request {
	return []load.Request{{Method: "POST", Path: "/api/rooms/" + room + "/join", Body: []byte(`{}`),
		Header: [][2]string{jsonHeader, {"Authorization", "Bearer " + bearer}}}}
}

// sampleRSS appends the peak VmRSS of pid, sampled every 50 ms, when stop is called.
func sampleRSS(pid int, peaks *[]float64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	peak := 0.0
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := rssMB(pid); err == nil && v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		*peaks = append(*peaks, peak)
	}
}

// benchMe: authenticated GET /api/auth/me.
func (h *harness) benchMe(ctx context.Context) {
	const g = "auth"
	if h.authNA != "" {
		h.rep.na(g, "GET /api/auth/me", "req/s", h.authNA)
		return
	}
	refAddr, stopRef, err := h.startRef(ctx, "me")
	if err != nil {
		h.rep.na(g, "GET /api/auth/me", "req/s", err.Error())
		return
	}
	defer stopRef()
	refTok, _ := ref.SignAccess(refJWTSecret, "user-1", time.Hour)
	refReq := []load.Request{{Method: "GET", Path: "/api/auth/me", Header: [][2]string{{"Authorization", "Bearer " + refTok}}}}
	req := []load.Request{{Method: "GET", Path: "/api/auth/me", Header: [][2]string{{"Authorization", "Bearer " + h.user.AccessToken}}}}
	ceil, got, err := h.loadRuns(ctx, "me",
		func(int) (load.Result, error) { return load.Run(ctx, h.opts([]string{refAddr}, h.conns, refReq, true)) },
		func(int) (load.Result, error) {
			return load.Run(ctx, h.opts([]string{h.main.addr}, h.conns, req, true))
		})
	if err != nil {
		h.rep.na(g, "GET /api/auth/me", "req/s", err.Error())
		return
	}
	h.throughputFigures(g, "GET /api/auth/me", ceil, got, false)
}

// benchLogin: POST /api/auth/login with the right password (dominated by password hashing).
func (h *harness) benchLogin(ctx context.Context) {
	const g = "auth"
	if h.authNA != "" {
		h.rep.na(g, "login", "req/s", h.authNA)
		return
	}
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, h.sec.AdminEmail, h.sec.AdminPassword)
	req := []load.Request{{Method: "POST", Path: "/api/auth/login", Body: []byte(body), Header: [][2]string{jsonHeader}}}
	_, got, err := h.loadRuns(ctx, "login", nil, func(int) (load.Result, error) {
		return load.Run(ctx, h.opts([]string{h.main.addr}, h.conns, req, true))
	})
	if err != nil {
		h.rep.na(g, "login", "req/s", err.Error())
		return
	}
	h.throughputFigures(g, "login", nil, got, false)
}
