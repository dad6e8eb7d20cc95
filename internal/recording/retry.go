package recording

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Retry defaults: a failed composition or upload is tried again after 1 min, 2 min, 4 min
// ... (capped at retryMaxDelay), at most DefaultMaxAttempts times in all.
const (
	DefaultRetryBackoff = time.Minute
	DefaultMaxAttempts  = 6
	retryMaxDelay       = time.Hour
)

// retryDelay is the wait before the retry that follows failed attempt n (1-based).
func retryDelay(base time.Duration, attempt int) time.Duration {
	d := base << min(max(attempt-1, 0), 20)
	return min(d, retryMaxDelay)
}

// scheduleRetry plans the next attempt of a recording that just failed with its inputs
// kept, or gives it up once MaxAttempts have failed.
func (s *Service) scheduleRetry(ctx context.Context, r Recording) Recording {
	if r.Attempts >= s.o.MaxAttempts {
		s.log.Error("recording failed for good: no attempts left", "recording", r.ID, "attempts", r.Attempts, "error", r.Error)
		return r
	}
	next := s.o.Now().Add(retryDelay(s.o.RetryBackoff, r.Attempts)).UTC()
	if err := s.st.schedule(ctx, r.ID, next); err != nil {
		s.log.Error("cannot schedule a recording's retry", "recording", r.ID, "err", err)
		return r
	}
	r.Retryable, r.NextRetryAt = true, &next
	s.log.Warn("recording failed; retrying later", "recording", r.ID, "attempt", r.Attempts, "of", s.o.MaxAttempts, "next_retry_at", next, "error", r.Error)
	return r
}

// Retry composes and uploads a failed recording again from the inputs its recorder kept
// (a moderator's retry, or the scheduled one). The recording is ending again until the
// recorder reports the outcome. ErrNotRetryable: not failed, inputs gone, or held by
// another instance; ErrAlreadyRecording: the room is being recorded now (try after).
func (s *Service) Retry(ctx context.Context, id string) (Recording, error) {
	ctx = context.WithoutCancel(ctx)
	cur, err := s.st.get(ctx, id)
	if err != nil {
		return cur, err
	}
	if cur.Status != StatusFailed {
		return cur, fmt.Errorf("recording %s is %s, only a failed recording is retried: %w", id, cur.Status, ErrNotRetryable)
	}
	rt, ok := s.backend.(Retrier)
	switch {
	case !ok || cur.Backend != s.backend.Name() || cur.Handle == "":
		return cur, fmt.Errorf("recording %s: the %s recorder keeps nothing to compose it again from: %w", id, cur.Backend, ErrNotRetryable)
	case s.o.LocalBackend && cur.Instance != s.o.Instance:
		return cur, fmt.Errorf("recording %s: its track files are on Parley instance %q: %w", id, cur.Instance, ErrNotRetryable)
	}
	r, err := s.st.reopen(ctx, id, s.o.Now())
	if err != nil {
		return r, err
	}
	s.log.Info("recording retried", "recording", id, "room", r.Room, "attempts_so_far", r.Attempts)
	s.notify(r)
	callCtx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
	err = rt.Retry(callCtx, cur.Handle)
	cancel()
	if err != nil {
		gone := errors.Is(err, ErrUnknownHandle)
		u := Update{RecordingID: id, Status: StatusFailed, Retryable: !gone,
			Error: fmt.Sprintf("retry failed: %v (earlier: %s)", err, cur.Error)}
		if gone {
			u.Error = "the recorder's track files for this recording are gone; it cannot be composed again (earlier: " + cur.Error + ")"
		}
		if r, aerr := s.apply(ctx, u); aerr == nil {
			cur = r
		}
		if gone {
			return cur, fmt.Errorf("recording %s: %w: %w", id, ErrNotRetryable, err)
		}
		return cur, fmt.Errorf("recording %s: retry: %w: %w", id, ErrBackendUnavailable, err)
	}
	return s.st.get(ctx, id)
}

// RetryDue retries the failed recordings whose retry is due (all scheduled ones when
// startup is true: a restart is a fresh chance, e.g. after the disk was freed).
func (s *Service) RetryDue(ctx context.Context, startup bool) (int, error) {
	b := s.backend
	if b == nil {
		return 0, nil
	}
	if _, ok := b.(Retrier); !ok {
		return 0, nil
	}
	cond, args := "status = ? AND retryable = ? AND backend = ?", []any{string(StatusFailed), true, b.Name()}
	if !startup {
		cond, args = cond+" AND next_retry_at <= ?", append(args, s.o.Now().UTC())
	}
	if s.o.LocalBackend {
		cond, args = cond+" AND instance = ?", append(args, s.o.Instance)
	}
	due, err := s.st.where(ctx, 20, cond, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range due {
		_, err := s.Retry(ctx, r.ID)
		switch {
		case errors.Is(err, ErrAlreadyRecording): // the room is recorded now: its slot is taken
			next := s.o.Now().Add(s.o.RetryBackoff).UTC()
			if serr := s.st.schedule(ctx, r.ID, next); serr != nil {
				return n, serr
			}
		case err != nil && ctx.Err() == nil:
			s.log.Warn("scheduled retry failed", "recording", r.ID, "err", err)
		default:
			n++
		}
	}
	return n, nil
}

// RunRetries retries due recordings until ctx ends, starting with every scheduled one.
func (s *Service) RunRetries(ctx context.Context) error {
	if _, err := s.RetryDue(ctx, true); err != nil && ctx.Err() == nil {
		s.log.Warn("start-up retries failed", "err", err)
	}
	every := min(max(s.o.RetryBackoff/4, 100*time.Millisecond), 30*time.Second)
	return s.every(ctx, every, "retry", func(ctx context.Context) error {
		_, err := s.RetryDue(ctx, false)
		return err
	})
}

// schedule marks a failed recording for a retry at next.
func (st store) schedule(ctx context.Context, id string, next time.Time) error {
	return st.db.WithContext(ctx).Model(&row{}).Where("id = ? AND status = ?", id, string(StatusFailed)).
		Updates(map[string]any{"retryable": true, "next_retry_at": next.UTC()}).Error
}

// reopen moves a failed recording back to ending for a retry, in one conditional UPDATE
// (two retries never run at once). The room's live slot must be free.
func (st store) reopen(ctx context.Context, id string, now time.Time) (Recording, error) {
	res := st.db.WithContext(ctx).Model(&row{}).Where("id = ? AND status = ?", id, string(StatusFailed)).
		Updates(map[string]any{"status": string(StatusEnding), "retryable": false, "next_retry_at": nil,
			"ended_at": nil, "progress": 0, "note": gorm.Expr("'retrying after: ' || error"), "error": "", "updated_at": now.UTC()})
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return Recording{}, fmt.Errorf("recording %s: its room is being recorded now: %w", id, ErrAlreadyRecording)
	}
	if res.Error != nil {
		return Recording{}, fmt.Errorf("recording %s: reopen: %w", id, res.Error)
	}
	cur, err := st.get(ctx, id)
	if err == nil && res.RowsAffected == 0 {
		return cur, fmt.Errorf("recording %s is %s: %w", id, cur.Status, ErrNotRetryable)
	}
	return cur, err
}

// AdoptInstance moves the recordings of every instance id ending in suffix to id: the ids
// an earlier Parley derived from its hostname and the same data directory.
func (s *Service) AdoptInstance(ctx context.Context, suffix, id string) (int64, error) {
	var ids []string
	if err := s.st.db.WithContext(ctx).Model(&row{}).Distinct("instance").Pluck("instance", &ids).Error; err != nil {
		return 0, fmt.Errorf("recordings: instances: %w", err)
	}
	var old []string
	for _, i := range ids {
		if i != id && len(i) > len(suffix) && i[len(i)-len(suffix):] == suffix {
			old = append(old, i)
		}
	}
	if len(old) == 0 {
		return 0, nil
	}
	res := s.st.db.WithContext(ctx).Model(&row{}).Where("instance IN ?", old).Update("instance", id)
	return res.RowsAffected, res.Error
}
