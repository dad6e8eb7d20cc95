package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// overviewRestarts reads the overview's livekit state and restart log.
func overviewRestarts(c client) (state string, log []map[string]any) {
	_, out := c.do("GET", "/api/admin/overview", nil)
	lk, _ := out["livekit"].(map[string]any)
	state, _ = lk["state"].(string)
	entries, _ := lk["restartLog"].([]any)
	for _, e := range entries {
		log = append(log, e.(map[string]any))
	}
	return state, log
}

// TestFrozenLiveKitIsUnreachableThroughMain: a SIGSTOPped LiveKit is reported not ready on
// /readyz (503) and on the admin overview (unreachable, then restarting) until it is
// replaced, and the overview's restart log then says why. How soon is logged, not asserted:
// TestHungLiveKitReplaced proves the first unanswered probe already reports it.
func TestFrozenLiveKitIsUnreachableThroughMain(t *testing.T) {
	p := startParley(t, testEnv(t))
	c := loginAdmin(t, p.addr)
	if st, log := overviewRestarts(c); st != "ready" || len(log) != 0 {
		t.Fatalf("overview before = %q %v, want ready, no restarts", st, log)
	}
	pid := liveKitPID(t, p)
	frozen := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var readyzAt, overviewAt time.Duration
	eventually(t, 30*time.Second, "/readyz 503 and the overview not ready", func() bool {
		if code, lk := readyz(t, p.addr); readyzAt == 0 && code == 503 && lk != "ok" {
			readyzAt = time.Since(frozen)
		}
		if st, _ := overviewRestarts(c); overviewAt == 0 && (st == "unreachable" || st == "restarting") {
			overviewAt = time.Since(frozen)
		}
		return readyzAt > 0 && overviewAt > 0
	})
	t.Logf("SIGSTOP to not ready: /readyz %s, overview %s", readyzAt.Round(time.Millisecond), overviewAt.Round(time.Millisecond))
	eventually(t, 30*time.Second, "the frozen LiveKit replaced", func() bool {
		code, lk := readyz(t, p.addr)
		return code == 200 && lk == "ok"
	})
	st, log := overviewRestarts(c)
	if st != "ready" || len(log) != 1 || !strings.Contains(log[0]["reason"].(string), "stopped answering") || log[0]["at"] == "" {
		t.Errorf("overview after = %q %+v, want ready and one restart explained as a hang", st, log)
	}
}
