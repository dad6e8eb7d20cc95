// Package cluster tests Parley the way a scale-out deployment runs it: the real parley
// binary in external LiveKit mode against a two-node livekit-server cluster sharing the local
// Redis, and several parley processes sharing one PostgreSQL database.
package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
type parley struct{ *testenv.Parley }

func (p *parley) call(method, path, token string, body any) (int, []byte) {
	return p.Call(method, path, token, body)
}

func (p *parley) must(t *testing.T, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	return p.Must(t, want, method, path, token, body)
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
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := append(testenv.Env(env), "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir(),
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port), "PARLEY_SERVER_PUBLIC_URL="+url,
		"PARLEY_SERVER_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	return &parley{testenv.StartParley(t, name, parleyBin, e)}
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

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
