package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// recorderAlone runs the recorder owner's own measurement, TestBenchRecorder in
// internal/recording/builtin (the recorder alone in a test process, publishers in another),
// and adds its figures next to the end-to-end ones. It needs `go test`, so it compiles that
// test package; -recorder-test=false skips it.
func (h *harness) recorderAlone(ctx context.Context) {
	const g = "recorder"
	name := "recorder alone: CPU, 2 publishers"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", "^TestBenchRecorder$", "-v", "./internal/recording/builtin")
	cmd.Env = append(os.Environ(), "PARLEY_BENCH=1", "PARLEY_BENCH_SECONDS=15", "PARLEY_LIVEKIT_BIN="+h.lkBin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		h.rep.na(g, name, "% of a core", "go test TestBenchRecorder: "+short(err.Error()+" "+lastLine(out.String())))
		return
	}
	var f struct {
		RecordSeconds     float64 `json:"record_seconds"`
		RecorderCPUPct    float64 `json:"recorder_cpu_pct_of_one_core"`
		ProcessRSSMiB     float64 `json:"process_rss_mib"`
		HeapInUseMiB      float64 `json:"go_heap_inuse_mib"`
		ComposeSeconds    float64 `json:"compose_wall_seconds"`
		ComposeCPUSeconds float64 `json:"compose_ffmpeg_cpu_seconds"`
		ComposePerMinute  float64 `json:"compose_wall_seconds_per_meeting_minute"`
	}
	found := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "BENCH "); ok {
			found = json.Unmarshal([]byte(rest), &f) == nil
		}
	}
	if !found {
		h.rep.na(g, name, "% of a core", "TestBenchRecorder printed no BENCH line (skipped?)")
		return
	}
	one := func(n, unit string, v float64, note string) {
		x := stat(g, n, unit, []float64{v})
		x.Note = note
		h.rep.add(x)
	}
	src := fmt.Sprintf("builtin TestBenchRecorder, %.0fs recorded", f.RecordSeconds)
	one(name, "% of a core", f.RecorderCPUPct, src)
	one("recorder alone: process RSS", "MiB", f.ProcessRSSMiB, src)
	one("recorder alone: Go heap in use", "MiB", f.HeapInUseMiB, src)
	one("recorder alone: stop -> complete per meeting minute", "s", f.ComposePerMinute,
		fmt.Sprintf("%.1fs wall, ffmpeg CPU after stop %.1fs (segments are composed during the meeting)", f.ComposeSeconds, f.ComposeCPUSeconds))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
