package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/bench/ref"
)

// benchWrk: the join measured by Debian's wrk (-t2 -c32, a Lua script for the POST with
// its body and bearer token), a generator that shares no code with bench/load, against the
// same join ceiling right before each run.
func (h *harness) benchWrk(ctx context.Context) {
	const g, name = "join", "join (wrk -t2 -c32)"
	bin, err := exec.LookPath("wrk")
	if err != nil {
		h.rep.na(g, name, "req/s", "wrk is not installed (apt-get install wrk)")
		return
	}
	if reason := h.authNA + h.roomsNA; reason != "" {
		h.rep.na(g, name, "req/s", reason)
		return
	}
	refAddr, stopRef, err := h.startRef(ctx, "join")
	if err != nil {
		h.rep.na(g, name, "req/s", err.Error())
		return
	}
	defer stopRef()
	leave := h.occupy(ctx, roomJoin)
	defer leave()
	refTok, _ := ref.SignAccess(refJWTSecret, "user-1", time.Hour)
	refScript, err := h.wrkScript("ref", refTok)
	if err == nil {
		var script string
		if script, err = h.wrkScript("parley", h.user.AccessToken); err == nil {
			err = h.wrkRuns(ctx, bin, g, name, "http://"+refAddr, refScript, "http://"+h.main.addr, script)
		}
	}
	if err != nil {
		h.rep.na(g, name, "req/s", err.Error())
	}
}

func (h *harness) wrkRuns(ctx context.Context, bin, g, name, refURL, refScript, url, script string) error {
	path := "/api/rooms/" + roomJoin + "/join"
	var ceil, rps, p99, ratios []float64
	var non2xx int
	for i := 0; i < h.runs && ctx.Err() == nil; i++ {
		c, err := runWrk(ctx, bin, refURL+path, refScript, h.warmup, h.duration)
		if err != nil {
			return fmt.Errorf("ceiling run %d: %w", i+1, err)
		}
		r, err := runWrk(ctx, bin, url+path, script, h.warmup, h.duration)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		ceil, rps, p99 = append(ceil, c.rps), append(rps, r.rps), append(p99, r.p99ms)
		if c.rps > 0 {
			ratios = append(ratios, r.rps/c.rps)
		}
		non2xx += r.non2xx
		fmt.Fprintf(os.Stderr, "   wrk run %d: %.0f/s (ceiling %.0f/s) p99 %.1fms\n", i+1, r.rps, c.rps, r.p99ms)
	}
	h.rep.add(stat(g, name+" ceiling", "req/s", ceil))
	f := stat(g, name, "req/s", rps)
	if non2xx > 0 {
		f.Note = fmt.Sprintf("%d answers not 2xx (counted in wrk's req/s)", non2xx)
	}
	h.rep.add(f)
	h.rep.add(stat(g, name+" p99", "ms", p99))
	rf := stat(g, name+" / ceiling", "ratio", ratios)
	rf.Note = "target >= 0.8"
	h.rep.add(rf)
	return ctx.Err()
}

// wrkScript writes the Lua script that makes wrk send the join request.
func (h *harness) wrkScript(label, bearer string) (string, error) {
	p := filepath.Join(h.tmp, "wrk-"+label+".lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = \"{}\"\n"+
		"wrk.headers[\"Content-Type\"] = \"application/json\"\n"+
		"wrk.headers[\"Authorization\"] = %q\n", "Bearer "+bearer)
	return p, os.WriteFile(p, []byte(lua), 0o600)
}

type wrkResult struct {
	rps, p99ms float64
	non2xx     int
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99    = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
)

// runWrk runs wrk for warmup (unmeasured), then for duration, and parses the second run.
func runWrk(ctx context.Context, bin, url, script string, warmup, duration time.Duration) (wrkResult, error) {
	secs := func(d time.Duration) string { return strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))) + "s" }
	run := func(d time.Duration) (string, error) {
		out, err := exec.CommandContext(ctx, bin, "-t2", "-c32", "-d"+secs(d), "--latency", "-s", script, url).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("wrk: %w: %s", err, short(string(out)))
		}
		return string(out), nil
	}
	if warmup > 0 {
		if _, err := run(warmup); err != nil {
			return wrkResult{}, err
		}
	}
	out, err := run(duration)
	if err != nil {
		return wrkResult{}, err
	}
	return parseWrk(out)
}

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec: %s", short(out))
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkP99.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		r.p99ms = v * map[string]float64{"us": 0.001, "ms": 1, "s": 1000}[m[2]]
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(strings.TrimSpace(m[1]))
	}
	return r, nil
}
