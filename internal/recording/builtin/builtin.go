// Package builtin is Parley's built-in recorder: a hidden LiveKit participant writes every
// audio and video track to its own file as it arrives (no transcoding), and after the
// meeting a background ffmpeg job composes them into one MP4 (tiled video, mixed audio)
// that goes to the recording storage. It needs one machine and the ffmpeg program: no
// Egress, Chrome, GStreamer or Redis.
package builtin

import (
	"context"
	"errors"
	"fmt"
	"github.com/livekit/protocol/livekit"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	protoLogger "github.com/livekit/protocol/logger"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley/parley/internal/recording"
)

// Errors the recorder returns, wrapped with context. Stop of a handle it does not know
// wraps recording.ErrUnknownHandle.
var (
	ErrExists     = errors.New("recording already exists")
	ErrBadRequest = errors.New("invalid recording request")
)

// Config configures the recorder.
type Config struct {
	// URL is LiveKit's WebSocket URL for server-side participants (ws:// or wss://).
	URL       string
	APIKey    string
	APISecret string
	// WorkDir holds one directory per recording: track files and manifest.
	WorkDir string
	// KeepTracks keeps the track files and manifest after a successful composition.
	KeepTracks bool
	// Width, Height and FPS of the composed video; default 1280x720 at 30.
	Width, Height, FPS int
	// FFmpeg is the ffmpeg program; default "ffmpeg" on PATH.
	FFmpeg string
	// JoinTimeout bounds Start's join; default 15 s.
	JoinTimeout time.Duration
	// Rooms removes the recorder from its room when a recording ends: the SDK's leave
	// message is best effort (lost when the signal connection is down at that moment), and
	// LiveKit would keep a silent recorder in the meeting until its connection times out.
	Rooms ParticipantRemover
	// MaxConcurrentCompositions is how many ffmpeg compositions of stopped recordings run at
	// once (default 1; each uses every core, the others wait in a queue), and separately how
	// many segments of meetings being recorded are composed at once (on one thread each).
	MaxConcurrentCompositions int
	// SegmentSeconds is the length of the segments composed while a meeting is recorded
	// (default 8, rounded up to whole audio and video frames), so the file is ready soon
	// after stop whatever the meeting's length; negative: compose after stop only.
	SegmentSeconds float64
	// ComposeBudget, when set, replaces the meeting-scaled time limit of one composition.
	ComposeBudget time.Duration
	// Registry receives the composer's metrics (nil: unregistered).
	Registry prometheus.Registerer
	Reporter recording.Reporter
	Storage  recording.Storage
	Log      *slog.Logger
	Now      func() time.Time
}

// ParticipantRemover is the part of LiveKit's room service the recorder needs.
type ParticipantRemover interface {
	RemoveParticipant(ctx context.Context, req *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error)
}

// Recorder is the built-in recording backend. It implements recording.Backend.
type Recorder struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// createFile creates a track file; tests replace it to simulate a full disk.
	createFile func(path string) (*os.File, error)
	// sdkLog passes the LiveKit SDK's warnings and errors to log, not its chatter.
	sdkLog protoLogger.Logger

	mu        sync.Mutex
	sessions  map[string]*session // recordings being written
	composing map[string]bool     // recordings waiting for or in composition
	finished  []finished          // recent outcomes, oldest first, for List

	ctx    context.Context // lifetime of background compositions, ended by Close
	cancel context.CancelFunc
	jobs   sync.WaitGroup
	sem    chan struct{} // MaxConcurrentCompositions slots: ffmpeg uses every core
	segSem chan struct{} // as many segments composed at once during meetings, for all of them
	m      *composeMetrics
}

var _ recording.Backend = (*Recorder)(nil)

// LookFFmpeg checks that ffmpeg and ffprobe are installed, with an error that says how to fix it.
func LookFFmpeg(ffmpeg string) error {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	for _, p := range []string{ffmpeg, filepath.Join(filepath.Dir(ffmpeg), "ffprobe")} {
		if filepath.Dir(ffmpeg) == "." {
			p = filepath.Base(p)
		}
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("the built-in recorder needs %s: %w (install the ffmpeg package, e.g. `apt install ffmpeg`, or set recording.backend: egress)", p, err)
		}
	}
	return nil
}

// New validates cfg, creates the work directory and returns a recorder. Recordings left by
// an earlier process are composed by Recover.
func New(cfg Config) (*Recorder, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("builtin recorder: LiveKit URL %q must be ws:// or wss://", cfg.URL)
	}
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, errors.New("builtin recorder: LiveKit API key and secret are required")
	}
	if cfg.Reporter == nil || cfg.Storage == nil || cfg.Rooms == nil {
		return nil, errors.New("builtin recorder: a reporter, a storage and LiveKit's room service are required")
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("builtin recorder: a work directory is required")
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o750); err != nil {
		return nil, fmt.Errorf("builtin recorder: work directory: %w", err)
	}
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	if err := LookFFmpeg(cfg.FFmpeg); err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		cfg.Width, cfg.Height = 1280, 720
	}
	cfg.Width, cfg.Height = cfg.Width&^1, cfg.Height&^1
	if cfg.FPS <= 0 {
		cfg.FPS = 30
	}
	if cfg.MaxConcurrentCompositions <= 0 {
		cfg.MaxConcurrentCompositions = 1
	}
	switch {
	case cfg.SegmentSeconds == 0:
		cfg.SegmentSeconds = segmentLength(8, cfg.FPS)
	case cfg.SegmentSeconds < 0:
		cfg.SegmentSeconds = 0
	default:
		cfg.SegmentSeconds = segmentLength(max(cfg.SegmentSeconds, 1), cfg.FPS)
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Recorder{cfg: cfg, log: cfg.Log, now: cfg.Now, sdkLog: SDKLogger(cfg.Log), createFile: createExclusive, sessions: map[string]*session{},
		composing: map[string]bool{}, ctx: ctx, cancel: cancel, sem: make(chan struct{}, cfg.MaxConcurrentCompositions),
		segSem: make(chan struct{}, cfg.MaxConcurrentCompositions),
		m:      newComposeMetrics(cfg.Registry)}, nil
}

// Name is "builtin".
func (r *Recorder) Name() string { return "builtin" }

// Start joins req.Room as a hidden recorder and returns once it is in the room; the handle
// is the recording id. Tracks are written as they arrive.
func (r *Recorder) Start(ctx context.Context, req recording.StartRequest) (string, error) {
	if err := validID(req.RecordingID); err != nil {
		return "", err
	}
	if req.Room == "" || req.FileKey == "" {
		return "", fmt.Errorf("%w: room and file key are required", ErrBadRequest)
	}
	dir := filepath.Join(r.cfg.WorkDir, req.RecordingID)
	r.mu.Lock()
	if r.sessions[req.RecordingID] != nil || r.composing[req.RecordingID] {
		r.mu.Unlock()
		return "", fmt.Errorf("recording %s: %w", req.RecordingID, ErrExists)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		r.mu.Unlock()
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("recording %s: %w", req.RecordingID, ErrExists)
		}
		return "", fmt.Errorf("recording %s: %w", req.RecordingID, err)
	}
	s := newSession(r, dir, &Timeline{Version: 1, RecordingID: req.RecordingID, Room: req.Room,
		FileKey: req.FileKey, StartedAt: r.now(), State: stateRecording, Tracks: []Track{},
		SegmentSeconds: r.cfg.SegmentSeconds})
	r.sessions[req.RecordingID] = s
	r.mu.Unlock()

	err := s.save()
	if err == nil {
		jctx, cancel := context.WithTimeout(ctx, r.cfg.JoinTimeout)
		err = s.connect(jctx)
		cancel()
	}
	if err == nil {
		err = s.refuseEncrypted()
	}
	if err != nil {
		r.mu.Lock()
		delete(r.sessions, req.RecordingID)
		r.mu.Unlock()
		_ = os.RemoveAll(dir)
		if isNoSuchRoom(err) {
			err = fmt.Errorf("LiveKit has no room %q (no meeting in progress): %w", req.Room, recording.ErrRoomNotActive)
		}
		return "", fmt.Errorf("recording %s: join room %q: %w", req.RecordingID, req.Room, err)
	}
	go s.run()
	if s.man.SegmentSeconds > 0 {
		r.jobs.Add(1)
		go s.segmentLoop()
	} else {
		close(s.segDone)
	}
	r.report(recording.Update{RecordingID: req.RecordingID, Handle: req.RecordingID, Status: recording.StatusActive})
	r.log.Info("recording started", "recording", req.RecordingID, "room", req.Room)
	return req.RecordingID, nil
}

// Stop finishes the recording: the recorder leaves, the files are closed and composition
// starts in the background. The final state arrives through the Reporter.
func (r *Recorder) Stop(ctx context.Context, handle string) error {
	r.mu.Lock()
	s := r.sessions[handle]
	composing := r.composing[handle]
	r.mu.Unlock()
	if s == nil {
		if composing {
			return nil
		}
		return fmt.Errorf("built-in recording %q: %w", handle, recording.ErrUnknownHandle)
	}
	s.requestStop(modeStop)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("recording %q: stop: %w", handle, ctx.Err())
	}
}

// finished is a recording's final outcome, kept a while for List.
type finished struct {
	at  time.Time
	rec recording.BackendRecording
}

// List returns the recordings being written (active) or composed (ending), and those that
// finished in the last hour with their outcome.
func (r *Recorder) List(ctx context.Context) ([]recording.BackendRecording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]recording.BackendRecording, 0, len(r.sessions)+len(r.composing))
	for id, s := range r.sessions {
		out = append(out, recording.BackendRecording{Handle: id, Room: s.room, Status: recording.StatusActive})
	}
	for id := range r.composing {
		if r.sessions[id] == nil {
			out = append(out, recording.BackendRecording{Handle: id, Status: recording.StatusEnding})
		}
	}
	for _, f := range r.finished {
		if r.sessions[f.rec.Handle] == nil && !r.composing[f.rec.Handle] {
			out = append(out, f.rec)
		}
	}
	return out, nil
}

// Close leaves every room without composing (the next start's Recover composes what was
// written), stops running compositions and waits for them.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	sessions := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		sessions = append(sessions, s)
	}
	r.mu.Unlock()
	for _, s := range sessions {
		s.requestStop(modeShutdown)
	}
	for _, s := range sessions {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	r.cancel()
	waited := make(chan struct{})
	go func() { r.jobs.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("builtin recorder: close: %w", ctx.Err())
	}
}

// validID accepts ids that are safe as a directory name.
func validID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, `/\`) || id == "." || id == ".." || strings.HasPrefix(id, ".") {
		return fmt.Errorf("%w: recording id %q must be a non-empty name without slashes", ErrBadRequest, id)
	}
	return nil
}

func createExclusive(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
}

// isNoSuchRoom: server-sdk-go v2.18.1 answers LiveKit's HTTP 404 on join ("requested room
// does not exist": auto_create is off and nobody is in the meeting) with a bare "not found".
func isNoSuchRoom(err error) bool {
	return err != nil && strings.HasSuffix(err.Error(), "not found")
}
