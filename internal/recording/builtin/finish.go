package builtin

import (
	"errors"
	"syscall"
	"time"

	"github.com/parley/parley/internal/recording"
)

// How long List keeps reporting finished recordings, so the service's reconciler can apply
// a final state whose report was lost (database briefly down) instead of aborting it.
const (
	rememberFor = time.Hour
	rememberMax = 200
)

// finish records how the session ended and reports it: stopped recordings go to
// composition, failed ones are reported failed, interrupted ones wait for Recover.
func (r *Recorder) finish(s *session, mode string, cause error) {
	defer close(s.done)
	s.mu.Lock()
	close(s.segStop) // under s.mu: the segment loop starts no segment after this
	m := s.man
	end := s.offset(s.stopAt)
	if s.stopAt.IsZero() {
		end = s.offset(r.now())
	}
	if s.gapStart >= 0 {
		m.Gaps = append(m.Gaps, Span{Start: s.gapStart, End: end})
		s.gapStart = -1
	}
	switch mode {
	case modeStop, modeEnded:
		m.State, m.End = stateStopped, end
	case modeFail:
		m.State, m.End, m.Error = stateFailed, end, failureReason(cause)
	}
	err := s.save()
	s.mu.Unlock()
	if err != nil && mode != modeFail {
		mode, cause = modeFail, err
		m.State, m.Error = stateFailed, failureReason(err)
	}

	r.mu.Lock()
	delete(r.sessions, s.id)
	if mode == modeStop || mode == modeEnded {
		r.composing[s.id] = true
	}
	r.mu.Unlock()
	if mode == modeFail {
		r.remember(recording.BackendRecording{Handle: s.id, Room: s.room, Status: recording.StatusFailed, Error: m.Error})
	}

	switch mode {
	case modeStop, modeEnded:
		s.log.Info("recording stopped; composing", "seconds", end, "tracks", len(m.Tracks), "gaps", len(m.Gaps))
		r.report(recording.Update{RecordingID: s.id, Handle: s.id, Status: recording.StatusEnding})
		r.startJob(s.id, s.dir, "", s)
	case modeFail:
		s.log.Error("recording failed", "err", cause)
		r.report(recording.Update{RecordingID: s.id, Handle: s.id, Status: recording.StatusFailed, Error: m.Error})
	case modeShutdown:
		s.log.Info("recording interrupted by shutdown; it is composed at the next start")
	}
}

// failureReason is the message users see for a recording that failed while being written.
func failureReason(err error) string {
	if errors.Is(err, syscall.ENOSPC) {
		return "disk full while writing the recording: " + err.Error()
	}
	return "recording failed: " + err.Error()
}

// remember keeps a finished recording's outcome for List.
func (r *Recorder) remember(b recording.BackendRecording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	kept := r.finished[:0]
	for _, f := range r.finished {
		if now.Sub(f.at) < rememberFor && f.rec.Handle != b.Handle { // the latest outcome wins
			kept = append(kept, f)
		}
	}
	if len(kept) >= rememberMax {
		kept = kept[len(kept)-rememberMax+1:]
	}
	r.finished = append(kept, finished{at: now, rec: b})
}
