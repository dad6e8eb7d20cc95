package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/livekit/lktest"
)

const roomRec = "bench-rec"

type recordingInfo struct {
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	Error           string  `json:"error"`
	DurationSeconds float64 `json:"durationSeconds"`
	SizeBytes       int64   `json:"sizeBytes"`
}

// benchRecorder: two real publishers (VP8 640x360 + Opus each) in a room; Parley's CPU and
// RSS while the built-in recorder writes their tracks, minus the same room unrecorded;
// then the composition after stop (ffmpeg children): wall time and CPU time.
func (h *harness) benchRecorder(ctx context.Context) {
	const g = "recorder"
	cpuName, rssName := "recorder CPU, 2 publishers", "Parley RSS while recording 2 publishers"
	na := func(reason string) {
		h.rep.na(g, cpuName, "% of a core", reason)
		h.rep.na(g, rssName, "MiB", reason)
	}
	if reason := h.authNA + h.roomsNA; reason != "" {
		na(reason)
		return
	}
	a := newAPI(h.main.base)
	bearer := h.admin.AccessToken
	if err := a.do(ctx, "GET", "/api/recordings?room="+roomJoin, bearer, nil, nil); err != nil {
		na("recordings: " + naReason(err))
		return
	}
	if err := a.createRoom(ctx, bearer, roomRec); err != nil {
		na("create room: " + naReason(err))
		return
	}
	// 10 s of test pattern (VP8 640x360 at 25 fps) and a tone (Opus), before any clock starts.
	c, err := lktest.SynthMedia(ctx, h.tmp, lktest.MediaSpec{Pattern: "testsrc", Width: 640, Height: 360, FPS: 25,
		VideoKbps: 600, GOP: 50, SampleRate: 48000, AudioKbps: 48, Seconds: 10})
	if err != nil {
		na(short(err.Error()))
		return
	}
	var pubs []*lktest.Publisher
	defer func() {
		for _, p := range pubs {
			p.Close()
		}
	}()
	for _, tok := range []string{h.user.AccessToken, h.admin.AccessToken} {
		j, err := a.join(ctx, tok, roomRec)
		if err != nil {
			na("join: " + naReason(err))
			return
		}
		p, err := lktest.Publish(j.URL, j.Token, c, lktest.PublishOptions{AudioName: "microphone", VideoName: "camera",
			Width: 640, Height: 360})
		if err != nil {
			na("publish: " + short(err.Error()))
			return
		}
		pubs = append(pubs, p)
	}
	pid := h.main.pid()
	time.Sleep(2 * time.Second) // let the publishers' bitrates settle
	const window = 3 * time.Second
	base := cpuPercent(pid, window)
	rssBase, _ := rssMB(pid)
	heapBase := h.main.metrics()["go_memstats_heap_inuse_bytes"] / (1 << 20)

	var rec recordingInfo
	if err := a.do(ctx, "POST", "/api/rooms/"+roomRec+"/recordings", bearer, map[string]any{}, &rec); err != nil {
		na("start recording: " + naReason(err))
		return
	}
	if err := waitRecording(ctx, a, bearer, rec.ID, 30*time.Second, "active"); err != nil {
		na(err.Error())
		return
	}
	active := time.Now()
	time.Sleep(time.Second)
	var cpu, rss, heap []float64
	for i := 0; i < 3; i++ {
		cpu = append(cpu, cpuPercent(pid, window)-base)
		r, _ := rssMB(pid)
		rss = append(rss, r)
		if v, ok := h.main.metrics()["go_memstats_heap_inuse_bytes"]; ok && heapBase > 0 {
			heap = append(heap, v/(1<<20)-heapBase)
		}
	}
	f := stat(g, cpuName, "% of a core", cpu)
	f.Note = fmt.Sprintf("Parley while recording minus unrecorded (%.0f%%); 3 windows of %s", base, window)
	h.rep.add(f)
	f = stat(g, rssName, "MiB", rss)
	f.Note = fmt.Sprintf("%.0f MiB with the same room unrecorded (RSS deltas are GC noise at this size)", rssBase)
	h.rep.add(f)
	if len(heap) > 0 {
		f = stat(g, "recorder Go heap in use, 2 publishers", "MiB", heap)
		f.Note = fmt.Sprintf("go_memstats_heap_inuse_bytes while recording minus unrecorded (%.1f MiB)", heapBase)
		h.rep.add(f)
	}

	// Composition: after stop, ffmpeg children compose the tracks into the MP4.
	_, cpuBefore := childrenCPU(pid)
	t0 := time.Now()
	recorded := t0.Sub(active)
	if err := a.do(ctx, "POST", "/api/recordings/"+rec.ID+"/stop", bearer, map[string]any{}, nil); err != nil {
		h.rep.na(g, "composition wall time", "s", "stop: "+naReason(err))
		return
	}
	for _, p := range pubs {
		p.Close()
	}
	pubs = nil
	peak := 0.0
	var final recordingInfo
	err = pollUntil(ctx, 120*time.Second, func() (bool, error) {
		if v := descendantsRSS(pid, "livekit-server"); v > peak {
			peak = v
		}
		var r recordingInfo
		if err := a.do(ctx, "GET", "/api/recordings/"+rec.ID, bearer, nil, &r); err != nil {
			return false, err
		}
		if r.Status == "failed" || r.Status == "aborted" {
			return false, fmt.Errorf("recording %s: %s", r.Status, short(r.Error))
		}
		final = r
		return r.Status == "complete", nil
	})
	if err != nil {
		h.rep.na(g, "composition wall time", "s", short(err.Error()))
		return
	}
	wall := time.Since(t0)
	_, cpuAfter := childrenCPU(pid)
	f = stat(g, "composition wall time", "s", []float64{wall.Seconds()})
	f.Note = fmt.Sprintf("stop -> complete, ~%.0fs recorded; MP4 %.1fs, %.1f MB", recorded.Seconds(),
		final.DurationSeconds, float64(final.SizeBytes)/1e6)
	h.rep.add(f)
	f = stat(g, "composition ffmpeg CPU time", "s", []float64{(cpuAfter - cpuBefore).Seconds()})
	f.Note = fmt.Sprintf("reaped children of Parley; peak children RSS %.0f MiB", peak)
	h.rep.add(f)
}

func waitRecording(ctx context.Context, a *api, bearer, id string, timeout time.Duration, want string) error {
	last := ""
	err := pollUntil(ctx, timeout, func() (bool, error) {
		var r recordingInfo
		if err := a.do(ctx, "GET", "/api/recordings/"+id, bearer, nil, &r); err != nil {
			return false, err
		}
		last = r.Status
		if r.Status == "failed" || r.Status == "aborted" {
			return false, fmt.Errorf("recording %s: %s", r.Status, short(r.Error))
		}
		return r.Status == want, nil
	})
	if err != nil && last != "" {
		return fmt.Errorf("%w (last status %s)", err, last)
	}
	return err
}

func pollUntil(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuPercent is pid's own CPU use over the next d, in percent of one core.
func cpuPercent(pid int, d time.Duration) float64 {
	_, _, c0, _ := procStat(pid)
	t0 := time.Now()
	time.Sleep(d)
	_, _, c1, _ := procStat(pid)
	return 100 * (c1 - c0).Seconds() / time.Since(t0).Seconds()
}

// childrenCPU is pid's own CPU time and that of its reaped children (cutime+cstime).
func childrenCPU(pid int) (self, reaped time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	tick := func(i int) time.Duration {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		return time.Duration(v) * 10 * time.Millisecond
	}
	return tick(11) + tick(12), tick(13) + tick(14)
}

// descendantsRSS sums the RSS of pid's children (and theirs), skipping commands named skip.
func descendantsRSS(pid int, skip string) float64 {
	total := 0.0
	for _, c := range children(pid) {
		if _, comm, _, err := procStat(c); err == nil && comm == skip {
			continue
		}
		if v, err := rssMB(c); err == nil {
			total += v
		}
		total += descendantsRSS(c, skip)
	}
	return total
}
