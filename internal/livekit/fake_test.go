package livekit

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a fake livekit-server (os/exec helper pattern) to
// simulate what the real one does not do on demand: failing every restart.
func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_FAKE_LIVEKIT") == "1" {
		os.Exit(fakeLiveKit(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeLiveKit answers --version, and otherwise serves GET / with OK on the config's port on
// its first run and exits 0 printing a fatal reason on every later run.
func fakeLiveKit(args []string) int {
	if len(args) > 0 && args[0] == "--version" {
		fmt.Println("livekit-server version 0.0.0-fake")
		return 0
	}
	runs := filepath.Join(os.Getenv("PARLEY_FAKE_DIR"), "runs")
	f, _ := os.OpenFile(runs, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	f.WriteString("x")
	f.Close()
	n, _ := os.ReadFile(runs)
	if len(n) > 1 {
		fmt.Println("fake fatal: cannot start again")
		return 0
	}
	cfg, _ := os.ReadFile(args[len(args)-1])
	port := regexp.MustCompile(`(?m)^port: (\d+)$`).FindStringSubmatch(string(cfg))[1]
	fmt.Println(`{"level":"info","msg":"fake started"}`)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("OK")) })
	_ = http.ListenAndServe("127.0.0.1:"+port, nil)
	return 1
}

// TestRestartBackoffAndFailedState: every restart fails, so retries follow the backoff
// (at once, 1 s, 2 s ...) and the status carries the child's own reason.
func TestRestartBackoffAndFailedState(t *testing.T) {
	t.Setenv("PARLEY_FAKE_LIVEKIT", "1")
	t.Setenv("PARLEY_FAKE_DIR", t.TempDir())
	logs := &logBuf{}
	o := testOptions(t, t.TempDir(), logs)
	o.Binary = os.Args[0]
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v\n%s", err, logs)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	if st := s.Status(); st.Version != "0.0.0-fake" {
		t.Errorf("version = %q", st.Version)
	}
	pid := s.Status().PID
	p, _ := os.FindProcess(pid)
	_ = p.Kill()
	killed := time.Now()
	// Retries start at once, then after 1 s and 2 s more: note when each restart is seen.
	var seen [4]time.Duration
	for n := 1; n <= 3; n++ {
		waitFor(t, 5*time.Second, fmt.Sprintf("restart %d", n), func() bool { return s.Status().Restarts >= n })
		seen[n] = time.Since(killed)
	}
	t.Logf("restarts seen at %v", seen[1:])
	if seen[1] > 800*time.Millisecond || seen[2] < time.Second || seen[3] < 3*time.Second {
		t.Errorf("restarts seen at %v, want ~0 s, >= 1 s, >= 3 s (backoff 0, 1 s, 2 s)", seen[1:])
	}
	st := s.Status()
	if st.State != StateRestarting || !strings.Contains(st.Reason, "fake fatal: cannot start again") {
		t.Errorf("status = %+v, want restarting with the child's reason", st)
	}
	if c, ok := s.Check(context.Background()); ok || c != "restarting" {
		t.Errorf("Check = %q %v", c, ok)
	}
}
