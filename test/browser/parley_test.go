package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// Credentials of the admin that Parley bootstraps at its first start.
const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-secret-pass-1"
)

// server is a running Parley under test.
type server struct {
	URL    string
	PID    int          // the Parley process; 0 for PARLEY_TEST_URL
	client *http.Client // the API calls' client (one that trusts Parley's certificate)
}

// launch changes how startParleyWith runs Parley: its port and public URL, extra
// environment, and the client that reaches it (for HTTPS with a test CA).
type launch struct {
	port   int
	url    string
	env    []string
	client *http.Client
	config string // when set, written to the data directory's config.yaml (lists need a file)
}

// startParley starts the real Parley binary with embedded LiveKit on free ports and waits for
// /readyz. PARLEY_TEST_URL points the tests at an already running Parley instead.
func startParley(t *testing.T) *server {
	t.Helper()
	if u := os.Getenv("PARLEY_TEST_URL"); u != "" {
		return &server{URL: strings.TrimSuffix(u, "/"), client: http.DefaultClient}
	}
	return startParleyWith(t, launch{})
}

// startParleyWith is startParley with the changes of o.
func startParleyWith(t *testing.T, o launch) *server {
	t.Helper()
	root := testenv.RepoRoot()
	bin := parleyBinary(t, root)
	lk := filepath.Join(root, "bin", "livekit-server")
	if _, err := os.Stat(lk); err != nil {
		requireOrSkip(t, "LiveKit binary %s is missing (run make): %v", lk, err)
	}

	port, url, client := o.port, o.url, o.client
	if port == 0 {
		port = testenv.FreePort(t)
	}
	if url == "" {
		url = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	if client == nil {
		client = http.DefaultClient
	}
	udpStart := testenv.FreeUDPRange(t, 20)
	dataDir := t.TempDir()
	if o.config != "" {
		if err := os.WriteFile(filepath.Join(dataDir, "config.yaml"), []byte(o.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin)
	cmd.Dir = dataDir
	cmd.Env = append(os.Environ(),
		"HOME="+dataDir,
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port),
		"PARLEY_SERVER_PUBLIC_URL="+url,
		"PARLEY_SERVER_DATA_DIR="+dataDir,
		fmt.Sprintf("PARLEY_LIVEKIT_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_TCP_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_START=%d", udpStart),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_END=%d", udpStart+19),
		// TURN comes on with TLS: never on the default 3478/5349 another Parley may hold.
		fmt.Sprintf("PARLEY_LIVEKIT_TURN_UDP_PORT=%d", testenv.FreeUDPRange(t, 1)),
		fmt.Sprintf("PARLEY_LIVEKIT_TURN_TLS_PORT=%d", testenv.FreePort(t)),
		"PARLEY_LIVEKIT_BINARY="+lk,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL="+adminEmail,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD="+adminPassword,
		// Every test's browser and API calls come from 127.0.0.1: limits are not what these test.
		"PARLEY_SERVER_RATE_LIMITS_GUEST_JOINS=10000", "PARLEY_SERVER_RATE_LIMITS_REGISTRATIONS=10000",
		"PARLEY_SERVER_RATE_LIMITS_ROOM_CREATIONS=10000", "PARLEY_SERVER_RATE_LIMITS_RECORDING_STARTS=10000",
		"PARLEY_SERVER_RATE_LIMITS_EVENT_STREAMS=10000",
	)
	cmd.Env = append(cmd.Env, o.env...)
	logPath := filepath.Join(outDir(t), "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("parley exited before it was ready: %v (log: %s)\n%s", err, logPath, tail(logPath))
		default:
		}
		res, err := client.Get(url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley not ready after 60 s (log: %s)\n%s", logPath, tail(logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s := &server{URL: url, PID: cmd.Process.Pid, client: client}
	// A binary built without -tags webui serves the "not built" page: the tests cannot run on it.
	if body := s.getText(t, "/"); strings.Contains(body, "UI is not built") {
		t.Fatalf("%s was built without the web UI (-tags webui); run make build, or remove it so the test builds one", bin)
	}
	return s
}

// parleyBinary is PARLEY_BINARY, else bin/parley, else a fresh `go build -tags webui`.
func parleyBinary(t *testing.T, root string) string {
	t.Helper()
	if b := os.Getenv("PARLEY_BINARY"); b != "" {
		return b
	}
	if b := filepath.Join(root, "bin", "parley"); fileExists(b) {
		return b
	}
	if !fileExists(filepath.Join(root, "web", "dist", "index.html")) {
		requireOrSkip(t, "web/dist is missing: run `npm ci && npm run build` in web/ (or make build)")
	}
	b := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-tags", "webui", "-o", b, "./server")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags webui ./server: %v\n%s", err, out)
	}
	return b
}

func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("PARLEY_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING BROWSER TEST: " + msg + " (set PARLEY_REQUIRE_SERVICES=1 to make this a failure)")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// outDir is where screenshots and logs go: $PARLEY_TEST_OUT or test/browser/out, per test.
func outDir(t *testing.T) string {
	base := os.Getenv("PARLEY_TEST_OUT")
	if base == "" {
		base = "out"
	}
	dir := filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (s *server) getText(t *testing.T, path string) string {
	t.Helper()
	res, err := s.client.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// call sends a JSON request to the API and decodes the answer into out (when not nil).
func (s *server) call(t *testing.T, method, path, token string, body, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, s.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
}

type authAnswer struct {
	AccessToken string `json:"accessToken"`
	User        struct {
		ID string `json:"id"`
	} `json:"user"`
}

// registerAPI registers a user over HTTP and returns its access token.
func (s *server) registerAPI(t *testing.T, email, name string) string {
	t.Helper()
	var a authAnswer
	s.call(t, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": "password-123", "name": name}, &a)
	return a.AccessToken
}
