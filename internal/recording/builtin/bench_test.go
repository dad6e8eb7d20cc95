package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// BenchFigures are the recorder's costs measured by TestBenchRecorder.
type benchFigures struct {
	Publishers        int     `json:"publishers"`
	RecordSeconds     float64 `json:"record_seconds"`
	RecorderCPUPct    float64 `json:"recorder_cpu_pct_of_one_core"`
	ProcessRSSMiB     float64 `json:"process_rss_mib"`
	HeapInUseMiB      float64 `json:"go_heap_inuse_mib"`
	ComposeSeconds    float64 `json:"compose_wall_seconds"`
	ComposeCPUSeconds float64 `json:"compose_ffmpeg_cpu_seconds"`
	ComposePerMinute  float64 `json:"compose_wall_seconds_per_meeting_minute"`
	FileMiB           float64 `json:"file_mib"`
}

// TestBenchRecorder measures the recorder while it records 2 publishers (VP8 640x360 25 fps
// + Opus, published from a child process so this process's CPU is the recorder's), then
// the composition time per minute of meeting. It runs with PARLEY_BENCH=1 and prints one
// "BENCH {json}" line; PARLEY_BENCH_SECONDS sets the recording length (default 30).
func TestBenchRecorder(t *testing.T) {
	if os.Getenv("PARLEY_BENCH") != "1" {
		t.Skip("set PARLEY_BENCH=1 to measure the recorder")
	}
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_SECONDS")); err == nil && v > 5 {
		secs = v
	}
	e := newEnv(t, false)
	defer startBenchPublishers(t, e, "bench")()

	began := time.Now()
	startRecording(t, e.rec, "rec-bench", "bench")
	waitFor(t, 20*time.Second, func() bool { return videoTracksStarted(e.rec, "rec-bench") >= 2 })
	time.Sleep(2 * time.Second)
	u0, err := ReadUsage()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(secs)*time.Second - time.Since(began))
	u1, _ := ReadUsage()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stopAt := time.Now()
	stopRecording(t, e.rec, "rec-bench")
	u := e.rep.wait(t, recording.StatusComplete, 10*time.Minute)
	composed := time.Since(stopAt)
	u2, _ := ReadUsage()

	f := benchFigures{Publishers: 2, RecordSeconds: u.DurationSeconds, RecorderCPUPct: CPUPercent(u0, u1),
		ProcessRSSMiB: float64(u1.RSSBytes) / (1 << 20), HeapInUseMiB: float64(ms.HeapInuse) / (1 << 20),
		ComposeSeconds: composed.Seconds(), ComposeCPUSeconds: (u2.ChildCPU - u1.ChildCPU).Seconds(),
		ComposePerMinute: composed.Seconds() / (u.DurationSeconds / 60), FileMiB: float64(u.SizeBytes) / (1 << 20)}
	b, _ := json.Marshal(f)
	fmt.Printf("BENCH %s\n", b)
	t.Logf("recorder CPU %.2f%% of one core, RSS %.0f MiB, heap %.1f MiB; composition %.1fs for %.0fs (%.1fs per meeting minute, ffmpeg CPU %.1fs)",
		f.RecorderCPUPct, f.ProcessRSSMiB, f.HeapInUseMiB, f.ComposeSeconds, f.RecordSeconds, f.ComposePerMinute, f.ComposeCPUSeconds)
}

// startBenchPublishers creates room and runs TestHelperPublishers's two publishers in it
// from a child process (so this process's CPU is the recorder's); it returns once their
// four tracks are published, and the function that ends them.
func startBenchPublishers(t *testing.T, e *env, room string) func() {
	e.createRoom(t, room)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPublishers$", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_BENCH_PUBLISH="+e.lk.WSURL+" "+e.lk.APIKey+" "+e.lk.APISecret+" "+room)
	cmd.Stderr, cmd.Stdout = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	waitFor(t, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := e.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
		return err == nil && countPublished(res) >= 4
	})
	return stop
}

// TestHelperPublishers is the benchmark's publisher process, not a test.
func TestHelperPublishers(t *testing.T) {
	args := os.Getenv("PARLEY_BENCH_PUBLISH")
	if args == "" {
		t.Skip("publisher process for TestBenchRecorder")
	}
	var url, key, secret, room string
	if _, err := fmt.Sscan(args, &url, &key, &secret, &room); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"alice", "bob"} {
		m := genMedia(t, lktest.MediaSpec{Width: 640, Height: 360, FPS: 25, VideoKbps: 600, ToneHz: 440 + 220*i, Seconds: 4, StrictGOP: true})
		p, err := startPublisher(url, joinToken(key, secret, room, id, true), m)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
	}
	time.Sleep(time.Hour) // until the benchmark kills this process
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func videoTracksStarted(r *Recorder, id string) int {
	r.mu.Lock()
	s := r.sessions[id]
	r.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.man.Tracks {
		if t.Kind == "video" && t.Start >= 0 {
			n++
		}
	}
	return n
}

func countPublished(res *livekit.ListParticipantsResponse) int {
	n := 0
	for _, p := range res.Participants {
		n += len(p.Tracks)
	}
	return n
}
