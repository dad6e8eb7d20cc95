package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/outbox"
	"github.com/parley/parley/internal/recording"
)

// wireOutbox builds the outbound webhooks and adds their delivery worker (one instance at a
// time delivers; the others stand by).
func (a *app) wireOutbox() (*outbox.Service, error) {
	dataDir, _ := filepath.Abs(a.cfg.Server.DataDir)
	instance, err := dataDirInstance(dataDir)
	if err != nil {
		return nil, err
	}
	w := a.cfg.Webhooks
	svc, err := outbox.New(outbox.Options{
		DB: a.db, Log: a.log, Now: time.Now, Instance: instance,
		RetryBase: time.Duration(w.RetryBase), RetryMax: time.Duration(w.RetryMax),
		RetryFor: time.Duration(w.RetryFor), Timeout: time.Duration(w.Timeout),
	})
	if err != nil {
		return nil, err
	}
	a.workers = append(a.workers, svc.Run)
	return svc, nil
}

// liveOutbox turns the live state's committed changes into outbound webhook events.
type liveOutbox struct{ ob *outbox.Service }

var liveTypes = map[string]string{
	live.EventRoomStarted:       outbox.TypeRoomStarted,
	live.EventRoomFinished:      outbox.TypeRoomFinished,
	live.EventParticipantJoined: outbox.TypeParticipantJoined,
	live.EventParticipantLeft:   outbox.TypeParticipantLeft,
	live.EventTrackPublished:    outbox.TypeTrackPublished,
	live.EventTrackUnpublished:  outbox.TypeTrackUnpublished,
}

func (l liveOutbox) Enqueue(ctx context.Context, x live.Execer, evs []live.Event) error {
	out := make([]outbox.Event, 0, len(evs))
	for _, ev := range evs {
		typ, ok := liveTypes[ev.Type]
		if !ok || ev.Hidden { // a recorder is no participant to an integration
			continue
		}
		out = append(out, outbox.Event{Type: typ, Room: ev.Room, Identity: ev.Participant, At: ev.At, Data: eventData(ev.Data)})
	}
	return l.ob.Enqueue(ctx, x, out)
}

// eventData is a live event's data as an outbox event's. The live state's maps are made
// per event and never changed once published, so the outbox reads them as they are: this
// runs in the webhook writer's transaction.
func eventData(d any) map[string]any {
	switch d := d.(type) {
	case map[string]any:
		return d
	case map[string]string:
		m := make(map[string]any, len(d))
		for k, v := range d {
			m[k] = v
		}
		return m
	}
	return nil
}

var recordingTypes = map[recording.Status]string{
	recording.StatusActive:   outbox.TypeRecordingStarted,
	recording.StatusComplete: outbox.TypeRecordingCompleted,
	recording.StatusFailed:   outbox.TypeRecordingFailed,
	recording.StatusAborted:  outbox.TypeRecordingAborted,
}

// recordingOutbox is recording.Options.OnTransition: the recording's API shape, as its
// event's data, written in the transition's transaction.
func recordingOutbox(ob *outbox.Service) func(ctx context.Context, x recording.Execer, r recording.Recording) error {
	return func(ctx context.Context, x recording.Execer, r recording.Recording) error {
		typ, ok := recordingTypes[r.Status]
		if !ok {
			return nil
		}
		return ob.Enqueue(ctx, x, []outbox.Event{{Type: typ, Room: r.Room, At: time.Now(),
			Data: map[string]any{"recording": api.RecordingView(r)}}})
	}
}
