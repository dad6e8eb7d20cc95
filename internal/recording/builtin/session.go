package builtin

import (
	"context"
	"errors"
	"fmt"
	lkc "github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/recording"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// How a session's run loop ends.
const (
	modeStop     = "stop"     // asked to stop: compose
	modeEnded    = "ended"    // LiveKit closed the room: compose
	modeShutdown = "shutdown" // Parley is stopping: leave it for Recover
	modeFail     = "fail"     // a write failed (disk full): failed
)

// session is one recording being written: the recorder's connection to the room (rejoined
// after disconnects), its track writers and its manifest.
type session struct {
	r    *Recorder
	id   string
	room string
	dir  string
	log  *slog.Logger

	stopc chan string
	failc chan error
	wake  chan struct{} // a rejoin attempt is due now (Recorder.Rejoin)
	done  chan struct{} // closed once the session is finished and reported
	// segStop ends the segment loop (closed by finish); segDone is closed when it has ended.
	segStop, segDone chan struct{}
	segBusy          int // segment the loop is composing, -1 when none

	mu       sync.Mutex
	man      *Timeline
	lk       *lksdk.Room
	disc     chan struct{} // signalled when the current connection is gone
	writers  map[*trackWriter]struct{}
	bySID    map[string]int // open manifest entry of each subscribed track
	gapStart float64        // offset where the current gap began, or -1
	stopAt   time.Time
	stopping bool
	wg       sync.WaitGroup // writer goroutines
}

func newSession(r *Recorder, dir string, m *Timeline) *session {
	return &session{r: r, id: m.RecordingID, room: m.Room, dir: dir, man: m,
		log:   r.log.With("recording", m.RecordingID, "room", m.Room),
		stopc: make(chan string, 1), failc: make(chan error, 1), wake: make(chan struct{}, 1), done: make(chan struct{}),
		segStop: make(chan struct{}), segDone: make(chan struct{}), segBusy: -1,
		writers: map[*trackWriter]struct{}{}, bySID: map[string]int{}, gapStart: -1}
}

func (s *session) offset(t time.Time) float64 { return t.Sub(s.man.StartedAt).Seconds() }

// save writes the manifest; the caller holds s.mu or owns the session exclusively.
func (s *session) save() error { return saveManifest(s.dir, s.man) }

func (s *session) saveOrFail() {
	if err := s.save(); err != nil {
		s.fail(err)
	}
}

func (s *session) requestStop(mode string) {
	s.mu.Lock()
	if s.stopAt.IsZero() {
		s.stopAt = s.r.now()
	}
	s.mu.Unlock()
	select {
	case s.stopc <- mode:
	default:
	}
}

func (s *session) fail(err error) {
	select {
	case s.failc <- err:
	default:
	}
}

// token is a subscribe-only, hidden recorder grant for this room.
func (s *session) token() (string, error) {
	no, yes := false, true
	return auth.NewAccessToken(s.r.cfg.APIKey, s.r.cfg.APISecret).
		SetIdentity(s.identity()).SetName("Parley recorder").
		SetKind(livekit.ParticipantInfo_EGRESS).
		SetValidFor(24 * time.Hour).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: s.room, Hidden: true, Recorder: true,
			CanSubscribe: &yes, CanPublish: &no, CanPublishData: &no}).
		ToJWT()
}

// connect joins the room; tracks are subscribed automatically, including later ones.
func (s *session) connect(ctx context.Context) error {
	tok, err := s.token()
	if err != nil {
		return err
	}
	disc := make(chan struct{}, 1)
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = s.onTrack
	cb.OnTrackMuted = func(pub lksdk.TrackPublication, _ lksdk.Participant) { s.onMute(pub.SID(), true) }
	cb.OnTrackUnmuted = func(pub lksdk.TrackPublication, _ lksdk.Participant) { s.onMute(pub.SID(), false) }
	cb.OnReconnecting = s.gapOpen
	cb.OnReconnected = s.gapClose
	cb.OnDisconnected = func() {
		select {
		case disc <- struct{}{}:
		default:
		}
	}
	lk := lksdk.NewRoom(cb)
	if err := lk.JoinWithContextAndToken(ctx, s.r.cfg.URL, tok, lksdk.WithAutoSubscribe(true), lksdk.WithLogger(s.r.sdkLog)); err != nil {
		return err
	}
	s.mu.Lock()
	s.lk, s.disc = lk, disc
	s.mu.Unlock()
	return nil
}

// run supervises the connection until the recording stops, rejoining after disconnects.
func (s *session) run() {
	mode, err := s.loop()
	s.r.finish(s, mode, err)
}

func (s *session) loop() (string, error) {
	for {
		s.mu.Lock()
		lk, disc := s.lk, s.disc
		s.mu.Unlock()
		select {
		case mode := <-s.stopc:
			s.leave(lk)
			s.evict()
			return mode, nil
		case err := <-s.failc:
			s.leave(lk)
			s.evict()
			return modeFail, err
		case <-disc:
		}
		reason := lk.DisconnectReason()
		s.leave(lk)
		if reason == livekit.DisconnectReason_ROOM_DELETED || reason == livekit.DisconnectReason_ROOM_CLOSED {
			s.log.Info("recorder: the room ended", "reason", reason.String())
			s.requestStop(modeEnded)
			return <-s.stopc, nil
		}
		s.log.Warn("recorder: disconnected from LiveKit, rejoining", "reason", reason.String())
		s.gapOpen()
		for backoff := 500 * time.Millisecond; ; backoff = min(backoff*2, 5*time.Second) {
			select {
			case mode := <-s.stopc:
				s.gapClose()
				return mode, nil
			case err := <-s.failc:
				return modeFail, err
			case <-time.After(backoff):
			case <-s.wake:
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.r.cfg.JoinTimeout)
			err := s.connect(ctx)
			cancel()
			if err == nil {
				break
			}
			s.log.Debug("recorder: rejoin failed", "err", err)
		}
		s.log.Info("recorder: rejoined the room")
		s.gapClose()
	}
}

// evict makes sure LiveKit no longer lists the recorder once it has left for good, whether
// or not its leave message got through. LiveKit answers not-found when it did: fine.
func (s *session) evict() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.r.cfg.Rooms.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: s.room, Identity: s.identity()})
	if err != nil && !lkc.IsNotFound(err) {
		s.log.Warn("recorder: could not remove itself from the room", "err", err)
	}
}

// identity is the recorder's participant identity in its room.
func (s *session) identity() string { return "parley-recorder-" + s.id }

// leave disconnects and waits (bounded) for the writers to flush and close their files.
func (s *session) leave(lk *lksdk.Room) {
	lk.Disconnect()
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		s.log.Warn("recorder: track readers did not end; closing their files")
	}
	s.mu.Lock()
	open := make([]*trackWriter, 0, len(s.writers))
	for w := range s.writers {
		open = append(open, w)
	}
	s.mu.Unlock()
	for _, w := range open {
		s.endTrack(w)
	}
}

// refuseEncrypted leaves a room where a track is end-to-end encrypted: the recorder holds
// no key, so it could only store ciphertext.
func (s *session) refuseEncrypted() error {
	s.mu.Lock()
	lk := s.lk
	s.mu.Unlock()
	for _, rp := range lk.GetRemoteParticipants() {
		for _, pub := range rp.TrackPublications() {
			if encrypted(pub) {
				s.leave(lk)
				return fmt.Errorf("%s publishes an encrypted track: %w", rp.Identity(), recording.ErrEncryptedRoom)
			}
		}
	}
	return nil
}

func encrypted(pub lksdk.TrackPublication) bool {
	return pub.TrackInfo().GetEncryption() != livekit.Encryption_NONE
}

// onTrack starts writing a newly subscribed track to its own file.
func (s *session) onTrack(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	if encrypted(pub) { // published after the recording started: its frames are ciphertext
		s.log.Warn("recorder: skipping an end-to-end encrypted track", "participant", rp.Identity())
		return
	}
	codec := codecOf(track.Codec().MimeType)
	if codec == "" {
		s.log.Warn("recorder: skipping a track with an unsupported codec", "mime", track.Codec().MimeType, "participant", rp.Identity())
		return
	}
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		_ = pub.SetVideoQuality(livekit.VideoQuality_HIGH)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopAt.IsZero() {
		return
	}
	idx := len(s.man.Tracks)
	kind := "audio"
	if codec != "opus" {
		kind = "video"
	}
	file := fmt.Sprintf("%03d-%s-%s%s", idx, kind, safeName(rp.Identity()), fileExt(codec))
	path := filepath.Join(s.dir, file)
	f, err := s.r.createFile(path)
	if err != nil {
		s.fail(fmt.Errorf("create track file: %w", err))
		return
	}
	w, err := newTrackWriter(f, codec, track.Codec().ClockRate, s.r.now)
	if err != nil {
		f.Close()
		os.Remove(path)
		s.fail(fmt.Errorf("track file %s: %w", file, err))
		return
	}
	w.idx = idx
	ssrc := track.SSRC()
	w.pli = func() { rp.WritePLI(ssrc) }
	w.onStart = func(t time.Time) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.man.Tracks[idx].Start = s.offset(t)
		if seg := s.man.SegmentSeconds; seg > 0 && kind == "video" {
			start := s.offset(t)
			w.keyEvery, w.keyNext = seg, math.Ceil((start+keyLead)/seg)*seg-keyLead-start
		}
		s.saveOrFail()
	}
	source := strings.ToLower(pub.Source().String())
	t := Track{File: file, Key: rp.Identity() + "/" + source, Participant: rp.Identity(), Name: rp.Name(),
		TrackSID: pub.SID(), Kind: kind, Source: source, Codec: codec, Start: -1, Open: true}
	if pub.IsMuted() {
		t.Mutes = []Span{{Start: s.offset(s.r.now())}}
	}
	s.man.Tracks = append(s.man.Tracks, t)
	s.bySID[pub.SID()] = idx
	s.writers[w] = struct{}{}
	s.saveOrFail()
	s.log.Info("recorder: writing track", "participant", rp.Identity(), "source", source, "codec", codec, "file", file)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := w.run(track); err != nil && isWriteErr(err) {
			s.fail(fmt.Errorf("write %s: %w", file, err))
		}
		s.endTrack(w)
	}()
}

// isWriteErr tells a file error from the end of a track (io.EOF, closed receiver).
func isWriteErr(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed)
}

// endTrack closes w (without the session's lock: a writer may be waiting for it) and
// records where its track ends.
func (s *session) endTrack(w *trackWriter) {
	closeErr := w.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.writers[w]; !ok {
		return
	}
	delete(s.writers, w)
	if closeErr != nil && isWriteErr(closeErr) {
		s.fail(fmt.Errorf("close %s: %w", s.man.Tracks[w.idx].File, closeErr))
	}
	t := &s.man.Tracks[w.idx]
	t.Open = false
	if t.Start >= 0 {
		t.End = t.Start + w.mediaEnd()
	}
	if n := len(t.Mutes); n > 0 && t.Mutes[n-1].End == 0 {
		t.Mutes[n-1].End = max(t.End, t.Mutes[n-1].Start)
	}
	if s.bySID[t.TrackSID] == w.idx {
		delete(s.bySID, t.TrackSID)
	}
	s.saveOrFail()
}
