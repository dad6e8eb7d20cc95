package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// scheduleRecorder is the auto-record of scheduled meetings: while an occurrence of a
// schedule with autoRecord runs and someone in its room publishes, the room is recorded;
// at the occurrence's end the recordings it started stop (a moderator's own recording is
// left alone; the end of the meeting stops everything anyway, see autoRecord). It wakes on
// a published track or a join, on a schedule change, and at the next start or end of an
// occurrence. Every instance runs it: a room's single live recording slot makes a second
// start a no-op, and stopping twice is harmless.
type scheduleRecorder struct {
	rooms *room.Service
	live  *live.Service
	rec   *recording.Service
	log   *slog.Logger
	wake  chan struct{}
}

// maxScheduleWait bounds a pass's sleep: a schedule made on another instance is seen
// within it (this instance's own changes wake it at once).
const maxScheduleWait = time.Minute

func newScheduleRecorder(rooms *room.Service, l *live.Service, rec *recording.Service, log *slog.Logger) *scheduleRecorder {
	r := &scheduleRecorder{rooms: rooms, live: l, rec: rec, log: log.With("component", "schedule-record"), wake: make(chan struct{}, 1)}
	rooms.AddScheduleNotifier(r)
	return r
}

// ScheduleChanged wakes the worker (room.ScheduleNotifier); it never waits.
func (r *scheduleRecorder) ScheduleChanged(_, _ *room.Schedule) {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *scheduleRecorder) run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	soon := false // the timer is set for a pass that events asked for
	for ctx.Err() == nil {
		// The bus drops a subscriber that falls behind: subscribe again when it does.
		events, cancel := r.live.SubscribeTypes(64, live.EventTrackPublished, live.EventParticipantJoined)
		for open := true; open && ctx.Err() == nil; {
			event := false
			select {
			case <-ctx.Done():
			case _, open = <-events:
				event = open
			case <-r.wake:
			case <-timer.C:
				soon = false
			}
			if ctx.Err() != nil {
				continue
			}
			// Joins and publications come in bursts (thousands a second on a busy
			// server): they ask for one pass within passGap, not a database read each.
			if gap := passGap - time.Since(last); event && gap > 0 {
				if !soon {
					timer.Reset(gap)
					soon = true
				}
				continue
			}
			soon = false
			timer.Reset(r.pass(ctx))
			last = time.Now()
		}
		cancel()
	}
	return nil
}

// passGap is the least time between two passes that joins or publications asked for.
const passGap = time.Second

// pass starts and stops recordings as the schedules say now, and returns how long until
// the next occurrence starts or ends.
func (r *scheduleRecorder) pass(ctx context.Context) time.Duration {
	now := time.Now()
	wait := maxScheduleWait
	list, err := r.rooms.RecordedSchedules(ctx)
	if err != nil {
		r.log.Warn("schedules not read", "err", err)
		return wait
	}
	running := map[string]bool{}
	for _, sc := range list {
		for _, at := range sc.Occurrences(now, now.Add(wait), 3) {
			switch end := at.Add(sc.Duration); {
			case !at.After(now) && end.After(now):
				running[sc.Room] = true
				wait = min(wait, end.Sub(now))
			case at.After(now):
				wait = min(wait, at.Sub(now))
			}
		}
	}
	for name := range running {
		if err := r.startIfPublishing(ctx, name); err != nil && ctx.Err() == nil {
			r.log.Warn("scheduled recording not started", "room", name, "err", err)
		}
	}
	started, err := r.rec.LiveStartedBy(ctx, recording.ScheduleStarter)
	if err != nil {
		r.log.Warn("scheduled recordings not read", "err", err)
	}
	for _, rec := range started {
		if running[rec.Room] {
			continue
		}
		if _, err := r.rec.Stop(ctx, rec.ID); err != nil && !errors.Is(err, recording.ErrNotLive) {
			r.log.Warn("scheduled recording not stopped", "room", rec.Room, "recording", rec.ID, "err", err)
		} else if err == nil {
			r.log.Info("scheduled recording stopped: the occurrence ended", "room", rec.Room, "recording", rec.ID)
		}
	}
	return max(wait, 10*time.Millisecond)
}

func (r *scheduleRecorder) startIfPublishing(ctx context.Context, name string) error {
	ps, err := r.live.Participants(ctx, name)
	if err != nil {
		return err
	}
	publishing := false
	for _, p := range ps {
		publishing = publishing || (p.State != live.StateLeft && len(p.Tracks) > 0)
	}
	if !publishing {
		return nil
	}
	ref, err := recordingRoom(ctx, r.rooms, name)
	if err != nil || !ref.Found {
		return err
	}
	rec, err := r.rec.Start(ctx, recording.StartParams{Room: name, RoomID: ref.ID, OwnerID: ref.OwnerID, StartedBy: recording.ScheduleStarter})
	if errors.Is(err, recording.ErrAlreadyRecording) {
		return nil // recording already (this worker earlier, another instance, a moderator)
	}
	if err == nil {
		r.log.Info("scheduled recording started", "room", name, "recording", rec.ID)
	}
	return err
}
