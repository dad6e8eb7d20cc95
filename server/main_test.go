package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// TestMain lets a test re-run this binary as the real parley process (os/exec helper pattern).
func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_TEST_MAIN") == "1" {
		args := os.Args[:1]
		for _, a := range os.Args[1:] {
			if !strings.HasPrefix(a, "-test.") {
				args = append(args, a)
			}
		}
		os.Args = args
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a parley process started from the test binary.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) Write(b []byte) (int, error) { p.mu.Lock(); defer p.mu.Unlock(); return p.out.Write(b) }

// Output is what the process printed so far.
func (p *proc) Output() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }

// testEnv is a zero-config environment on free ports in a temp data dir.
func testEnv(t *testing.T, extra ...string) []string {
	port := testenv.FreePort(t)
	udp := testenv.FreeUDPRange(t, 20)
	env := append(os.Environ(), "PARLEY_TEST_MAIN=1",
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=http://127.0.0.1:%d", port),
		"PARLEY_SERVER_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("PARLEY_LIVEKIT_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_TCP_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_START=%d", udp),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_END=%d", udp+19),
		"PARLEY_LIVEKIT_BINARY="+testenv.LiveKitBinary(t),
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL=admin@example.com",
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD=admin-password-1234",
	)
	return append(env, extra...)
}

// startParley runs parley and waits until it prints that it listens.
func startParley(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("parley output:\n%s", p.Output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		const listening = "Parley is listening on "
		if out := p.Output(); strings.Contains(out, listening) {
			u := strings.Fields(out[strings.Index(out, listening)+len(listening):])[0]
			p.addr = u[strings.Index(u, "://")+3:] // http:// or https://
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("parley exited early (%v):\n%s", err, p.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("parley did not start:\n%s", p.Output())
	return nil
}

func TestGracefulShutdownDrainsInFlightRequest(t *testing.T) {
	p := startParley(t, testEnv(t))
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"nobody@example.com","password":"not-the-password"}`
	// Half a request is in flight when SIGTERM arrives.
	fmt.Fprintf(conn, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("connection closed before the in-flight request completed: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("in-flight request answered %d", resp.StatusCode)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v, want status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not stopped within 10 s of SIGTERM")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestCommands(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"version"}, func(string) string { return "" }, &out); err != nil || !strings.HasPrefix(out.String(), "parley ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	dir := t.TempDir()
	env := func(k string) string {
		return map[string]string{"PARLEY_SERVER_DATA_DIR": dir, "PARLEY_AUTH_JWT_SECRET": strings.Repeat("x", 40)}[k]
	}
	out.Reset()
	if err := run(ctx, []string{"config", "check"}, env, &out); err != nil {
		t.Fatalf("config check: %v", err)
	}
	if !strings.Contains(out.String(), "configuration OK") || strings.Contains(out.String(), strings.Repeat("x", 40)) {
		t.Errorf("config check must print the config with secrets masked:\n%s", out.String())
	}
	cfgFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(cfgFile, []byte("server:\n  listen: \":1\"\n  lisen: \":2\"\n"), 0o600)
	if err := run(ctx, []string{"--config", cfgFile, "config", "check"}, env, &out); err == nil || !strings.Contains(err.Error(), `line 3: unknown key "lisen"`) {
		t.Errorf("bad config: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate"}, env, &out); err != nil || !strings.Contains(out.String(), "migrations up to date") {
		t.Errorf("migrate: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"frobnicate"}, env, &out); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}
