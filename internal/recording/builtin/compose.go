package builtin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/recording"
)

// startJob queues the composition of a stopped recording; at most MaxConcurrentCompositions
// run at once (ffmpeg uses every core), the others wait in the queue. s is the session
// that recorded it (nil after a restart or for a retry): its segment in composition is
// waited for, not composed twice.
func (r *Recorder) startJob(id, dir, note string, s *session) {
	r.mu.Lock()
	r.composing[id] = true
	r.mu.Unlock()
	r.jobs.Add(1)
	r.m.queued.Inc()
	go func() {
		defer r.jobs.Done()
		defer func() {
			r.mu.Lock()
			delete(r.composing, id)
			r.mu.Unlock()
		}()
		select {
		case r.sem <- struct{}{}:
			r.m.queued.Dec()
		case <-r.ctx.Done():
			r.m.queued.Dec()
			return
		}
		defer func() { <-r.sem }()
		r.m.running.Inc()
		defer r.m.running.Dec()
		r.compose(r.ctx, id, dir, note, s)
	}()
}

// compose turns a stopped recording's tracks into one MP4, stores it and reports the result.
// If ctx ends (shutdown) the manifest stays "stopped" and Recover resumes it. A failure
// keeps the track files and is reported retryable: the service retries it with backoff.
func (r *Recorder) compose(ctx context.Context, id, dir, note string, s *session) {
	log := r.log.With("recording", id)
	m, err := loadManifest(dir)
	if err != nil {
		log.Error("recorder: compose: manifest unreadable", "err", err)
		r.m.failures.WithLabelValues(failInternal).Inc()
		r.report(recording.Update{RecordingID: id, Handle: id, Status: recording.StatusFailed, Error: "recording manifest unreadable: " + err.Error()})
		return
	}
	fail := func(class, reason string) {
		m.State, m.Error = stateFailed, reason
		_ = saveManifest(dir, m)
		r.m.failures.WithLabelValues(class).Inc()
		log.Error("recorder: composition failed; track files kept for a retry", "class", class, "reason", reason)
		r.remember(recording.BackendRecording{Handle: id, Room: m.Room, Status: recording.StatusFailed, Error: reason, Retryable: true})
		r.report(recording.Update{RecordingID: id, Handle: id, Status: recording.StatusFailed, Error: reason, Retryable: true})
	}
	finalizeTracks(dir, m)
	m.State, m.Error = stateStopped, ""
	if err := saveManifest(dir, m); err != nil {
		fail(failInternal, "recording manifest: "+err.Error())
		return
	}
	r.report(recording.Update{RecordingID: id, Handle: id, Status: recording.StatusEnding, Progress: 0})
	began := r.now()
	out := filepath.Join(dir, "composed.mp4")
	var last time.Time
	progress := func(p float64) {
		if now := r.now(); now.Sub(last) >= time.Second {
			last = now
			r.report(recording.Update{RecordingID: id, Handle: id, Status: recording.StatusEnding, Progress: p})
		}
	}
	if m.SegmentSeconds > 0 {
		err = r.composeSegmented(ctx, log, m, dir, out, progress, s)
	} else {
		script := filepath.Join(dir, "filter.txt")
		args, graph := composeArgs(m, dir, out, script, r.cfg.Width, r.cfg.Height, r.cfg.FPS)
		if err := os.WriteFile(script, []byte(graph), 0o600); err != nil {
			fail(failInternal, "composition: "+err.Error())
			return
		}
		run := ffmpegRun{bin: r.cfg.FFmpeg, args: args, total: m.End, budget: r.budget(m.End), log: log, progress: progress}
		err = run.run(ctx)
	}
	took := r.now().Sub(began)
	if ctx.Err() != nil {
		log.Info("recorder: composition interrupted; it resumes at the next start")
		return
	}
	r.m.duration.Observe(took.Seconds())
	if err != nil {
		fail(failureClass(err), "composition failed (track files kept): "+err.Error())
		return
	}
	if took > 0 {
		r.m.realtime.Observe(m.End / took.Seconds())
	}
	log.Info("recorder: composed", "seconds", m.End, "took", took.Round(time.Millisecond))
	size, err := r.store(ctx, m.FileKey, out)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		fail(failUpload, "storing the recording failed (track files kept): "+err.Error())
		return
	}
	r.remember(recording.BackendRecording{Handle: id, Room: m.Room, Status: recording.StatusComplete,
		DurationSeconds: m.End, SizeBytes: size, FileKey: m.FileKey})
	r.report(recording.Update{RecordingID: id, Handle: id, Status: recording.StatusComplete, Progress: 1,
		DurationSeconds: m.End, SizeBytes: size, FileKey: m.FileKey, Note: note})
	m.State = stateDone
	_ = saveManifest(dir, m)
	_ = os.Remove(out)
	if !r.cfg.KeepTracks {
		_ = os.RemoveAll(dir)
	}
}

// budget is the time one composition of seconds of media may take (Config.ComposeBudget
// overrides the meeting-scaled default, for tests).
func (r *Recorder) budget(seconds float64) time.Duration {
	if r.cfg.ComposeBudget > 0 {
		return r.cfg.ComposeBudget
	}
	return composeBudget(seconds)
}

// store streams the composed file to storage.
func (r *Recorder) store(ctx context.Context, key, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return r.cfg.Storage.Put(ctx, key, f, st.Size(), "video/mp4")
}

// finalizeTracks checks every track file (truncating what a crash tore), fixes the ends of
// tracks left open by a crash, drops tracks without media, and sets the recording's end if
// it is unknown.
func finalizeTracks(dir string, m *Timeline) {
	var latest float64
	for i := range m.Tracks {
		t := &m.Tracks[i]
		if t.Start < 0 {
			continue
		}
		scan := scanIVF
		if t.Codec == "opus" {
			scan = scanOgg
		}
		length, n, err := scan(filepath.Join(dir, t.File))
		if err != nil || n == 0 {
			t.Start = -1 // nothing usable: left out of the composition
			continue
		}
		if t.Open || t.End <= t.Start || t.End > t.Start+length+1 {
			t.End = t.Start + length
		}
		t.Open = false
		for j := range t.Mutes {
			if t.Mutes[j].End == 0 {
				t.Mutes[j].End = t.End
			}
		}
		latest = max(latest, t.End)
	}
	if m.End <= 0 {
		m.End = latest
	}
	if m.End <= 0 {
		m.End = 1 // an empty recording still makes a (black, silent) file
	}
}

// composeArgs builds the ffmpeg command line and filter graph (written to script) that
// compose m into out: a black canvas with the video tracks tiled on it and every audio
// track mixed in, each at its offset.
func composeArgs(m *Timeline, dir, out, script string, w, h, fps int) ([]string, string) {
	end := fmt.Sprintf("%.3f", m.End)
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=black:s=%dx%d:r=%d:d=%s", w, h, fps, end),
		"-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=" + end}
	var g strings.Builder
	var audio []string
	var spans []videoSpan
	var videoInputs []int
	input := 2
	for _, t := range m.Tracks {
		if t.Start < 0 || t.End <= t.Start || t.Start >= m.End {
			continue
		}
		args = append(args, "-i", filepath.Join(dir, t.File))
		if t.Kind == "audio" {
			label := fmt.Sprintf("a%d", input)
			delay := int((t.Start + opusPreSkipSecs) * 1000)
			fmt.Fprintf(&g, "[%d:a]aresample=48000,adelay=delays=%d:all=1[%s];\n", input, delay, label)
			audio = append(audio, "["+label+"]")
		} else {
			spans = append(spans, videoSpan{Key: t.Key, Start: t.Start, End: min(t.End, m.End), Mutes: t.Mutes,
				Screen: t.Source == "screen_share"})
			videoInputs = append(videoInputs, input)
		}
		input++
	}
	mixAudio(&g, audio)
	prev := "0:v"
	n := 0
	for i, places := range layout(spans, w, h) {
		if len(places) == 0 {
			continue
		}
		in := videoInputs[i]
		fmt.Fprintf(&g, "[%d:v]setpts=PTS-STARTPTS+%.3f/TB[c%d];\n", in, spans[i].Start, in)
		prev = overlayTiles(&g, prev, in, places, &n, ":eof_action=pass")
	}
	fmt.Fprintf(&g, "[%s]format=yuv420p[vout]", prev)
	args = append(args, "-filter_complex_script", script, "-map", "[vout]", "-map", "[aout]",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", strconv.Itoa(fps),
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-movflags", "+faststart", "-t", end, out)
	return args, g.String()
}

// mixAudio mixes the audio labels into [aout] over the silent base input 1, which sets
// the length.
func mixAudio(g *strings.Builder, audio []string) {
	if len(audio) == 0 {
		g.WriteString("[1:a]anull[aout];\n")
		return
	}
	fmt.Fprintf(g, "[1:a]%samix=inputs=%d:duration=first:normalize=0:dropout_transition=0[aout];\n",
		strings.Join(audio, ""), len(audio)+1)
}

// overlayTiles overlays video input in (labelled c<in>, on the timeline) on prev at its
// placements, one scaled copy per tile size, and returns the label of the result; n
// numbers the overlays of the graph.
func overlayTiles(g *strings.Builder, prev string, in int, places []placement, n *int, overlayOpts string) string {
	groups := map[[2]int][]placement{}
	var order [][2]int
	for _, p := range places {
		k := [2]int{p.W, p.H}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	src := fmt.Sprintf("c%d", in)
	if len(order) > 1 {
		fmt.Fprintf(g, "[%s]split=%d", src, len(order))
		for j := range order {
			fmt.Fprintf(g, "[v%d_%d]", in, j)
		}
		g.WriteString(";\n")
	}
	for j, k := range order {
		from := src
		if len(order) > 1 {
			from = fmt.Sprintf("v%d_%d", in, j)
		}
		ps := groups[k]
		fmt.Fprintf(g, "[%s]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1[t%d_%d];\n",
			from, k[0], k[1], k[0], k[1], in, j)
		*n++
		next := fmt.Sprintf("o%d", *n)
		fmt.Fprintf(g, "[%s][t%d_%d]overlay=x='%s':y='%s':eval=frame%s:enable='%s'[%s];\n",
			prev, in, j, piecewise(ps, func(p placement) int { return p.X }),
			piecewise(ps, func(p placement) int { return p.Y }), overlayOpts, enableExpr(ps), next)
		prev = next
	}
	return prev
}

// piecewise is an ffmpeg expression of t worth f(p) during each placement.
func piecewise(ps []placement, f func(placement) int) string {
	expr := strconv.Itoa(f(ps[len(ps)-1]))
	for i := len(ps) - 2; i >= 0; i-- {
		expr = fmt.Sprintf("if(lt(t,%.3f),%d,%s)", ps[i].B, f(ps[i]), expr)
	}
	return expr
}

// enableExpr is true (non-zero) during the placements.
func enableExpr(ps []placement) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("gte(t,%.3f)*lt(t,%.3f)", p.A, p.B)
	}
	return strings.Join(parts, "+")
}
