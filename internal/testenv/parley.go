package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Parley is a parley binary running as its own process, for tests that run the real thing
// (several instances, an upgrade from another build).
type Parley struct {
	Name string
	URL  string // http://<PARLEY_SERVER_LISTEN>
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *Parley) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is what the process printed (logs), for failure messages.
func (p *Parley) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// StartParley runs `bin serve` with exactly env (PARLEY_SERVER_LISTEN must be in it) and waits
// until /readyz answers 200, up to 60 s. It is stopped (SIGTERM) at cleanup, and its output
// is logged when the test failed.
func StartParley(t testing.TB, name, bin string, env []string) *Parley {
	t.Helper()
	listen := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PARLEY_SERVER_LISTEN="); ok {
			listen = v
		}
	}
	if listen == "" {
		t.Fatalf("start %s: env has no PARLEY_SERVER_LISTEN", name)
	}
	p := &Parley{Name: name, URL: "http://" + listen, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = env
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- %s output (tail) ---\n%s", name, Tail(p.Output(), 40))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited during startup:\n%s", name, p.Output())
		default:
		}
		if code, _ := p.Call("GET", "/readyz", "", nil); code == 200 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s:\n%s", name, Tail(p.Output(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop is what systemd's `stop` does: SIGTERM, then SIGKILL after 20 s (the unit's
// TimeoutStopSec; Parley's own shutdown is bounded by 10 s). It reports whether the process
// exited by itself.
func (p *Parley) Stop() bool {
	select {
	case <-p.done:
		return true
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(20 * time.Second):
		p.Kill()
		return false
	}
}

// Kill is a crash: SIGKILL, nothing released.
func (p *Parley) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// Call sends a JSON request (body nil for none) and returns the status and the raw answer;
// status 0 and the error text when the request failed.
func (p *Parley) Call(method, path, token string, body any) (int, []byte) {
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

// Must calls and decodes a JSON object, failing the test unless the status is want.
func (p *Parley) Must(t testing.TB, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	code, b := p.Call(method, path, token, body)
	if code != want {
		t.Fatalf("%s %s %s: status %d %s, want %d", p.Name, method, path, code, b, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return out
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Env is KEY=VALUE pairs from a map, for StartParley.
func Env(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%s", k, v))
	}
	return out
}
