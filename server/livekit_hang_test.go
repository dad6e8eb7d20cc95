package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// overviewRestarts reads the overview's livekit state and restart log as the admin.
func overviewRestarts(t *testing.T, addr, token string) (state string, log []struct{ At, Reason string }) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/admin/overview", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		LiveKit struct {
			State      string
			RestartLog []struct{ At, Reason string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("overview: %d %v", resp.StatusCode, err)
	}
	return body.LiveKit.State, body.LiveKit.RestartLog
}

func adminToken(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@example.com","password":"admin-password-1234"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var login struct{ AccessToken string }
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || login.AccessToken == "" {
		t.Fatalf("admin login: %d %v", resp.StatusCode, err)
	}
	return login.AccessToken
}

// TestFrozenLiveKitIsUnreachableThroughMain: a SIGSTOPped LiveKit is "unreachable" on
// /readyz (503) and on the admin overview within 3 s, is replaced, and the overview's
// restart log says why.
func TestFrozenLiveKitIsUnreachableThroughMain(t *testing.T) {
	p := startParley(t, testEnv(t))
	token := adminToken(t, p.addr)
	if st, log := overviewRestarts(t, p.addr, token); st != "ready" || len(log) != 0 {
		t.Fatalf("overview before = %q %v, want ready, no restarts", st, log)
	}
	pid := liveKitPID(t, p)
	frozen := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var readyzAt, overviewAt time.Duration
	for (readyzAt == 0 || overviewAt == 0) && time.Since(frozen) < 3*time.Second {
		if code, lk := readyz(t, p.addr); readyzAt == 0 && code == 503 && strings.HasPrefix(lk, "unreachable") {
			readyzAt = time.Since(frozen)
		}
		if st, _ := overviewRestarts(t, p.addr, token); overviewAt == 0 && st == "unreachable" {
			overviewAt = time.Since(frozen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if readyzAt == 0 || overviewAt == 0 {
		code, lk := readyz(t, p.addr)
		t.Fatalf("3 s after SIGSTOP: /readyz seen unreachable after %s, overview after %s (now %d %q)", readyzAt, overviewAt, code, lk)
	}
	t.Logf("SIGSTOP to unreachable: /readyz %s, overview %s", readyzAt.Round(time.Millisecond), overviewAt.Round(time.Millisecond))
	eventually(t, 15*time.Second, "the frozen LiveKit replaced", func() bool {
		code, lk := readyz(t, p.addr)
		return code == 200 && lk == "ok"
	})
	st, log := overviewRestarts(t, p.addr, token)
	if st != "ready" || len(log) != 1 || !strings.Contains(log[0].Reason, "stopped answering") || log[0].At == "" {
		t.Errorf("overview after = %q %+v, want ready and one restart explained as a hang", st, log)
	}
}
