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

// benchReady is "recording ready at stop": internal/recording/builtin's
// TestBenchReadyAtStop, which records a meeting of two publishers (1 minute live with real
// lksdk publishers; 10 and 30 minutes synthetic: track files of that length laid out like
// the recorder's, their segments composed as during the meeting), stops it and measures
// the time from stop to the stored MP4, and the recording's CPU (writing the tracks and
// every ffmpeg) per meeting minute. The file is checked with ffprobe (length, both
// streams, audio and video as long, every packet following the one before).
func (h *harness) benchReady(ctx context.Context) {
	const g = "recording ready at stop"
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-timeout", "45m", "-run", "^TestBenchReadyAtStop$", "-v", "./internal/recording/builtin")
	cmd.Env = append(os.Environ(), "PARLEY_BENCH=1", "PARLEY_BENCH_READY="+h.readyMinutes, "PARLEY_LIVEKIT_BIN="+h.lkBin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	type fig struct {
		Minutes        float64 `json:"minutes"`
		Synthetic      bool    `json:"synthetic"`
		ReadySeconds   float64 `json:"ready_seconds"`
		TailSeconds    float64 `json:"tail_seconds"`
		RecordCPU      float64 `json:"record_cpu_s_per_min"`
		ComposeCPU     float64 `json:"compose_cpu_s_per_min"`
		CPUPctOfCore   float64 `json:"cpu_pct_of_one_core"`
		Segments       int     `json:"segments"`
		AtStop         int     `json:"segments_composed_at_stop"`
		LoadAvg        string  `json:"load_average"`
		DurationSec    float64 `json:"duration_s"`
		VideoAudioDiff float64 `json:"video_audio_diff_s"`
		FileMiB        float64 `json:"file_mib"`
		Check          string  `json:"check"`
	}
	n := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "BENCH_READY ")
		var f fig
		if !ok || json.Unmarshal([]byte(rest), &f) != nil {
			continue
		}
		n++
		label := fmt.Sprintf("%.0f min, 2 publishers", f.Minutes)
		if f.Synthetic {
			label += ", synthetic track files"
		} else {
			label += ", live"
		}
		x := stat(g, "stop -> downloadable MP4, "+label, "s", []float64{f.ReadySeconds})
		x.Note = fmt.Sprintf("target < 10 s; %d of %d segments composed at stop (tail %.1fs); load average %s at stop; MP4 %.1fs, %.1f MiB; ffprobe: %s",
			f.AtStop, f.Segments, f.TailSeconds, f.LoadAvg, f.DurationSec, f.FileMiB, f.Check)
		h.rep.add(x)
		x = stat(g, "recording CPU per meeting minute, "+label, "% of a core", []float64{f.CPUPctOfCore})
		rec := "recording (writing the tracks)"
		if f.Synthetic {
			rec = "recording as measured live"
		}
		x.Note = fmt.Sprintf("target <= 50%%; per meeting minute: %s %.1f s + composition (ffmpeg) %.1f s CPU", rec, f.RecordCPU, f.ComposeCPU)
		h.rep.add(x)
	}
	if n == 0 {
		reason := "TestBenchReadyAtStop printed no BENCH_READY line"
		if err != nil {
			reason = "go test TestBenchReadyAtStop: " + short(err.Error()+" "+lastLine(out.String()))
		}
		h.rep.na(g, "stop -> downloadable MP4", "s", reason)
	}
}
