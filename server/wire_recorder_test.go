package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestBuiltinRecordingThroughMain: Parley with the built-in recorder and fs storage. A
// recording started and stopped through the API while a participant publishes becomes
// complete and its file is an H.264 + AAC MP4. A second recording is interrupted by
// kill -9 of Parley: the next Parley on the same data directory composes it and completes it.
func TestBuiltinRecordingThroughMain(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg", err)
	}
	env := testEnv(t, "PARLEY_RECORDING_BACKEND=builtin")
	p := startParley(t, env)
	c := loginAdmin(t, p.addr)
	if code, out := c.do("POST", "/api/rooms", map[string]any{"name": "standup"}); code != 201 {
		t.Fatalf("create room: %d %v", code, out)
	}
	code, join := c.do("POST", "/api/rooms/standup/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join: %d %v", code, join)
	}
	stop := publishSynthetic(t, join["url"].(string), join["token"].(string))
	defer stop()

	id := startAPIRecording(t, c)
	time.Sleep(6 * time.Second)
	if code, out := c.do("POST", "/api/recordings/"+id+"/stop", nil); code != 200 {
		t.Fatalf("stop: %d %v", code, out)
	}
	rec := waitRecording(t, c, id, "complete", 90*time.Second)
	if d, _ := rec["durationSeconds"].(float64); d < 5 || d > 8 {
		t.Errorf("durationSeconds = %v, want about 6", rec["durationSeconds"])
	}
	file := download(t, c, id)
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file).Output()
	if err != nil || strings.Fields(string(probe))[0] != "h264" || strings.Fields(string(probe))[1] != "aac" {
		t.Errorf("ffprobe: %q, %v; want h264 then aac", probe, err)
	}

	// Parley dies mid-recording; the next one composes what was written.
	id2 := startAPIRecording(t, c)
	time.Sleep(5 * time.Second)
	_ = p.cmd.Process.Kill()
	<-p.done
	stop()
	p2 := startParley(t, env)
	c2 := loginAdmin(t, p2.addr)
	rec2 := waitRecording(t, c2, id2, "complete", 90*time.Second)
	if d, _ := rec2["durationSeconds"].(float64); d < 3 || d > 7 {
		t.Errorf("recovered durationSeconds = %v, want about 5", rec2["durationSeconds"])
	}
	if out := p2.Output(); !strings.Contains(out, "composing a recording interrupted by a restart") {
		t.Errorf("the restarted Parley did not say it recovered the recording:\n%s", out)
	}
	t.Logf("recovered recording: %v", rec2)
}

func loginAdmin(t *testing.T, addr string) client {
	c := client{t: t, base: "http://" + addr}
	code, login := c.do("POST", "/api/auth/login", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	c.token = login["accessToken"].(string)
	return c
}

func startAPIRecording(t *testing.T, c client) string {
	t.Helper()
	code, rec := c.do("POST", "/api/rooms/standup/recordings", nil)
	if code != 201 {
		t.Fatalf("start recording: %d %v", code, rec)
	}
	id := rec["id"].(string)
	waitRecording(t, c, id, "active", 20*time.Second)
	return id
}

func waitRecording(t *testing.T, c client, id, status string, within time.Duration) map[string]any {
	t.Helper()
	var rec map[string]any
	eventually(t, within, "recording "+id+" "+status, func() bool {
		_, rec = c.do("GET", "/api/recordings/"+id, nil)
		if s := rec["status"]; s == "failed" || s == "aborted" {
			t.Fatalf("recording %s: %v", s, rec)
		}
		return rec["status"] == status
	})
	return rec
}

func download(t *testing.T, c client, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/recordings/"+id+"/file", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	path := filepath.Join(t.TempDir(), "rec.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	return path
}

// publishSynthetic joins with token and publishes looped Opus and VP8 encoded by ffmpeg.
func publishSynthetic(t *testing.T, url, token string) (stop func()) {
	t.Helper()
	m, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Width: 320, Height: 240, FPS: 15, VideoKbps: 200, ToneHz: 440, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := lktest.Publish(url, token, m, lktest.PublishOptions{AudioName: "MICROPHONE", VideoName: "CAMERA"})
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	return p.Close
}
