package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parley/parley/internal/recording"
)

// Recover composes the recordings an earlier process left unfinished: interrupted while
// recording or while composing. Each becomes complete with a note, or failed with a reason.
func (r *Recorder) Recover(ctx context.Context) error {
	entries, err := os.ReadDir(r.cfg.WorkDir)
	if err != nil {
		return fmt.Errorf("builtin recorder: recover: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := e.Name()
		dir := filepath.Join(r.cfg.WorkDir, id)
		m, err := loadManifest(dir)
		if err != nil {
			r.log.Warn("recorder: skipping a directory without a readable manifest", "dir", dir, "err", err)
			continue
		}
		r.mu.Lock()
		busy := r.sessions[id] != nil || r.composing[id]
		r.mu.Unlock()
		if busy {
			continue
		}
		switch m.State {
		case stateRecording:
			m.State = stateStopped
			m.End = 0 // unknown: taken from the files
			if err := saveManifest(dir, m); err != nil {
				r.log.Error("recorder: recover", "recording", id, "err", err)
				continue
			}
			r.log.Info("recorder: composing a recording interrupted by a restart", "recording", id)
			r.startJob(id, dir, "recording interrupted by a restart; composed from what was written", nil)
		case stateStopped:
			r.log.Info("recorder: resuming an interrupted composition", "recording", id)
			r.startJob(id, dir, "composed after a restart", nil)
		case stateFailed:
			// Kept for the service's scheduled retry; List reports it failed meanwhile, so
			// a recording whose failure report was lost is not aborted by the reconciler.
			r.remember(recording.BackendRecording{Handle: id, Room: m.Room, Status: recording.StatusFailed,
				Error: orDefault(m.Error, "failed before a restart"), Retryable: true})
		case stateDone:
			if !r.cfg.KeepTracks {
				_ = os.RemoveAll(dir)
			}
		}
	}
	return nil
}

// report delivers u, retrying briefly: a lost final state would leave the recording stuck.
func (r *Recorder) report(u recording.Update) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = r.cfg.Reporter.Report(ctx, u)
		cancel()
		if err == nil || errors.Is(err, recording.ErrIllegalTransition) || errors.Is(err, recording.ErrNotFound) {
			return // done, or a state the service has moved past: retrying changes nothing
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	r.log.Error("recorder: report failed", "recording", u.RecordingID, "status", u.Status, "err", err)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
