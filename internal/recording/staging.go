package recording

import (
	"context"
	"errors"
	"fmt"
)

// stager is the storage as a Stager when the recording's backend writes staged files.
func (s *Service) stager(r Recording) (Stager, bool) {
	b, ok := s.backend.(StagedBackend)
	if !ok || !b.StagesFiles() || r.Backend != s.backend.Name() {
		return nil, false
	}
	st, ok := s.o.Storage.(Stager)
	return st, ok
}

// promoteFinished moves a staged backend's finished file into place before its recording
// becomes complete, and fills in the size when the report had none. A file that is in
// neither place turns the report into a failure that says where the file was expected; a
// storage that cannot be reached is an error, and the report (a webhook LiveKit retries,
// or the next reconcile pass) is applied later.
func (s *Service) promoteFinished(ctx context.Context, cur Recording, u *Update) error {
	st, ok := s.stager(cur)
	if !ok || u.Status != StatusComplete {
		return nil
	}
	size, err := st.Promote(ctx, u.FileKey)
	if errors.Is(err, ErrNoFile) {
		*u = Update{RecordingID: cur.ID, Status: StatusFailed, Error: fmt.Sprintf(
			"the %s recorder reported the file written, but storage has no file at %s (nor at its staging key)", cur.Backend, u.FileKey)}
		return nil
	}
	if err != nil {
		return fmt.Errorf("recording %s: take in the finished file: %w", cur.ID, err)
	}
	if u.SizeBytes <= 0 {
		u.SizeBytes = size
	}
	// The recorder's own manifest, when it wrote one beside the file, goes with it.
	for _, companion := range []string{ManifestKey(u.FileKey), u.FileKey + ".json"} {
		if _, err := st.Promote(ctx, companion); err != nil && !errors.Is(err, ErrNoFile) {
			s.log.Warn("recording manifest left at its staging key", "recording", cur.ID, "key", companion, "err", err)
		}
	}
	return nil
}

// finishedWithoutReport is what the reconciler makes of a live recording its staged
// backend no longer knows: complete when its file is in storage (the backend finished and
// the report of it was lost: a webhook LiveKit gave up on, a LiveKit restart that forgot
// the egress), else aborted as before. ok is false when storage could not be asked: the
// recording is left for the next pass.
func (s *Service) finishedWithoutReport(ctx context.Context, r Recording, aborted Update) (u Update, ok bool) {
	st, staged := s.stager(r)
	if !staged {
		return aborted, true
	}
	key := FileKey(r.Room, r.ID, r.StartedAt)
	size, err := st.Promote(ctx, key)
	switch {
	case errors.Is(err, ErrNoFile):
		return aborted, true
	case err != nil:
		s.log.Warn("cannot look for the file of a recording its recorder forgot; trying again next pass", "recording", r.ID, "err", err)
		return Update{}, false
	}
	s.log.Info("recording completed from its file in storage: its recorder's final report never arrived", "recording", r.ID, "key", key)
	u = Update{RecordingID: r.ID, Status: StatusComplete, FileKey: key, SizeBytes: size,
		Note: "completed from the file found in storage (the recorder's final report was lost)"}
	if r.Status == StatusEnding { // it went ending when it was stopped: the length is known
		u.DurationSeconds = r.UpdatedAt.Sub(r.StartedAt).Seconds()
	}
	return u, true
}
