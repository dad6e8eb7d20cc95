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
	"strings"
	"syscall"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/testenv"
)

// startVersityGW runs the test S3 server (bin/versitygw, built from tools/s3server) with a
// bucket, or skips loudly.
func startVersityGW(t *testing.T) (endpoint string) {
	t.Helper()
	bin := filepath.Join(testenv.RepoRoot(), "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		testenv.SkipOrFail(t, "the S3 server bin/versitygw (cd tools/s3server && go build -o ../../bin/versitygw github.com/versity/versitygw/cmd/versitygw)", err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "recordings"), 0o755); err != nil { // the bucket
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(bin, "--port", addr, "--access", "e2e", "--secret", "e2e-secret-0123456789", "--quiet", "posix", root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, 10*time.Second, "versitygw listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client // nil: http.DefaultClient
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	hc := http.DefaultClient
	if c.http != nil {
		hc = c.http
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (c client) recordings(room string) []map[string]any {
	_, out := c.do("GET", "/api/recordings?room="+room, nil)
	var list []map[string]any
	items, _ := out["items"].([]any)
	for _, it := range items {
		list = append(list, it.(map[string]any))
	}
	return list
}

// TestRecordingThroughMain: Parley with the Egress backend and S3 storage (both from the
// environment), the embedded LiveKit with no egress worker. A participant joining an
// autoRecord room starts a recording by itself (room_started on the event bus); LiveKit
// cannot start it, so it fails with the reason, and a manual start answers 503.
func TestRecordingThroughMain(t *testing.T) {
	s3 := startVersityGW(t)
	env := testEnv(t, "PARLEY_RECORDING_BACKEND=egress", "PARLEY_RECORDING_STORAGE_TYPE=s3",
		"PARLEY_RECORDING_STORAGE_BUCKET=recordings", "PARLEY_RECORDING_STORAGE_ENDPOINT="+s3,
		"PARLEY_RECORDING_STORAGE_PATH_STYLE=true", "PARLEY_RECORDING_STORAGE_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=e2e", "AWS_SECRET_ACCESS_KEY=e2e-secret-0123456789")
	p := startParley(t, env)
	if strings.Contains(p.Output(), "recording storage is not reachable") {
		t.Fatalf("S3 storage with credentials from the environment did not answer:\n%s", p.Output())
	}
	c := client{t: t, base: "http://" + p.addr}
	code, login := c.do("POST", "/api/auth/login", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	c.token = login["accessToken"].(string)
	if code, out := c.do("POST", "/api/rooms", map[string]any{"name": "standup", "autoRecord": true}); code != 201 {
		t.Fatalf("create room: %d %v", code, out)
	}
	code, join := c.do("POST", "/api/rooms/standup/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join: %d %v", code, join)
	}
	t0 := time.Now()
	room, err := lksdk.ConnectToRoomWithToken(join["url"].(string), join["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer room.Disconnect()

	var rec map[string]any
	took := eventually(t, 10*time.Second, "auto-record to start on room_started", func() bool {
		list := c.recordings("standup")
		if len(list) == 1 {
			rec = list[0]
		}
		return rec != nil
	})
	t.Logf("join to auto recording listed: %s (polled for %s)", time.Since(t0).Round(time.Millisecond), took.Round(time.Millisecond))
	if rec["startedBy"] != "auto" || rec["backend"] != "egress" {
		t.Fatalf("auto recording: %v", rec)
	}
	if rec["status"] == "starting" {
		if code, out := c.do("POST", "/api/rooms/standup/recordings", nil); code != 409 || out["error"].(map[string]any)["code"] != "already_recording" {
			t.Fatalf("manual start during the auto one: %d %v", code, out)
		}
		if code, out := c.do("GET", "/api/admin/overview", nil); code == 200 {
			if n := out["counts"].(map[string]any)["activeRecordings"]; n != 1.0 {
				t.Errorf("admin overview activeRecordings = %v, want 1", n)
			}
		}
	}
	eventually(t, 15*time.Second, "the auto recording to fail (no egress worker)", func() bool {
		list := c.recordings("standup")
		rec = list[0]
		return rec["status"] == "failed"
	})
	if reason, _ := rec["error"].(string); !strings.Contains(reason, "egress") {
		t.Fatalf("failure reason: %q", reason)
	}
	t1 := time.Now()
	code, out := c.do("POST", "/api/rooms/standup/recordings", nil)
	if code != 503 || out["error"].(map[string]any)["code"] != "egress_unavailable" {
		t.Fatalf("manual start: %d %v", code, out)
	}
	t.Logf("manual start without an egress worker: 503 egress_unavailable after %s", time.Since(t1).Round(time.Millisecond))
}
