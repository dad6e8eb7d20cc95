package livekit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

const testSecret = "supervisor-test-secret-0123456789-abcdef"

// logBuf collects a supervisor's log for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testOptions is an embedded supervisor on free loopback ports.
func testOptions(t testing.TB, runDir string, logs *logBuf) Options {
	t.Helper()
	port, tcp, udp := testenv.FreePort(t), testenv.FreePort(t), testenv.FreeUDPRange(t, 20)
	return Options{
		Binary: testenv.LiveKitBinary(t),
		Render: RenderParams{
			Port: port, BindAddresses: []string{"127.0.0.1"}, APIKey: "devkey", APISecret: testSecret,
			RTCTCPPort: tcp, UDPPortStart: udp, UDPPortEnd: udp + 19, NodeIP: "127.0.0.1", LoopbackCandidate: true,
			EmptyTimeout: time.Minute, DepartureTimeout: 5 * time.Second, LogLevel: "info",
		},
		RunDir:    runDir,
		HTTPURL:   fmt.Sprintf("http://127.0.0.1:%d", port),
		PublicURL: fmt.Sprintf("ws://127.0.0.1:%d", port),
		APIKey:    "devkey", APISecret: testSecret,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", "livekit"),
	}
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, within)
	return 0
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// TestEmbeddedLifecycle: cold start, private config file, kill -9 healed with restarts=1,
// OnReady on every ready, clean stop.
func TestEmbeddedLifecycle(t *testing.T) {
	logs := &logBuf{}
	runDir := filepath.Join(t.TempDir(), "run")
	o := testOptions(t, runDir, logs)
	reg := prometheus.NewRegistry()
	o.Registry = reg
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var readies atomic.Int32
	s.OnReady(func() { readies.Add(1) })

	t0 := time.Now()
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v\n%s", err, logs)
	}
	cold := time.Since(t0)
	t.Logf("cold start to ready: %s (status says %s)", cold, s.Status().ReadyAfter)
	if cold > 1500*time.Millisecond {
		t.Errorf("cold start took %s, want < 1.5s", cold)
	}
	st := s.Status()
	if st.State != StateReady || st.Version != "1.13.5" || st.Mode != "embedded" || st.PID == 0 {
		t.Fatalf("status after start = %+v", st)
	}
	if c, ok := s.Check(context.Background()); c != "ok" || !ok {
		t.Errorf("Check = %q %v, want ok", c, ok)
	}
	cfgFile := filepath.Join(runDir, configFileName)
	for path, want := range map[string]os.FileMode{runDir: 0o700, cfgFile: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat %s: %v", path, err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", path, got, want)
		}
	}
	if !strings.Contains(logs.String(), "starting LiveKit server") || !strings.Contains(logs.String(), "component=livekit") {
		t.Errorf("LiveKit's own lines are not in the log:\n%s", logs)
	}

	oldPID := st.PID
	if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	took := waitFor(t, 2*time.Second, "ready again after kill -9", func() bool {
		st := s.Status()
		return st.State == StateReady && st.PID != oldPID
	})
	t.Logf("kill -9 to ready: %s (status says %s)", took, s.Status().ReadyAfter)
	_ = killedAt
	if st := s.Status(); st.Restarts != 1 || len(st.RestartLog) != 1 || !strings.Contains(st.RestartLog[0].Reason, "signal: killed") {
		t.Errorf("restarts = %d, log %+v; want 1, explained by signal: killed", st.Restarts, st.RestartLog)
	}
	waitFor(t, time.Second, "OnReady twice", func() bool { return readies.Load() == 2 })
	if got := gathered(t, reg, "parley_livekit_restarts_total", ""); got != 1 {
		t.Errorf("restarts metric = %v, want 1", got)
	}
	if got := gathered(t, reg, "parley_livekit_state", StateReady); got != 1 {
		t.Errorf("ready state gauge = %v", got)
	}

	pid := s.Status().PID
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("livekit-server %d still running after Stop", pid)
	}
	if _, err := os.Stat(cfgFile); !os.IsNotExist(err) {
		t.Errorf("config file still there after Stop: %v", err)
	}
}

// TestHungLiveKitReplaced: a SIGSTOPped LiveKit fails its probes and is killed and replaced.
func TestHungLiveKitReplaced(t *testing.T) {
	logs := &logBuf{}
	s, err := New(testOptions(t, t.TempDir(), logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v\n%s", err, logs)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	pid := s.Status().PID
	var mu sync.Mutex
	var states []string
	var unreachableAt time.Time
	s.OnStateChange(func(st Status) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, st.State)
		if st.State == StateUnreachable && unreachableAt.IsZero() {
			unreachableAt = time.Now()
			if msg, ok := s.Check(context.Background()); ok || !strings.HasPrefix(msg, "unreachable") {
				t.Errorf("Check while unreachable = %q, %v; want unreachable, false", msg, ok)
			}
		}
	})
	stopped := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 10*time.Second, "hung LiveKit replaced", func() bool {
		st := s.Status()
		return st.State == StateReady && st.PID != pid
	})
	t.Logf("SIGSTOP to ready again: %s", took)
	if alive(pid) {
		t.Errorf("the hung process %d was not killed", pid)
	}
	if !strings.Contains(logs.String(), "stopped answering") {
		t.Errorf("log does not explain the restart:\n%s", logs)
	}
	// Unreachable from the first unanswered probe: before the hang detection restarts it.
	mu.Lock()
	if len(states) < 2 || states[0] != StateUnreachable || states[1] != StateRestarting {
		t.Errorf("states after SIGSTOP = %v, want unreachable, restarting, ...", states)
	} else {
		t.Logf("SIGSTOP to unreachable: %s", unreachableAt.Sub(stopped).Round(time.Millisecond))
	}
	mu.Unlock()
	st := s.Status()
	if st.Restarts != 1 || len(st.RestartLog) != 1 || !strings.Contains(st.RestartLog[0].Reason, "stopped answering") || st.RestartLog[0].At.IsZero() {
		t.Errorf("restarts %d, log %+v; want one restart explained as a hang", st.Restarts, st.RestartLog)
	}
}

// TestStartReportsLiveKitsReason: a config LiveKit refuses (TURN/TLS without a domain, forced
// through configPath) fails Start with LiveKit's own words, fast.
func TestStartReportsLiveKitsReason(t *testing.T) {
	o := testOptions(t, "", &logBuf{})
	r := o.Render
	static := fmt.Sprintf("port: %d\nbind_addresses: [\"127.0.0.1\"]\nkeys:\n  devkey: %s\nrtc:\n  tcp_port: %d\n  port_range_start: %d\n  port_range_end: %d\n  node_ip: 127.0.0.1\n  use_external_ip: false\nturn:\n  enabled: true\n  tls_port: %d\n  udp_port: %d\nlogging:\n  json: true\n",
		r.Port, testSecret, r.RTCTCPPort, r.UDPPortStart, r.UDPPortEnd, testenv.FreePort(t), testenv.FreePort(t))
	o.ConfigPath = filepath.Join(t.TempDir(), "livekit.yaml")
	if err := os.WriteFile(o.ConfigPath, []byte(static), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = s.Start(context.Background())
	took := time.Since(t0)
	t.Logf("refused config reported in %s: %v", took, err)
	if err == nil || !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "TURN domain required") {
		t.Fatalf("Start error = %v, want LiveKit's \"TURN domain required\"", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %s, want < 5s", took)
	}
	if st := s.Status(); st.State != StateFailed {
		t.Errorf("state = %s, want failed", st.State)
	}
}

// TestPortTakenIsNamed: a taken port is named before LiveKit starts.
func TestPortTakenIsNamed(t *testing.T) {
	o := testOptions(t, t.TempDir(), &logBuf{})
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.Render.RTCTCPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), fmt.Sprint(o.Render.RTCTCPPort)) || !strings.Contains(err.Error(), "livekit.rtc.tcpPort") {
		t.Fatalf("Start error = %v, want the taken port %d named", err, o.Render.RTCTCPPort)
	}
}

// gathered reads one series' value from reg (label: the state label, or "" for none).
func gathered(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

// TestWrongInternalHostIsNamed: an internalHost that is not the embedded LiveKit's port fails
// at once instead of timing out on probes.
func TestWrongInternalHostIsNamed(t *testing.T) {
	o := testOptions(t, t.TempDir(), &logBuf{})
	o.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", o.Render.Port+1)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "livekit.internalHost") {
		t.Fatalf("Start err = %v, want livekit.internalHost named", err)
	}
}
