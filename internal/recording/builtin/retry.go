package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parley/parley/internal/recording"
)

var (
	_ recording.Retrier = (*Recorder)(nil)
	_ recording.Purger  = (*Recorder)(nil)
)

// Retry composes a failed recording again from its kept track files (recording.Retrier).
// One being composed already is fine; one whose files are gone is ErrUnknownHandle.
func (r *Recorder) Retry(ctx context.Context, handle string) error {
	if err := validID(handle); err != nil {
		return err
	}
	r.mu.Lock()
	busy := r.sessions[handle] != nil || r.composing[handle]
	r.mu.Unlock()
	if busy {
		return nil
	}
	dir := filepath.Join(r.cfg.WorkDir, handle)
	m, err := loadManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("built-in recording %q: no track files: %w", handle, recording.ErrUnknownHandle)
	}
	if err != nil {
		return fmt.Errorf("built-in recording %q: %w", handle, err)
	}
	if m.State == stateRecording || m.State == stateDone {
		return fmt.Errorf("built-in recording %q is %s here, not failed: %w", handle, m.State, recording.ErrNotRetryable)
	}
	r.log.Info("recorder: retrying a failed composition", "recording", handle, "earlier", m.Error)
	r.startJob(handle, dir, "composed on a retry", nil)
	return nil
}

// Purge removes a finished recording's work folder (track files, manifest, partial MP4)
// when the recording is deleted (recording.Purger).
func (r *Recorder) Purge(ctx context.Context, handle string) error {
	if err := validID(handle); err != nil {
		return nil // not a recorder handle: nothing of ours to remove
	}
	r.mu.Lock()
	busy := r.sessions[handle] != nil || r.composing[handle]
	kept := r.finished[:0]
	for _, f := range r.finished {
		if f.rec.Handle != handle {
			kept = append(kept, f)
		}
	}
	r.finished = kept
	r.mu.Unlock()
	if busy {
		return fmt.Errorf("built-in recording %q is still being written or composed: %w", handle, recording.ErrLive)
	}
	if err := os.RemoveAll(filepath.Join(r.cfg.WorkDir, handle)); err != nil {
		return fmt.Errorf("built-in recording %q: remove its track files: %w", handle, err)
	}
	return nil
}
