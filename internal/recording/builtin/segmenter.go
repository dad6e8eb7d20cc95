package builtin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// composeSegment composes one segment of m into the segment directory: both files are
// written under temporary names and renamed into place, so a segment that exists is
// whole. threads is ffmpeg's encoder threads (1 during the meeting, 0 = all at stop).
func (r *Recorder) composeSegment(ctx context.Context, log *slog.Logger, m *Timeline, dir string, sg segment, idx map[int]*ivfIndex, threads int, urgent bool) error {
	segDir := filepath.Join(dir, segDirName)
	if err := os.MkdirAll(segDir, 0o750); err != nil {
		return err
	}
	tmp := fmt.Sprintf(".%d.tmp", tmpSeq.Add(1)) // unique: never two writers of one file
	script := filepath.Join(segDir, fmt.Sprintf("filter-%05d%s", sg.K, tmp))
	vtmp := filepath.Join(segDir, sg.name(segVideoExt)+tmp)
	atmp := filepath.Join(segDir, sg.name(segAudioExt)+tmp)
	args, graph, cuts, err := segmentArgs(m, dir, segDir, sg, idx, r.cfg.Width, r.cfg.Height, r.cfg.FPS, threads, script, vtmp, atmp, tmp)
	defer func() {
		for _, c := range append(cuts, script, vtmp, atmp) {
			_ = os.Remove(c)
		}
	}()
	if err != nil {
		return err
	}
	if err := os.WriteFile(script, []byte(graph), 0o600); err != nil {
		return err
	}
	run := ffmpegRun{bin: r.cfg.FFmpeg, args: args, budget: r.budget(sg.B - sg.A), log: log, urgent: urgent}
	if err := run.run(ctx); err != nil {
		return err
	}
	// Check the audio holds what the join takes from it before the segment counts as done.
	if err := appendSegmentAudio(discard{}, atmp, sg.Packets); err != nil {
		return &ffmpegError{class: failExit, status: "segment audio: " + err.Error()}
	}
	if err := os.Rename(atmp, filepath.Join(segDir, sg.name(segAudioExt))); err != nil {
		return err
	}
	return os.Rename(vtmp, filepath.Join(segDir, sg.name(segVideoExt)))
}

var tmpSeq atomic.Int64

// urgentMedia is how many seconds of media left at stop are composed at normal priority.
const urgentMedia = 60

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// segmentLoop composes the recording's segments while it is being written, each once the
// timeline is segLag past its end, MaxConcurrentCompositions at a time for the whole
// recorder (default one) and on one thread at low priority. A segment that fails is tried
// again a few times, then left to the composition at stop.
func (s *session) segmentLoop() {
	defer s.r.jobs.Done()
	defer close(s.segDone)
	seg := s.man.SegmentSeconds
	dir := filepath.Join(s.dir, segDirName)
	idx := map[int]*ivfIndex{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	next, fails := 0, 0
	var notBefore time.Time
	wait := true // false: the next segment may be due already (the loop fell behind)
	for {
		if wait {
			select {
			case <-s.segStop:
				return
			case <-s.r.ctx.Done():
				return
			case <-tick.C:
			}
		}
		wait = true
		now := s.r.now()
		if s.offset(now) < float64(next+1)*seg+segLag || now.Before(notBefore) {
			continue
		}
		sg := fullOrTail(next, float64(next)*seg, float64(next+1)*seg, seg, s.r.cfg.FPS)
		if sg.done(dir) {
			next, wait = next+1, false
			continue
		}
		select {
		case s.r.segSem <- struct{}{}:
		case <-s.segStop:
			return
		case <-s.r.ctx.Done():
			return
		}
		s.mu.Lock()
		select {
		case <-s.segStop: // stopped meanwhile: the composition at stop takes over
			s.mu.Unlock()
			<-s.r.segSem
			return
		default:
		}
		s.segBusy = sg.K
		m := s.man.clone()
		s.mu.Unlock()
		began := s.r.now()
		s.r.m.running.Inc()
		err := s.r.composeSegment(s.r.ctx, s.log, m, s.dir, sg, idx, 1, false)
		s.r.m.running.Dec()
		<-s.r.segSem
		s.mu.Lock()
		s.segBusy = -1
		s.mu.Unlock()
		if s.r.ctx.Err() != nil {
			return
		}
		if err != nil {
			fails++
			s.log.Warn("recorder: composing a segment failed", "segment", sg.K, "attempt", fails, "err", err)
			notBefore = s.r.now().Add(time.Duration(fails) * 5 * time.Second)
			if fails >= 3 {
				next, fails = next+1, 0 // left to the composition at stop
			}
			continue
		}
		s.log.Debug("recorder: segment composed", "segment", sg.K, "took", s.r.now().Sub(began).Round(time.Millisecond))
		next, fails, wait = next+1, 0, false
	}
}

// composeSegmented finishes a segmented recording: composes the segments not composed
// during the meeting (the tail, those lost to a restart or that failed), several at once
// as the tail is what stands between stop and the file, then joins all of them into out
// without re-encoding. s, when the recording was just stopped, is its session: the segment
// its loop is composing is waited for instead of composed twice.
func (r *Recorder) composeSegmented(ctx context.Context, log *slog.Logger, m *Timeline, dir, out string, progress func(float64), s *session) error {
	seg := m.SegmentSeconds
	segDir := filepath.Join(dir, segDirName)
	// A recording recovered after a crash ends where its files end; segments composed
	// before the crash may reach a little further (their files were flushed then).
	for k := 0; fullOrTail(k, float64(k)*seg, float64(k+1)*seg, seg, r.cfg.FPS).done(segDir); k++ {
		m.End = max(m.End, float64(k+1)*seg)
	}
	plan := planSegments(m.End, seg, r.cfg.FPS)
	busy := -1
	if s != nil {
		s.mu.Lock()
		busy = s.segBusy
		s.mu.Unlock()
	}
	began := r.now()
	todo := missing(plan, segDir, busy)
	if err := r.composeSegments(ctx, log, m, dir, todo, progress, len(plan)); err != nil {
		return err
	}
	if s != nil {
		select {
		case <-s.segDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := r.composeSegments(ctx, log, m, dir, missing(plan, segDir, -1), progress, len(plan)); err != nil {
		return err
	}
	composed := r.now()
	err := r.joinSegments(ctx, log, m, segDir, plan, out)
	log.Info("recorder: segments joined", "segments", len(plan), "composed at stop", len(todo),
		"compose", composed.Sub(began).Round(time.Millisecond), "join", r.now().Sub(composed).Round(time.Millisecond))
	return err
}

func missing(plan []segment, segDir string, busy int) []segment {
	var out []segment
	for _, sg := range plan {
		if sg.K != busy && !sg.done(segDir) {
			out = append(out, sg)
		}
	}
	return out
}

// composeSegments composes todo, one per core at once. Up to urgentMedia of them is a
// just-stopped recording's tail (or a meeting's segments that fell behind on a busy
// machine), which someone waits for: normal priority. More (a long recording recovered or
// retried whole) runs at low priority like the segments of a meeting.
func (r *Recorder) composeSegments(ctx context.Context, log *slog.Logger, m *Timeline, dir string, todo []segment, progress func(float64), total int) error {
	if len(todo) == 0 {
		return nil
	}
	workers := min(runtime.NumCPU(), len(todo))
	threads := 1
	if workers == 1 {
		threads = 0
	}
	var media float64
	for _, sg := range todo {
		media += sg.B - sg.A
	}
	urgent := media <= urgentMedia
	jobs := make(chan segment)
	errs := make(chan error, workers)
	var mu sync.Mutex // progress is called from the workers, one at a time
	done := 0
	for w := 0; w < workers; w++ {
		go func() {
			idx := map[int]*ivfIndex{}
			var first error
			for sg := range jobs {
				if first != nil {
					continue
				}
				if first = r.composeSegment(ctx, log, m, dir, sg, idx, threads, urgent); first == nil {
					mu.Lock()
					done++
					progress(0.9 * float64(total-len(todo)+done) / float64(total))
					mu.Unlock()
				}
			}
			errs <- first
		}()
	}
	for _, sg := range todo {
		jobs <- sg
	}
	close(jobs)
	var err error
	for w := 0; w < workers; w++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// joinSegments writes out from the segments: their video through ffmpeg's concat demuxer
// and their audio frames appended into one AAC stream, both copied, not re-encoded.
func (r *Recorder) joinSegments(ctx context.Context, log *slog.Logger, m *Timeline, segDir string, plan []segment, out string) error {
	audioPath := filepath.Join(segDir, "joined.aac")
	listPath := filepath.Join(segDir, "joined.txt")
	af, err := os.Create(audioPath)
	if err != nil {
		return err
	}
	aw := bufio.NewWriterSize(af, 256<<10)
	var list strings.Builder
	list.WriteString("ffconcat version 1.0\n")
	for _, sg := range plan {
		if err := appendSegmentAudio(aw, filepath.Join(segDir, sg.name(segAudioExt)), sg.Packets); err != nil {
			af.Close()
			return err
		}
		fmt.Fprintf(&list, "file '%s'\nduration %.6f\n", sg.name(segVideoExt), float64(sg.Frames)/float64(r.cfg.FPS))
	}
	if err := errors.Join(aw.Flush(), af.Close()); err != nil {
		return err
	}
	defer os.Remove(audioPath)
	defer os.Remove(listPath)
	if err := os.WriteFile(listPath, []byte(list.String()), 0o600); err != nil {
		return err
	}
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
		"-f", "concat", "-safe", "0", "-i", listPath, "-f", "aac", "-i", audioPath,
		"-map", "0:v", "-map", "1:a", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out}
	run := ffmpegRun{bin: r.cfg.FFmpeg, args: args, budget: time.Minute + time.Duration(m.End/4*float64(time.Second)), log: log}
	return run.run(ctx)
}
