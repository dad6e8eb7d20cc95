// Package lktest starts a real livekit-server for integration tests, on free loopback ports.
package lktest

import (
	"bytes"
	"context"
	"fmt"
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

// Server is a running livekit-server.
type Server struct {
	Port       int
	WSURL      string // ws://127.0.0.1:port, for clients
	HTTPURL    string // http://127.0.0.1:port, for RoomService
	APIKey     string
	APISecret  string
	ConfigFile string
	cmd        *exec.Cmd
	mu         sync.Mutex
	out        bytes.Buffer
	done       chan struct{}
}

// Options tune the server.
type Options struct {
	WebhookURL string // when set, LiveKit posts webhooks there
	RedisAddr  string // when set, the node joins a Redis-coordinated cluster
	APIKey     string // default "devkey"
	APISecret  string // default a 40-character test secret
	ExtraYAML  string // appended verbatim
}

// Start runs livekit-server and waits until GET / answers OK. It is stopped at cleanup. Its
// ports are free ones; when another process takes one between the choice and LiveKit's bind,
// it starts again on other ports.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.APIKey == "" {
		o.APIKey = "devkey"
	}
	if o.APISecret == "" {
		o.APISecret = "lktest-secret-0123456789-0123456789-abcd"
	}
	for attempt := 1; ; attempt++ {
		s := configure(t, o)
		err := s.launch(t)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		if attempt == 3 || !strings.Contains(s.Output(), "address already in use") {
			t.Fatal(err)
		}
	}
}

// configure picks free ports and writes the server's configuration file.
func configure(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{Port: testenv.FreePort(t), APIKey: o.APIKey, APISecret: o.APISecret, done: make(chan struct{})}
	tcp := testenv.FreePort(t)
	udp := testenv.FreeUDPRange(t, 30)
	s.WSURL = fmt.Sprintf("ws://127.0.0.1:%d", s.Port)
	s.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", s.Port)
	var y strings.Builder
	fmt.Fprintf(&y, "port: %d\nbind_addresses: [\"127.0.0.1\"]\nkeys:\n  %s: %s\n", s.Port, o.APIKey, o.APISecret)
	fmt.Fprintf(&y, "rtc:\n  tcp_port: %d\n  port_range_start: %d\n  port_range_end: %d\n  node_ip: 127.0.0.1\n  use_external_ip: false\n  enable_loopback_candidate: true\n", tcp, udp, udp+29)
	y.WriteString("room:\n  auto_create: false\n  empty_timeout: 300\n  departure_timeout: 20\nlogging:\n  level: info\n  json: true\n")
	if o.WebhookURL != "" {
		fmt.Fprintf(&y, "webhook:\n  api_key: %s\n  urls: [%q]\n", o.APIKey, o.WebhookURL)
	}
	if o.RedisAddr != "" {
		fmt.Fprintf(&y, "redis:\n  address: %s\n", o.RedisAddr)
	}
	y.WriteString(o.ExtraYAML)
	s.ConfigFile = filepath.Join(t.TempDir(), "livekit.yaml")
	if err := os.WriteFile(s.ConfigFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	if err := s.launch(t); err != nil {
		t.Fatal(err)
	}
}

// launch starts the process and waits until it answers; a process that exits or does not
// answer within 20 s is an error (and is gone).
func (s *Server) launch(t testing.TB) error {
	t.Helper()
	s.cmd = exec.Command(testenv.LiveKitBinary(t), "--config", s.ConfigFile)
	s.cmd.Stdout, s.cmd.Stderr = (*lockedWriter)(s), (*lockedWriter)(s)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start livekit-server: %w", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("livekit-server exited during startup:\n%s", s.Output())
		default:
		}
		if Healthy(s.HTTPURL) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("livekit-server not ready after 20s:\n%s", s.Output())
}

// Restart stops the server (SIGKILL when kill is true) and starts it again on the same ports.
func (s *Server) Restart(t testing.TB, kill bool) {
	t.Helper()
	if kill {
		s.Kill()
	} else {
		s.Stop()
	}
	s.start(t)
}

// StartAgain starts a server that was stopped (Stop or Kill) again, on the same ports and
// keys: for tests of what happens while LiveKit is away.
func (s *Server) StartAgain(t testing.TB) {
	t.Helper()
	s.start(t)
}

// Kill sends SIGKILL and waits for the process to go.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop sends SIGTERM (repeated), then SIGKILL after 5 s.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	// LiveKit ignores a SIGTERM that arrives while it finishes starting, and a second one
	// skips waiting for participants: repeat it until it exits, SIGKILL after 5 s.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
			return
		case <-deadline:
			s.Kill()
			return
		case <-tick.C:
		}
	}
}

// Output is everything the server printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

type lockedWriter Server

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

// Healthy reports whether LiveKit answers GET / with OK.
func Healthy(httpURL string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, httpURL+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var b [16]byte
	n, _ := resp.Body.Read(b[:])
	return resp.StatusCode == 200 && strings.TrimSpace(string(b[:n])) == "OK"
}
