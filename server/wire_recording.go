package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/outbox"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// wireRecording builds the storage, the recording service and its backend (the built-in
// recorder or LiveKit Egress), and adds its workers: start timeouts, retries,
// reconciliation, the daily retention sweep and auto-record on room_started /
// room_finished. rejoin tells the built-in recorder a room LiveKit lost exists again.
func (a *app) wireRecording(ctx context.Context, sup *livekit.Supervisor, l *live.Service, rooms *room.Service, hooks *outbox.Service) (g *recording.Guard, rejoin func(room string), err error) {
	rc := a.cfg.Recording
	rejoin = func(string) {} // only the built-in recorder is told: Egress workers are LiveKit's
	store, s3cfg, err := a.recordingStorage()
	if err != nil {
		return nil, nil, err
	}
	egress := rc.Backend == "egress"
	dataDir, _ := filepath.Abs(a.cfg.Server.DataDir)
	instance, err := dataDirInstance(dataDir)
	if err != nil {
		return nil, nil, err
	}
	svc, err := recording.New(a.db, recording.Options{
		Log: a.log, Now: time.Now, Storage: store,
		StartTimeout:  time.Duration(rc.StartTimeout),
		RetentionDays: rc.RetentionDays,
		AutoRooms:     rc.AutoRooms,
		Room: func(ctx context.Context, name string) (recording.RoomRef, error) {
			return recordingRoom(ctx, rooms, name)
		},
		// LiveKit Egress writes its own manifest (DisableManifest is passed on to it).
		WriteManifest: !rc.DisableManifest && !egress,
		Notify:        func(r recording.Recording) { publishRecording(l, r) },
		OnTransition:  recordingOutbox(hooks),
		Instance:      instance,
		LocalBackend:  !egress,
		RetryBackoff:  time.Duration(rc.RetryBackoff), MaxAttempts: rc.MaxAttempts,
	})
	if err != nil {
		return nil, nil, err
	}
	// Recordings started under the id Parley derived before the instance file existed
	// (hostname:dataDir) belong to this data directory: a re-created container finishes them.
	if n, err := svc.AdoptInstance(ctx, ":"+dataDir, instance); err != nil {
		return nil, nil, err
	} else if n > 0 {
		a.log.Info("recordings of this data directory's earlier instance id adopted", "count", n, "instance", instance)
	}
	// SetBackend and SetEgressSink are the one true cycle of the wiring: a backend reports
	// to the service it serves, and the live state hands egress webhooks to that backend.
	if egress {
		o := recording.EgressOptions{S3: s3cfg, DisableManifest: rc.DisableManifest, Log: a.log}
		if st, ok := store.(recording.Stager); ok {
			o.Staging = st // the egress uploads beside the final key; Parley moves it into place
		}
		if fs, ok := store.(*recording.FSStorage); ok {
			o.FileRoot = fs.Root() // must be shared with the egress workers
			a.log.Warn("recording.backend is egress with storage type fs: Egress workers write " + fs.Root() +
				" on their own machines, so Parley only sees the files if that directory is shared with them; " +
				"use recording.storage.type: s3 so Egress uploads where Parley can serve them")
		}
		if !a.cfg.LiveKit.External && a.cfg.LiveKit.Redis.Address == "" {
			a.log.Warn("recording.backend is egress but the embedded LiveKit has no livekit.redis.address: " +
				"LiveKit reaches Egress workers only through Redis, so every start will fail with egress_unavailable")
		}
		backend := recording.NewEgress(sup.EgressClient(), svc, o)
		svc.SetBackend(backend, "")
		l.SetEgressSink(backend)
	} else {
		backend, err := a.newBuiltinRecorder(svc, store, sup.RoomClient())
		if err != nil {
			// Parley still serves meetings; starting a recording answers 503 with this reason.
			a.log.Warn("recording is unavailable: the built-in recorder could not be built", "err", err)
			svc.SetBackend(nil, err.Error())
		} else {
			svc.SetBackend(backend, "")
			rejoin = backend.Rejoin
		}
	}
	a.workers = append(a.workers, svc.RunStartTimeouts, svc.RunDaily, svc.RunRetries, func(ctx context.Context) error {
		return svc.RunReconciler(ctx, max(time.Duration(a.cfg.LiveKit.ReconcileInterval), time.Second))
	})
	sup.OnReady(func() { // LiveKit (re)started: its egress list may have changed
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Reconcile(ctx); err != nil {
			a.log.Debug("recording: reconcile after LiveKit start", "err", err)
		}
	})
	a.workers = append(a.workers, func(ctx context.Context) error { return a.autoRecord(ctx, l, svc) })
	a.workers = append(a.workers, newScheduleRecorder(rooms, l, svc, a.log).run)
	return recording.NewGuard(svc, recordingRooms{rooms}), rejoin, nil
}

// recordingRooms answers the recording access rules' question from the room service.
type recordingRooms struct{ rooms *room.Service }

// RoomRole is the caller's role in the room of that name.
func (r recordingRooms) RoomRole(ctx context.Context, name string, c recording.Caller) (recording.RoomRole, error) {
	return recordingRole(r.rooms.Access(ctx, name, room.Caller{UserID: c.UserID, Admin: c.Admin}))
}

// RoomRoleByID is the caller's role in the room of that id.
func (r recordingRooms) RoomRoleByID(ctx context.Context, id string, c recording.Caller) (recording.RoomRole, error) {
	return recordingRole(r.rooms.AccessByID(ctx, id, room.Caller{UserID: c.UserID, Admin: c.Admin}))
}

func recordingRole(acc room.Access, err error) (recording.RoomRole, error) {
	if errors.Is(err, room.ErrNotFound) {
		return recording.RoomRole{}, fmt.Errorf("%w: %w", recording.ErrRoomNotFound, err)
	}
	if err != nil {
		return recording.RoomRole{}, err
	}
	return recording.RoomRole{ID: acc.Room.ID, Name: acc.Room.Name, OwnerID: acc.Room.OwnerID, Owner: acc.Owner, Moderator: acc.Moderator}, nil
}

// recordingStorage builds recording.storage; for s3 it also returns the config the egress
// backend hands to LiveKit Egress.
func (a *app) recordingStorage() (recording.Storage, *recording.S3Config, error) {
	sc := a.cfg.Recording.Storage
	switch sc.Type {
	case "s3":
		cfg := recording.S3Config{Bucket: sc.Bucket, Prefix: sc.Prefix, Region: sc.Region, Endpoint: sc.Endpoint,
			PathStyle: sc.PathStyle, AccessKeyID: sc.AccessKeyID, SecretAccessKey: sc.SecretAccessKey}
		s3, err := recording.NewS3Storage(cfg, time.Now)
		if err != nil {
			return nil, nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s3.Ping(ctx); err != nil {
			a.log.Warn("recording storage is not reachable yet: recordings will fail until it is", "err", err)
		}
		return s3, &cfg, nil
	case "fs", "":
		fs, err := recording.NewFSStorage(sc.Root, time.Now)
		return fs, nil, err
	}
	return nil, nil, fmt.Errorf("recording.storage.type %q: use fs or s3", sc.Type)
}

// recordingRoom reads a room's id, owner and own autoRecord setting.
func recordingRoom(ctx context.Context, rooms *room.Service, name string) (recording.RoomRef, error) {
	acc, err := rooms.Access(ctx, name, room.Caller{Admin: true})
	if errors.Is(err, room.ErrNotFound) {
		return recording.RoomRef{}, nil // a LiveKit room Parley does not manage
	}
	if err != nil {
		return recording.RoomRef{}, err
	}
	return recording.RoomRef{ID: acc.Room.ID, OwnerID: acc.Room.OwnerID, AutoRecord: acc.Room.AutoRecord, Found: true}, nil
}

// publishRecording puts every recording state change on the live event bus.
func publishRecording(l *live.Service, r recording.Recording) {
	l.Publish(live.Event{Type: live.EventRecordingStatus, Room: r.Room, Data: api.RecordingView(r), At: time.Now().UTC()})
}

// autoRecord starts recordings on room_started and stops them on room_finished. The bus
// drops a subscriber that falls behind, so the loop subscribes again.
func (a *app) autoRecord(ctx context.Context, l *live.Service, svc *recording.Service) error {
	for ctx.Err() == nil {
		events, cancel := l.SubscribeTypes(256, live.EventRoomStarted, live.EventRoomFinished)
		for ev := range eventsUntil(ctx, events) {
			var err error
			switch ev.Type {
			case live.EventRoomStarted:
				err = svc.OnRoomStarted(ctx, ev.Room)
			case live.EventRoomFinished:
				err = svc.OnRoomFinished(ctx, ev.Room)
			}
			if err != nil && ctx.Err() == nil {
				a.log.Warn("auto-record", "event", ev.Type, "room", ev.Room, "err", err)
			}
		}
		cancel()
	}
	return nil
}

// eventsUntil yields events until the channel closes or ctx ends.
func eventsUntil(ctx context.Context, ch <-chan live.Event) func(func(live.Event) bool) {
	return func(yield func(live.Event) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-ch:
				if !ok || !yield(ev) {
					return
				}
			}
		}
	}
}
