package builtin

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

func startRecording(t *testing.T, rec *Recorder, id, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := rec.Start(ctx, recording.StartRequest{RecordingID: id, Room: room, StartedAt: time.Now(),
		FileKey: recording.FileKey(room, id, time.Now())})
	if err != nil || h != id {
		t.Fatalf("Start = %q, %v", h, err)
	}
}

func stopRecording(t *testing.T, rec *Recorder, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rec.Stop(ctx, id); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// checkMP4 checks the stored file: one H.264 yuv420p and one AAC stream, duration near want.
func checkMP4(t *testing.T, e *env, u recording.Update, want float64) string {
	t.Helper()
	path := filepath.Join(e.store.root, filepath.FromSlash(u.FileKey))
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stored recording: %v", err)
	}
	if u.SizeBytes != st.Size() {
		t.Errorf("reported size %d, stored %d", u.SizeBytes, st.Size())
	}
	p, dur := ffprobe(t, path)
	var v, a int
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "video" && s.CodecName == "h264" && s.PixFmt == "yuv420p":
			v++
		case s.CodecType == "audio" && s.CodecName == "aac":
			a++
		default:
			t.Errorf("unexpected stream %+v", s)
		}
	}
	if v != 1 || a != 1 {
		t.Errorf("streams: %d h264 yuv420p, %d aac; want 1 and 1", v, a)
	}
	if math.Abs(dur-want) > 1 || math.Abs(u.DurationSeconds-want) > 1 {
		t.Errorf("duration: file %.2fs, reported %.2fs, recording lasted %.2fs", dur, u.DurationSeconds, want)
	}
	return path
}

// Two publishers, the second joining 5 s after the start, recorded for ~20 s: one MP4 whose
// grid has only the first tile at first and both tiles later.
func TestRecordTwoPublishersLateJoiner(t *testing.T) {
	e := newEnv(t, false)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	blue := genMedia(t, lktest.MediaSpec{Color: "blue", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 660, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "standup")
	e.publish(t, "standup", "alice", red)

	began := time.Now()
	startRecording(t, e.rec, "rec-1", "standup")
	if list, _ := e.rec.List(context.Background()); len(list) != 1 || list[0].Status != recording.StatusActive {
		t.Errorf("List = %+v, want one active", list)
	}
	time.Sleep(5 * time.Second)
	e.publish(t, "standup", "bob", blue)
	time.Sleep(20*time.Second - time.Since(began))
	stopRecording(t, e.rec, "rec-1")
	lasted := time.Since(began).Seconds()

	u := e.rep.wait(t, recording.StatusComplete, 90*time.Second)
	path := checkMP4(t, e, u, lasted)
	early := frameAt(t, path, 3.5)
	if n := countColor(early, "blue"); n > 0 {
		t.Errorf("at 3.5s the late joiner's tile is visible (%d blue pixels)", n)
	}
	if c := colorAt(early, 32, 18); c != "red" {
		t.Errorf("at 3.5s the centre is %s, want alice's red tile alone", c)
	}
	late := frameAt(t, path, lasted-4)
	if c := colorAt(late, 16, 18); c != "red" {
		t.Errorf("late frame left tile is %s, want red (alice)", c)
	}
	if c := colorAt(late, 48, 18); c != "blue" {
		t.Errorf("late frame right tile is %s, want blue (bob)", c)
	}
	var sawProgress bool
	for _, up := range e.rep.all() {
		sawProgress = sawProgress || (up.Status == recording.StatusEnding && up.Progress > 0)
	}
	if !sawProgress {
		t.Errorf("no composition progress reported: %+v", e.rep.all())
	}
	if _, err := os.Stat(filepath.Join(e.work, "rec-1")); !os.IsNotExist(err) {
		t.Errorf("track files kept with keepTracks=false: %v", err)
	}
}
