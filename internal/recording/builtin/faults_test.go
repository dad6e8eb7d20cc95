package builtin

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// LiveKit is killed (-9) mid-recording and restarted: the recorder rejoins, the gap is in
// the manifest, and media after the gap is in the MP4.
func TestRecordingSurvivesLiveKitKill(t *testing.T) {
	e := newEnv(t, true)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	green := genMedia(t, lktest.MediaSpec{Color: "green", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 550, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "crashy")
	alice := e.publish(t, "crashy", "alice", red)
	began := time.Now()
	startRecording(t, e.rec, "rec-kill", "crashy")
	time.Sleep(6 * time.Second)

	alice.Close()
	e.lk.Restart(t, true)
	killed := time.Since(began).Seconds()
	e.createRoom(t, "crashy") // what Parley's reconciler does after LiveKit restarts
	e.publish(t, "crashy", "alice", green)
	// Wait for media written after the restart, then record a little more.
	deadline := time.Now().Add(45 * time.Second)
	for !hasTrackAfter(e.rec, "rec-kill", killed) {
		if time.Now().After(deadline) {
			t.Fatalf("the recorder wrote nothing after LiveKit's restart")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(4 * time.Second)
	stopRecording(t, e.rec, "rec-kill")
	lasted := time.Since(began).Seconds()

	u := e.rep.wait(t, recording.StatusComplete, 90*time.Second)
	path := checkMP4(t, e, u, lasted)
	m, err := loadManifest(filepath.Join(e.work, "rec-kill"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Gaps) == 0 || m.Gaps[0].Start > killed+1 || m.Gaps[0].End <= m.Gaps[0].Start {
		t.Errorf("gaps = %+v, want one starting near %.1fs", m.Gaps, killed)
	}
	if c := colorAt(frameAt(t, path, 4), 32, 18); c != "red" {
		t.Errorf("before the kill the tile is %s, want red", c)
	}
	if c := colorAt(frameAt(t, path, lasted-1.5), 32, 18); c != "green" {
		t.Errorf("after the restart the tile is %s, want green", c)
	}
	t.Logf("gap %.1fs..%.1fs, recording %.1fs", m.Gaps[0].Start, m.Gaps[0].End, lasted)
}

// hasTrackAfter reports whether a video track of the recording started after offset.
func hasTrackAfter(r *Recorder, id string, offset float64) bool {
	r.mu.Lock()
	s := r.sessions[id]
	r.mu.Unlock()
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.man.Tracks {
		if t.Kind == "video" && t.Start > offset {
			return true
		}
	}
	return false
}

// Parley dies mid-recording: what was on disk at that moment (a copy of the work directory
// taken while writing: unflushed buffers lost, no trailers, manifest still "recording") is
// composed by the next process's Recover and reported complete with a note.
func TestRecoverComposesInterruptedRecording(t *testing.T) {
	e := newEnv(t, false)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "doomed")
	e.publish(t, "doomed", "alice", red)
	startRecording(t, e.rec, "rec-crash", "doomed")
	time.Sleep(7 * time.Second)

	crashed := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(e.work, "rec-crash"), crashed).CombinedOutput(); err != nil {
		t.Fatalf("snapshot: %v %s", err, out)
	}
	m, err := loadManifest(filepath.Join(crashed, "rec-crash"))
	if err != nil || m.State != stateRecording {
		t.Fatalf("snapshot manifest: %+v, %v", m, err)
	}

	rep := &reporter{}
	next := e.newRecorder(t, crashed, rep, false)
	if err := next.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if list, _ := next.List(context.Background()); len(list) != 1 || list[0].Status != recording.StatusEnding {
		t.Errorf("List during recovery = %+v, want one ending", list)
	}
	u := rep.wait(t, recording.StatusComplete, 90*time.Second)
	if !strings.Contains(u.Note, "restart") {
		t.Errorf("note = %q, want it to say the recording was interrupted", u.Note)
	}
	if u.DurationSeconds < 4 || u.DurationSeconds > 8 {
		t.Errorf("duration %.1fs, want about the 7s written before the crash", u.DurationSeconds)
	}
	checkMP4(t, e, u, u.DurationSeconds)
	if _, err := os.Stat(filepath.Join(crashed, "rec-crash")); !os.IsNotExist(err) {
		t.Errorf("recovered recording's track files left behind: %v", err)
	}
}

// ffmpeg failing leaves the recording failed with ffmpeg's own words, track files kept.
func TestComposeFailureKeepsTracks(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "rec-bad")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// A well-formed IVF file with one garbage frame: the recorder's scan accepts it, ffmpeg fails.
	ivf := append([]byte("DKIF\x00\x00\x20\x00VP80\x00\x00\x00\x00\x90\x5f\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		append([]byte{8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte("garbage!")...)...)
	if err := os.WriteFile(filepath.Join(dir, "001-video-x.ivf"), ivf, 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Timeline{Version: 1, RecordingID: "rec-bad", Room: "r", FileKey: "r/x.mp4", StartedAt: time.Now(), State: stateStopped, End: 2,
		Tracks: []Track{{File: "001-video-x.ivf", Key: "x/camera", Kind: "video", Codec: "vp8", Start: 0, End: 2}}}
	if err := saveManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	rep := &reporter{}
	rec, err := New(Config{URL: "ws://127.0.0.1:1", APIKey: "k", APISecret: "s", WorkDir: work, Reporter: rep,
		Storage: fsStorage{root: t.TempDir()}, Rooms: lksdk.NewRoomServiceClient("http://127.0.0.1:1", "k", "s"), FFmpeg: fakeFFmpeg(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(context.Background())
	if err := rec.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := rep.wait(t, recording.StatusFailed, 30*time.Second)
	if !strings.Contains(u.Error, "Invalid data found when processing input") {
		t.Errorf("error = %q, want ffmpeg's last lines", u.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "001-video-x.ivf")); err != nil {
		t.Errorf("track file not kept: %v", err)
	}
	if m, _ := loadManifest(dir); m == nil || m.State != stateFailed {
		t.Errorf("manifest state = %+v, want failed", m)
	}
	if err := rec.Stop(context.Background(), "rec-bad"); !errors.Is(err, recording.ErrUnknownHandle) {
		t.Errorf("Stop of a finished recording = %v, want ErrUnknownHandle", err)
	}
	if list, _ := rec.List(context.Background()); len(list) != 1 || list[0].Status != recording.StatusFailed {
		t.Errorf("List = %+v, want the failed recording", list)
	}
}

// fakeFFmpeg is an ffmpeg that fails the way a real one does on a broken input (with
// ffprobe beside it, as the startup check wants).
func fakeFFmpeg(t *testing.T) string {
	dir := t.TempDir()
	script := "#!/bin/sh\necho '[in#2] Error while decoding stream: something' >&2\necho 'x.ivf: Invalid data found when processing input' >&2\nexit 1\n"
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "ffmpeg")
}

// The disk fills up while writing: the recording fails with that reason, the recorder
// leaves, and the meeting goes on.
func TestDiskFullFailsRecordingOnly(t *testing.T) {
	e := newEnv(t, false)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "full")
	alice := e.publish(t, "full", "alice", red)
	e.rec.createFile = func(string) (*os.File, error) { return os.OpenFile("/dev/full", os.O_WRONLY, 0) }
	startRecording(t, e.rec, "rec-full", "full")

	u := e.rep.wait(t, recording.StatusFailed, 20*time.Second)
	if !strings.Contains(u.Error, "disk full") {
		t.Errorf("error = %q, want it to say the disk is full", u.Error)
	}
	if list, _ := e.rec.List(context.Background()); len(list) != 1 || list[0].Status != recording.StatusFailed || list[0].Error != u.Error {
		t.Errorf("List = %+v, want the failed recording with its reason", list)
	}
	// The recorder removed itself before reporting the failure, so the first answer counts;
	// only a call that got no answer (a loaded machine) is repeated.
	var ids []string
	waitFor(t, 20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := e.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: "full"})
		if err != nil {
			t.Logf("list participants: %v", err)
			return false
		}
		for _, p := range res.Participants {
			ids = append(ids, p.Identity)
		}
		return true
	})
	if len(ids) != 1 || ids[0] != "alice" {
		t.Errorf("participants after the failure = %v, want only alice (the recorder left)", ids)
	}
	if st := alice.Room.ConnectionState(); st != lksdk.ConnectionStateConnected {
		t.Errorf("publisher state %s, want connected", st)
	}
}

// The recorder is thrown out of the room (a disconnect the SDK does not recover from): it
// rejoins by itself, the gap is in the manifest and recording goes on.
func TestRecorderRejoinsAfterDisconnect(t *testing.T) {
	e := newEnv(t, true)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "kicky")
	e.publish(t, "kicky", "alice", red)
	began := time.Now()
	startRecording(t, e.rec, "rec-kick", "kicky")
	time.Sleep(3 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.rooms.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "kicky", Identity: "parley-recorder-rec-kick"}); err != nil {
		t.Fatalf("remove the recorder: %v", err)
	}
	kicked := time.Since(began).Seconds()
	waitFor(t, 20*time.Second, func() bool { return hasTrackAfter(e.rec, "rec-kick", kicked) })
	time.Sleep(2 * time.Second)
	stopRecording(t, e.rec, "rec-kick")
	lasted := time.Since(began).Seconds()
	u := e.rep.wait(t, recording.StatusComplete, 60*time.Second)
	checkMP4(t, e, u, lasted)
	m, err := loadManifest(filepath.Join(e.work, "rec-kick"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Gaps) != 1 || m.Gaps[0].Start < kicked-1 || m.Gaps[0].End > kicked+5 {
		t.Errorf("gaps = %+v, want one just after %.1fs", m.Gaps, kicked)
	}
	if n := len(m.Tracks); n != 4 {
		t.Errorf("%d track files, want 4 (audio and video, before and after the rejoin)", n)
	}
}
