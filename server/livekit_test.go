package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/api/openapitest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// envValue is the last value of key in env.
func envValue(env []string, key string) string {
	v := ""
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			v = strings.TrimPrefix(e, key+"=")
		}
	}
	return v
}

// readyz returns /readyz's status code and its livekit check.
func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Checks["livekit"]
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, within)
	return 0
}

var readyPID = regexp.MustCompile(`msg="livekit (?:ready|restarted)".* pid=(\d+)`)

// liveKitPID is the pid of the last LiveKit the supervisor reported ready.
func liveKitPID(t *testing.T, p *proc) int {
	t.Helper()
	m := readyPID.FindAllStringSubmatch(p.Output(), -1)
	if len(m) == 0 {
		t.Fatalf("no \"livekit ready\" line in the output:\n%s", p.Output())
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	return pid
}

type overviewLiveKit struct {
	Mode, State, Version string
	Restarts             int
}

// adminOverviewLiveKit reads GET /api/admin/overview's livekit.
func adminOverviewLiveKit(t *testing.T, addr string) overviewLiveKit {
	t.Helper()
	var body struct{ LiveKit overviewLiveKit }
	adminGet(t, addr, "/api/admin/overview", &body)
	return body.LiveKit
}

// adminGet logs in as the bootstrap admin and decodes the 200 answer of GET path into out.
func adminGet(t *testing.T, addr, path string, out any) {
	t.Helper()
	client := openapitest.Client(http.DefaultClient, api.OpenAPIYAML(), t.Errorf)
	resp, err := client.Post("http://"+addr+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@example.com","password":"admin-password-1234"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ AccessToken string }
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+login.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
}

// processGone: no such process, or a zombie (dead, waiting for a reaper: once Parley is
// killed its child is reparented, and a container's init may reap late).
func processGone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	return len(bytes.TrimSpace(rest)) > 0 && bytes.TrimSpace(rest)[0] == 'Z'
}

// TestEmbeddedLiveKitThroughMain: parley starts LiveKit before it says it listens, heals a
// kill -9, and takes LiveKit and its secret-bearing config with it when it stops.
func TestEmbeddedLiveKitThroughMain(t *testing.T) {
	env := testEnv(t)
	t0 := time.Now()
	p := startParley(t, env)
	t.Logf("parley start to listening (LiveKit ready): %s", time.Since(t0))
	if code, lk := readyz(t, p.addr); code != 200 || lk != "ok" {
		t.Fatalf("/readyz = %d livekit=%q, want 200 ok", code, lk)
	}
	cfgFile := filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "run", "livekit.yaml")
	if fi, err := os.Stat(cfgFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v (mode %v), want 0600", cfgFile, err, fi)
	}
	pid := liveKitPID(t, p)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 2*time.Second, "ready again after kill -9 of LiveKit", func() bool {
		return strings.Contains(p.Output(), `msg="livekit restarted"`)
	})
	t.Logf("kill -9 to ready: %s", took)
	if code, lk := readyz(t, p.addr); code != 200 || lk != "ok" {
		t.Errorf("/readyz after the restart = %d %q", code, lk)
	}
	newPID := liveKitPID(t, p)
	if resp, err := http.Get("http://" + p.addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`parley_livekit_state{state="ready"} 1`, "parley_livekit_restarts_total 1", "parley_livekit_ready_seconds_count 2"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	}
	if lk := adminOverviewLiveKit(t, p.addr); lk.State != "ready" || lk.Restarts != 1 || lk.Version != "1.13.5" || lk.Mode != "embedded" {
		t.Errorf("admin overview livekit = %+v, want ready, restarts 1, version 1.13.5", lk)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("parley exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parley did not stop within 10s")
	}
	if !processGone(newPID) {
		t.Errorf("LiveKit %d survived parley's shutdown", newPID)
	}
	if _, err := os.Stat(cfgFile); !os.IsNotExist(err) {
		t.Errorf("config file survived the shutdown: %v", err)
	}
}

// TestKilledParleyLeavesNoLiveKit: SIGKILL of parley takes LiveKit down (Pdeathsig); the next
// start removes the config file the killed run left.
func TestKilledParleyLeavesNoLiveKit(t *testing.T) {
	env := testEnv(t)
	p := startParley(t, env)
	pid := liveKitPID(t, p)
	_ = p.cmd.Process.Kill()
	<-p.done
	eventually(t, 2*time.Second, "LiveKit gone with its parent", func() bool { return processGone(pid) })
	cfgFile := filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "run", "livekit.yaml")
	if _, err := os.Stat(cfgFile); err != nil {
		t.Fatalf("a killed run should leave its config file behind (the case under test): %v", err)
	}
	p2 := startParley(t, env)
	if !strings.Contains(p2.Output(), "removed LiveKit config files left by a killed run") {
		t.Errorf("the stale config was not reported removed:\n%s", p2.Output())
	}
	if code, lk := readyz(t, p2.addr); code != 200 || lk != "ok" {
		t.Errorf("/readyz = %d %q", code, lk)
	}
}

// runParleyToExit runs parley expecting it to fail at startup and returns its output.
func runParleyToExit(t *testing.T, env []string, within time.Duration) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	t0 := time.Now()
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(within + 5*time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("parley still running after %s", within+5*time.Second)
	}
	t.Logf("parley exited after %s: %v", time.Since(t0), err)
	if err == nil {
		t.Fatalf("parley exited 0, want a startup error:\n%s", out)
	}
	if time.Since(t0) > within {
		t.Errorf("startup error took %s, want < %s", time.Since(t0), within)
	}
	return string(out)
}

func TestLiveKitStartupErrorsThroughMain(t *testing.T) {
	const key, secret = "statickey", "static-secret-0123456789-0123456789-abc"
	t.Run("refused static config carries LiveKit's reason", func(t *testing.T) {
		env := testEnv(t, "PARLEY_LIVEKIT_API_KEY="+key, "PARLEY_LIVEKIT_API_SECRET="+secret)
		static := fmt.Sprintf("port: %s\nkeys:\n  %s: %s\nrtc:\n  tcp_port: %s\n  udp_port: %s\n  node_ip: 127.0.0.1\n  use_external_ip: false\nturn:\n  enabled: true\n  tls_port: %d\n",
			envValue(env, "PARLEY_LIVEKIT_PORT"), key, secret, envValue(env, "PARLEY_LIVEKIT_RTC_TCP_PORT"), envValue(env, "PARLEY_LIVEKIT_RTC_UDP_PORT_START"), testenv.FreePort(t))
		path := filepath.Join(t.TempDir(), "livekit.yaml")
		os.WriteFile(path, []byte(static), 0o600)
		out := runParleyToExit(t, append(env, "LIVEKIT_CONFIG_PATH="+path), 5*time.Second)
		if !strings.Contains(out, "TURN domain required") {
			t.Errorf("output lacks LiveKit's reason:\n%s", out)
		}
	})
	t.Run("port taken is named", func(t *testing.T) {
		env := testEnv(t)
		port := envValue(env, "PARLEY_LIVEKIT_PORT")
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out := runParleyToExit(t, env, 5*time.Second)
		if !strings.Contains(out, "port "+port+" (livekit.port)") {
			t.Errorf("output does not name port %s:\n%s", port, out)
		}
	})
	t.Run("missing binary lists the places searched", func(t *testing.T) {
		env := testEnv(t, "PARLEY_LIVEKIT_BINARY=", "PARLEY_LIVEKIT_BIN=", "PATH=/nonexistent")
		out := runParleyToExit(t, env, 5*time.Second)
		if !strings.Contains(out, "make livekit") || !strings.Contains(out, "PATH") {
			t.Errorf("output does not explain the missing binary:\n%s", out)
		}
	})
}

// TestExternalLiveKitThroughMain: external mode against a separately started livekit-server.
func TestExternalLiveKitThroughMain(t *testing.T) {
	srv := lktest.Start(t, lktest.Options{})
	external := func(secret string) []string {
		return testEnv(t, "PARLEY_LIVEKIT_EXTERNAL=true", "PARLEY_LIVEKIT_HOST="+srv.WSURL, "PARLEY_LIVEKIT_INTERNAL_HOST="+srv.HTTPURL,
			"PARLEY_LIVEKIT_API_KEY="+srv.APIKey, "PARLEY_LIVEKIT_API_SECRET="+secret)
	}
	out := runParleyToExit(t, external("wrong-secret-0123456789-0123456789-0123"), 5*time.Second)
	if !strings.Contains(out, "LiveKit rejected the API key") {
		t.Errorf("wrong secret: output lacks a clear error:\n%s", out)
	}

	p := startParley(t, external(srv.APISecret))
	if code, lk := readyz(t, p.addr); code != 200 || lk != "ok" {
		t.Fatalf("/readyz = %d %q", code, lk)
	}
	srv.Stop()
	took := eventually(t, 10*time.Second, "/readyz 503 unreachable", func() bool {
		code, lk := readyz(t, p.addr)
		return code == 503 && strings.HasPrefix(lk, "unreachable: ")
	})
	t.Logf("external LiveKit stopped -> unreachable in %s", took)
	srv.StartAgain(t)
	took = eventually(t, 10*time.Second, "/readyz 200 again", func() bool {
		code, lk := readyz(t, p.addr)
		return code == 200 && lk == "ok"
	})
	t.Logf("external LiveKit back -> ready in %s", took)
}
