// Package cluster tests Parley the way a scale-out deployment runs it: the real parley
// binary in external LiveKit mode against a two-node livekit-server cluster sharing the local
// Redis, and several parley processes sharing one PostgreSQL database.
package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/testenv"
)

// parleyBin is built once for the package by TestMain.
var parleyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lksdk.SetLogger(protologger.GetDiscardLogger()) // pion's connection chatter hides the failures
	parleyBin = filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", parleyBin, "./server")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	lkKey        = "devkey"
	lkSecret     = "lktest-secret-0123456789-0123456789-abcd"
	jwtSecret    = "cluster-test-jwt-secret-0123456789-abcdefgh"
	adminEmail   = "admin@example.com"
	adminPass    = "admin-password-123"
	reconcileInt = time.Second
)

// parley is one running parley process.
type parley struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *parley) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is what the process printed (logs), for failure messages.
func (p *parley) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// parleyEnv is the configuration every instance shares: external LiveKit, shared secrets.
func parleyEnv(lkWS, lkHTTP string) map[string]string {
	return map[string]string{
		"PARLEY_LIVEKIT_EXTERNAL":              "true",
		"PARLEY_LIVEKIT_HOST":                  lkWS,
		"PARLEY_LIVEKIT_INTERNAL_HOST":         lkHTTP,
		"PARLEY_LIVEKIT_API_KEY":               lkKey,
		"PARLEY_LIVEKIT_API_SECRET":            lkSecret,
		"PARLEY_LIVEKIT_RECONCILE_INTERVAL":    reconcileInt.String(),
		"PARLEY_LIVEKIT_DEPARTURE_TIMEOUT":     "5s",
		"PARLEY_AUTH_JWT_SECRET":               jwtSecret,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD": adminPass,
		"PARLEY_LOG_LEVEL":                     "warn",
	}
}

// startParley runs the binary on port with env (plus a private data dir) and waits until
// /readyz answers 200. It is stopped (SIGTERM) at cleanup.
func startParley(t *testing.T, name string, port int, env map[string]string) *parley {
	t.Helper()
	p := &parley{Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	p.cmd = exec.Command(parleyBin)
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + p.cmd.Dir,
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port), "PARLEY_SERVER_PUBLIC_URL=" + p.URL,
		"PARLEY_SERVER_DATA_DIR=" + filepath.Join(p.cmd.Dir, "data")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- %s output (tail) ---\n%s", name, tail(p.Output(), 40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited during startup:\n%s", name, p.Output())
		default:
		}
		if code, _ := p.call("GET", "/readyz", "", nil); code == 200 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s:\n%s", name, tail(p.Output(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits up to 12 s (Parley's shutdown is bounded by 10 s).
func (p *parley) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(12 * time.Second):
		p.Kill()
	}
}

// Kill is a crash: SIGKILL, nothing released.
func (p *parley) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// call sends a JSON request and returns the status and body.
func (p *parley) call(method, path, token string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// must calls and decodes the answer, failing unless the status is want.
func (p *parley) must(t *testing.T, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	code, b := p.call(method, path, token, body)
	if code != want {
		t.Fatalf("%s %s %s: status %d %s, want %d", p.Name, method, path, code, b, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return out
}

// login returns an access and a refresh token.
func (p *parley) login(t *testing.T, email, password string) (access, refresh string) {
	t.Helper()
	g := p.must(t, 200, "POST", "/api/auth/login", "", map[string]any{"email": email, "password": password})
	return g["accessToken"].(string), g["refreshToken"].(string)
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Type string
	Data map[string]any
}

// subscribe opens an SSE stream (path, bearer token) and returns its events; it returns once
// the server says the stream is open, so no later event is missed.
func (p *parley) subscribe(t *testing.T, path, token string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequest("GET", p.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s GET %s: %v %v", p.Name, path, err, resp)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan sseEvent, 1024)
	open := make(chan struct{})
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == ": connected":
				close(open)
			case strings.HasPrefix(line, "event: "):
				ev.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data)
			case line == "" && ev.Type != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	select {
	case <-open:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s: the event stream did not open", p.Name, path)
	}
	return out
}

// eventually polls cond every 50 ms until it holds or d passes; it returns how long it took.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < d {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not after %v (last: %s)", what, d, last)
	return 0
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
