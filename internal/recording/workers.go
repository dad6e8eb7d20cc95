package recording

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"
)

var liveStatuses = []string{string(StatusStarting), string(StatusActive), string(StatusEnding)}

// CheckStartTimeouts fails every recording still starting StartTimeout after its start, and
// asks the backend to drop it (an egress stuck in STARTING must not record later unseen).
func (s *Service) CheckStartTimeouts(ctx context.Context) (int, error) {
	cutoff := s.o.Now().Add(-s.o.StartTimeout).UTC()
	stuck, err := s.st.where(ctx, 100, "status = ? AND started_at < ?", string(StatusStarting), cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range stuck {
		reason := fmt.Sprintf("the %s recorder did not start recording within %s", r.Backend, s.o.StartTimeout)
		failed, err := s.apply(ctx, Update{RecordingID: r.ID, Status: StatusFailed, Error: reason})
		if isBenign(err) {
			continue // it became active (or ended) meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
		if failed.Handle != "" && s.backend != nil {
			callCtx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
			if err := s.backend.Stop(callCtx, failed.Handle); err != nil && !errors.Is(err, ErrUnknownHandle) {
				s.log.Warn("could not stop a recording that failed to start", "recording", r.ID, "err", err)
			}
			cancel()
		}
	}
	return n, nil
}

// Reconcile compares the live recordings with what the backend knows: one it no longer
// knows is aborted, one whose state moved on gets that state. A backend that cannot answer
// changes nothing.
func (s *Service) Reconcile(ctx context.Context) error {
	b := s.backend
	if b == nil {
		return nil
	}
	known, err := b.List(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: list %s recordings: %w", b.Name(), err)
	}
	byHandle := make(map[string]BackendRecording, len(known))
	for _, k := range known {
		byHandle[k.Handle] = k
	}
	cutoff := s.o.Now().Add(-s.o.ReconcileGrace).UTC()
	cond, args := "backend = ? AND status IN ? AND started_at < ? AND handle <> ''", []any{b.Name(), liveStatuses, cutoff}
	if s.o.LocalBackend {
		cond, args = cond+" AND instance = ?", append(args, s.o.Instance)
	}
	live, err := s.st.where(ctx, 1000, cond, args...)
	if err != nil {
		return err
	}
	for _, r := range live {
		k, ok := byHandle[r.Handle]
		var u Update
		switch {
		case !ok:
			aborted := Update{RecordingID: r.ID, Status: StatusAborted, Error: fmt.Sprintf("the %s recorder no longer knows this recording", b.Name())}
			if u, ok = s.finishedWithoutReport(ctx, r, aborted); !ok {
				continue
			}
		case k.Status.Valid() && k.Status != r.Status:
			u = Update{RecordingID: r.ID, Status: k.Status, Error: k.Error, SizeBytes: k.SizeBytes,
				DurationSeconds: k.DurationSeconds, FileKey: k.FileKey, Retryable: k.Retryable}
			if u.Status == StatusAborted && u.Error == "" {
				u.Error = "aborted by the recorder"
			}
		default:
			continue
		}
		if _, err := s.apply(ctx, u); err != nil && !isBenign(err) {
			return err
		}
	}
	return nil
}

// SweepRetention deletes finished recordings (and their files) older than RetentionDays.
func (s *Service) SweepRetention(ctx context.Context) (int, error) {
	if s.o.RetentionDays <= 0 {
		return 0, nil
	}
	cutoff := s.o.Now().Add(-time.Duration(s.o.RetentionDays) * 24 * time.Hour).UTC()
	n := 0
	for {
		old, err := s.st.where(ctx, 200, "status NOT IN ? AND started_at < ?", liveStatuses, cutoff)
		if err != nil || len(old) == 0 {
			return n, err
		}
		for _, r := range old {
			if err := s.Delete(ctx, r.ID); err != nil {
				return n, fmt.Errorf("retention: %w", err)
			}
			n++
		}
	}
}

// StagingSweeper is implemented by storages that stage uploads and can drop abandoned ones.
type StagingSweeper interface {
	SweepStaging(ctx context.Context, olderThan time.Duration) (int, error)
}

// RunStartTimeouts checks for stuck starts until ctx ends.
func (s *Service) RunStartTimeouts(ctx context.Context) error {
	every := min(max(s.o.StartTimeout/5, 200*time.Millisecond), 5*time.Second)
	return s.every(ctx, every, "start timeout", func(ctx context.Context) error {
		_, err := s.CheckStartTimeouts(ctx)
		return err
	})
}

// RunReconciler reconciles every interval until ctx ends; Reconcile can also be called on
// demand (after LiveKit restarts).
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) error {
	return s.every(ctx, interval, "reconcile", s.Reconcile)
}

// RunDaily sweeps retention and abandoned staged uploads at start and then once a day.
func (s *Service) RunDaily(ctx context.Context) error {
	sweep := func(ctx context.Context) error {
		if n, err := s.SweepRetention(ctx); err != nil {
			return err
		} else if n > 0 {
			s.log.Info("retention: recordings deleted", "count", n, "retention_days", s.o.RetentionDays)
		}
		if sw, ok := s.o.Storage.(StagingSweeper); ok {
			if n, err := sw.SweepStaging(ctx, 6*time.Hour); err != nil {
				return err
			} else if n > 0 {
				s.log.Info("storage: abandoned staged uploads removed", "count", n)
			}
		}
		return nil
	}
	if err := sweep(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("daily sweep failed", "err", err)
	}
	return s.every(ctx, 24*time.Hour, "daily sweep", sweep)
}

// every runs fn every interval until ctx ends; failures are logged, never fatal.
func (s *Service) every(ctx context.Context, interval time.Duration, what string, fn func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn(what+" failed", "err", err)
			}
		}
	}
}

// AutoRecords reports whether a room is recorded automatically: a recording.autoRooms
// pattern matches its name, or its own autoRecord setting is on. It also returns the room.
func (s *Service) AutoRecords(ctx context.Context, room string) (bool, RoomRef, error) {
	var ref RoomRef
	if s.o.Room != nil {
		var err error
		if ref, err = s.o.Room(ctx, room); err != nil {
			return false, ref, err
		}
	}
	for _, p := range s.o.AutoRooms {
		if ok, _ := path.Match(p, room); ok {
			return true, ref, nil
		}
	}
	return ref.Found && ref.AutoRecord, ref, nil
}

// OnRoomStarted starts auto-recording the room when it should be (room_started).
func (s *Service) OnRoomStarted(ctx context.Context, room string) error {
	auto, ref, err := s.AutoRecords(ctx, room)
	if err != nil || !auto {
		return err
	}
	r, err := s.Start(ctx, StartParams{Room: room, RoomID: ref.ID, OwnerID: ref.OwnerID, StartedBy: AutoStarter})
	if errors.Is(err, ErrAlreadyRecording) {
		return nil // another instance, or a moderator, was first
	}
	if err == nil {
		s.log.Info("auto-record started", "room", room, "recording", r.ID)
	}
	return err
}

// OnRoomFinished stops the room's live recordings (room_finished): nobody is left to record.
func (s *Service) OnRoomFinished(ctx context.Context, room string) error {
	live, err := s.st.where(ctx, 10, "room = ? AND status IN ?", room, []string{string(StatusStarting), string(StatusActive)})
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range live {
		if _, err := s.Stop(ctx, r.ID); err != nil && !errors.Is(err, ErrNotLive) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ScheduleStarter is the StartedBy of recordings a schedule's auto-record started: the
// schedule's worker stops those (and only those) when the occurrence ends.
const ScheduleStarter = "schedule"

// LiveStartedBy lists the live (starting or active) recordings started by starter.
func (s *Service) LiveStartedBy(ctx context.Context, starter string) ([]Recording, error) {
	return s.st.where(ctx, 1000, "started_by = ? AND status IN ?", starter, []string{string(StatusStarting), string(StatusActive)})
}
