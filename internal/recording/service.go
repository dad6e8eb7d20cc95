package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parley/parley/internal/fielderr"
)

// ErrUnknownHandle is what a Backend wraps when it does not know a handle (Stop of an
// egress LiveKit has forgotten): the service then aborts the recording.
var ErrUnknownHandle = errors.New("backend does not know this recording")

// Options configure the Service. Zero durations take the documented defaults.
type Options struct {
	Log *slog.Logger
	Now func() time.Time
	// NewID makes recording ids (default: random UUIDs).
	NewID func() string
	// Storage keeps the files; it is needed for download, delete, retention and manifests.
	Storage Storage
	// StartTimeout: a recording not active this long after its start fails (default 30 s).
	StartTimeout time.Duration
	// CallTimeout bounds each call to the backend's Start and Stop (default 8 s): without an
	// egress worker LiveKit blocks for about 10 s before failing.
	CallTimeout time.Duration
	// ReconcileGrace: recordings younger than this are left alone by the reconciler, whose
	// backend listing may not show them yet (default 10 s).
	ReconcileGrace time.Duration
	// WriteManifest writes <id>.json beside each completed file (off when the backend
	// writes its own, like LiveKit Egress, or with recording.disableManifest).
	WriteManifest bool
	// RetentionDays deletes finished recordings older than this, daily (0 = keep).
	RetentionDays int
	// AutoRooms are wildcard patterns (path.Match syntax: "*", "standup-*") of rooms recorded
	// automatically when they start.
	AutoRooms []string
	// Room describes a room by name for auto-record: its own autoRecord setting and whose
	// recordings it makes (nil: only AutoRooms count and recordings have no room id).
	Room func(ctx context.Context, room string) (RoomRef, error)
	// Notify is called after every applied transition (the live event bus).
	Notify func(Recording)
	// OnTransition runs inside the transaction of every applied transition, with the
	// recording as it is afterwards (outbound webhooks); an error rolls the transition back.
	OnTransition func(ctx context.Context, x Execer, r Recording) error
	// Instance names this Parley instance (stable across restarts). With LocalBackend (the
	// built-in recorder, which records on the instance that started it) the reconciler only
	// judges this instance's recordings; LiveKit Egress is cluster-wide.
	Instance     string
	LocalBackend bool
	// RetryBackoff is the wait before the first retry of a failed composition or upload,
	// doubled after each failure (default DefaultRetryBackoff); MaxAttempts bounds the
	// attempts in all (default DefaultMaxAttempts).
	RetryBackoff time.Duration
	MaxAttempts  int
}

// Service owns recordings: it starts and stops them through the Backend, applies every
// state change at most once and keeps their files in Storage. It is the Reporter backends
// report to.
type Service struct {
	o       Options
	st      store
	log     *slog.Logger
	backend Backend
	// unavailable says why there is no backend, for the 503 answer.
	unavailable string
}

// New builds the service; SetBackend must be called before it serves (the backend needs the
// service as its Reporter, so it is built afterwards).
func New(g *gorm.DB, o Options) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 8 * time.Second
	}
	if o.ReconcileGrace <= 0 {
		o.ReconcileGrace = 10 * time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetentionDays < 0 {
		return nil, fmt.Errorf("recording.retentionDays: %d must be 0 (keep) or more: %w", o.RetentionDays, ErrInvalid)
	}
	for _, p := range o.AutoRooms {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("recording.autoRooms: pattern %q: %v: %w", p, err, ErrInvalid)
		}
	}
	return &Service{o: o, st: store{db: g, onChange: o.OnTransition}, log: o.Log.With("component", "recording"), unavailable: "no recording backend is configured"}, nil
}

// SetBackend installs the backend, or records why there is none (start then answers
// ErrBackendUnavailable with that reason).
func (s *Service) SetBackend(b Backend, unavailableReason string) {
	s.backend = b
	if unavailableReason != "" {
		s.unavailable = unavailableReason
	}
}

// BackendName is "builtin", "egress", or "" when recording is unavailable.
func (s *Service) BackendName() string {
	if s.backend == nil {
		return ""
	}
	return s.backend.Name()
}

// RoomRef is a room as auto-record sees it. Found is false for a LiveKit room Parley does
// not manage.
type RoomRef struct {
	ID, OwnerID string
	AutoRecord  bool
	Found       bool
}

// StartParams say which room to record and for whom.
type StartParams struct {
	Room      string
	RoomID    string
	OwnerID   string
	StartedBy string
}

// Start records a room: it reserves the room's single live slot (ErrAlreadyRecording when
// taken), asks the backend to start within CallTimeout and returns the recording, usually
// still starting. A backend failure fails the recording and returns ErrBackendUnavailable.
func (s *Service) Start(ctx context.Context, p StartParams) (Recording, error) {
	if p.Room == "" {
		return Recording{}, fielderr.New(ErrInvalid, "room", "is empty")
	}
	b := s.backend
	if b == nil {
		return Recording{}, fmt.Errorf("room %q: %w: %s", p.Room, ErrBackendUnavailable, s.unavailable)
	}
	ctx = context.WithoutCancel(ctx) // a client hanging up must not leave a half-started recording
	now := s.o.Now().UTC()
	r := Recording{ID: s.o.NewID(), Room: p.Room, RoomID: p.RoomID, OwnerID: p.OwnerID, Backend: b.Name(), Status: StatusStarting,
		StartedBy: p.StartedBy, StartedAt: now, UpdatedAt: now, Instance: s.o.Instance}
	if err := s.st.insert(ctx, r); err != nil {
		return Recording{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
	handle, err := b.Start(callCtx, StartRequest{RecordingID: r.ID, Room: r.Room, StartedAt: now, FileKey: FileKey(r.Room, r.ID, now)})
	cancel()
	if errors.Is(err, ErrRoomNotActive) || errors.Is(err, ErrEncryptedRoom) { // nothing to record: as if never asked
		if derr := s.st.delete(ctx, r.ID); derr != nil {
			s.log.Error("cannot remove a recording that never started", "recording", r.ID, "err", derr)
		}
		return Recording{}, fmt.Errorf("room %q: start recording: %w", r.Room, err)
	}
	if err != nil {
		reason := fmt.Sprintf("the %s recorder could not start: %v", b.Name(), err)
		if _, terr := s.apply(ctx, Update{RecordingID: r.ID, Status: StatusFailed, Error: reason}); terr != nil && !isBenign(terr) {
			s.log.Error("cannot mark a failed start", "recording", r.ID, "err", terr)
		}
		return Recording{}, fmt.Errorf("room %q: start recording: %w: %w", r.Room, ErrBackendUnavailable, err)
	}
	if handle != "" {
		if err := s.st.setHandle(ctx, r.ID, handle, s.o.Now()); err != nil {
			return Recording{}, fmt.Errorf("recording %s: save handle: %w", r.ID, err)
		}
	}
	cur, err := s.st.get(ctx, r.ID)
	if err != nil {
		return Recording{}, err
	}
	if cur.Status == StatusStarting {
		s.notify(cur)
	}
	if cur.Status == StatusEnding { // stopped while the backend was starting it
		s.stopBackend(ctx, cur)
	}
	return cur, nil
}

// Stop asks the recording's backend to finish: the recording is ending until the backend
// reports it complete. Stopping an ending recording is a no-op; a finished one is ErrNotLive.
func (s *Service) Stop(ctx context.Context, id string) (Recording, error) {
	ctx = context.WithoutCancel(ctx)
	cur, err := s.st.get(ctx, id)
	if err != nil {
		return Recording{}, err
	}
	if cur.Status.Terminal() {
		return cur, fmt.Errorf("recording %s is %s: %w", id, cur.Status, ErrNotLive)
	}
	r, err := s.apply(ctx, Update{RecordingID: id, Status: StatusEnding})
	switch {
	case errors.Is(err, ErrDuplicate):
		return r, nil
	case errors.Is(err, ErrIllegalTransition):
		return r, fmt.Errorf("recording %s is %s: %w", id, r.Status, ErrNotLive)
	case err != nil:
		return r, err
	}
	if r.Handle != "" { // else Start is still waiting for the backend and stops it afterwards
		if err := s.stopBackend(ctx, r); err != nil {
			return r, err
		}
	}
	return s.st.get(ctx, id)
}

// stopBackend asks the backend to stop; a backend that no longer knows the recording gets
// it aborted, and one that cannot be reached leaves it ending for the reconciler.
func (s *Service) stopBackend(ctx context.Context, r Recording) error {
	b := s.backend
	if b == nil || r.Handle == "" {
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
	err := b.Stop(callCtx, r.Handle)
	cancel()
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrUnknownHandle) {
		_, aerr := s.apply(ctx, Update{RecordingID: r.ID, Status: StatusAborted, Error: "the recorder no longer knows this recording"})
		if aerr != nil && !isBenign(aerr) {
			return aerr
		}
		return nil
	}
	s.log.Warn("recorder did not stop", "recording", r.ID, "handle", r.Handle, "err", err)
	return fmt.Errorf("recording %s: stop: %w: %w", r.ID, ErrBackendUnavailable, err)
}

// Report applies a backend's state change (the Reporter contract). A repeat of the current
// state is not an error (webhooks are retried); an update the current state forbids wraps
// ErrIllegalTransition, and an unknown recording ErrNotFound. Neither changes anything.
func (s *Service) Report(ctx context.Context, u Update) error {
	_, err := s.apply(ctx, u)
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	return err
}

// apply resolves the recording, then applies one transition with its side effects.
func (s *Service) apply(ctx context.Context, u Update) (Recording, error) {
	if !u.Status.Valid() {
		return Recording{}, fmt.Errorf("status %q: %w", u.Status, ErrInvalid)
	}
	var cur Recording
	var err error
	switch {
	case u.RecordingID != "":
		cur, err = s.st.get(ctx, u.RecordingID)
	case u.Handle != "" && s.backend != nil:
		cur, err = s.st.byHandle(ctx, s.backend.Name(), u.Handle)
	default:
		err = fmt.Errorf("update names no recording: %w", ErrInvalid)
	}
	if err != nil {
		return Recording{}, err
	}
	if cur.Status == u.Status {
		if cur.Status.Live() && (u.Progress > 0 || u.Note != "" || u.SizeBytes > 0) {
			if err := s.st.touch(ctx, cur.ID, u, s.o.Now()); err != nil {
				return cur, fmt.Errorf("recording %s: update progress: %w", cur.ID, err)
			}
		}
		return cur, transitionError(cur.ID, cur.Status, u.Status)
	}
	if u.Status == StatusComplete {
		if u.FileKey == "" {
			u.FileKey = FileKey(cur.Room, cur.ID, cur.StartedAt)
		}
		if u.DurationSeconds <= 0 {
			u.DurationSeconds = s.o.Now().Sub(cur.StartedAt).Seconds()
		}
		if err := s.promoteFinished(ctx, cur, &u); err != nil {
			return cur, err
		}
	}
	r, err := s.st.transition(ctx, cur.ID, u, s.o.Now())
	if err != nil {
		return r, err
	}
	if r.Status == StatusFailed && u.Retryable {
		r = s.scheduleRetry(ctx, r)
	}
	s.log.Info("recording state", "recording", r.ID, "room", r.Room, "from", cur.Status, "to", r.Status, "error", r.Error)
	if r.Status == StatusComplete && s.o.WriteManifest {
		if err := s.writeManifest(ctx, r); err != nil {
			s.log.Warn("manifest not written", "recording", r.ID, "err", err)
		}
	}
	s.notify(r)
	return r, nil
}

func (s *Service) notify(r Recording) {
	if s.o.Notify != nil {
		s.o.Notify(r)
	}
}

// isBenign: the recording was already where we wanted it, or moved on.
func isBenign(err error) bool {
	return errors.Is(err, ErrDuplicate) || errors.Is(err, ErrIllegalTransition)
}

// Get returns one recording.
func (s *Service) Get(ctx context.Context, id string) (Recording, error) { return s.st.get(ctx, id) }

// List returns recordings newest first, one page at a time.
func (s *Service) List(ctx context.Context, f Filter) ([]Recording, string, error) {
	return s.st.list(ctx, f)
}

// ActiveCount is the number of live recordings (the admin overview's activeRecordings).
func (s *Service) ActiveCount(ctx context.Context) (int64, error) { return s.st.countLive(ctx) }
