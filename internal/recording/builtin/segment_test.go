package builtin

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// testSeg is the segment length of these tests: short, so a short meeting has several
// segments composed while it is recorded.
var testSeg = segmentLength(3.2, 30)

// segmentsDone lists the segment files composed so far in a recording's work directory.
func segmentsDone(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	out := map[string]os.FileInfo{}
	es, _ := os.ReadDir(filepath.Join(dir, segDirName))
	for _, e := range es {
		if ext := filepath.Ext(e.Name()); ext == segVideoExt || ext == segAudioExt {
			if fi, err := e.Info(); err == nil {
				out[e.Name()] = fi
			}
		}
	}
	return out
}

// Two publishers recorded for ~14 s with 3.2 s segments: segments are composed while the
// meeting goes on, and the joined MP4 has the meeting's length, both streams, the audio
// as long as the video, and neither silence nor a black tile at any join.
func TestSegmentsComposedDuringMeetingJoinSeamlessly(t *testing.T) {
	e := newSegEnv(t, true, testSeg)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	blue := genMedia(t, lktest.MediaSpec{Color: "blue", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 660, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "segs")
	e.publish(t, "segs", "alice", red)
	e.publish(t, "segs", "bob", blue)
	began := time.Now()
	startRecording(t, e.rec, "rec-seg", "segs")
	dir := filepath.Join(e.work, "rec-seg")
	// Two segments composed while recording (each waits segLag past its end).
	waitFor(t, 90*time.Second, func() bool { return len(segmentsDone(t, dir)) >= 4 })
	if d := time.Since(began).Seconds(); d < 14 {
		time.Sleep(time.Duration((14 - d) * float64(time.Second)))
	}
	during := len(segmentsDone(t, dir)) / 2
	stopRecording(t, e.rec, "rec-seg")
	lasted := time.Since(began).Seconds()
	u := e.rep.wait(t, recording.StatusComplete, 90*time.Second)
	path := checkMP4(t, e, u, lasted)
	t.Logf("%d segments composed during the meeting, %d in all", during, len(segmentsDone(t, dir))/2)

	if d := os.Getenv("PARLEY_TEST_KEEP"); d != "" {
		_ = exec.Command("cp", "-a", path, dir, d).Run()
	}
	vd, ad := streamDurations(t, path)
	if math.Abs(vd-ad) > 0.05 {
		t.Errorf("video %.3fs, audio %.3fs: they drift apart", vd, ad)
	}
	pcm := decodeAudio(t, path)
	if got, want := float64(len(pcm))/48000, ad; math.Abs(got-want) > 0.05 {
		t.Errorf("decoded %.3fs of audio, the stream says %.3fs", got, want)
	}
	m, err := loadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tone float64 // when both tones are surely playing
	for _, tr := range m.Tracks {
		if tr.Kind == "audio" {
			tone = max(tone, tr.Start+0.5)
		}
	}
	typical := rms(pcm, int(tone*48000), int((lasted-1)*48000))
	// The track files themselves, placed on the timeline: a loaded machine can lose a
	// packet (written as silence), which is not a join's fault.
	type source struct {
		pcm []int16
		at  int // timeline sample of the track's first decoded sample
	}
	var sources []source
	for _, tr := range m.Tracks {
		if tr.Kind == "audio" {
			sources = append(sources, source{decodeAudio(t, filepath.Join(dir, tr.File)), int(math.Round((tr.Start + opusPreSkipSecs) * 48000))})
		}
	}
	for k := 1; float64(k)*testSeg < lasted-1; k++ {
		j := float64(k) * testSeg
		if j < tone {
			continue
		}
		for w := -0.04; w < 0.04; w += 0.005 {
			a := int((j + w) * 48000)
			var want float64
			for _, s := range sources {
				want += rms(s.pcm, a-s.at, a-s.at+240)
			}
			if v := rms(pcm, a, a+240); v < typical/3 && want >= typical/3 {
				t.Errorf("join at %.2fs: 5 ms at %+.3fs has RMS %.0f, the tracks %.0f, typical %.0f (a gap)", j, w, v, want, typical)
			}
		}
		for _, at := range []float64{j + 0.01, j - 0.04} {
			f := frameAt(t, path, at)
			l, r := colorAt(f, 16, 18), colorAt(f, 48, 18)
			if !(l == "red" && r == "blue" || l == "blue" && r == "red") {
				t.Errorf("at %.2fs (join %.2fs) the tiles are %s and %s, want red and blue", at, j, l, r)
			}
		}
	}
}

// Parley dies mid-meeting with segments composed: the next process's Recover composes the
// rest, reusing the segments that were whole (not composed again) and composing again one
// that was lost (as if it had failed).
func TestRecoverReusesComposedSegments(t *testing.T) {
	e := newSegEnv(t, true, testSeg)
	red := genMedia(t, lktest.MediaSpec{Color: "red", Width: 320, Height: 240, FPS: 15, VideoKbps: 150, ToneHz: 440, Seconds: 2, StrictGOP: true})
	e.createRoom(t, "segcrash")
	e.publish(t, "segcrash", "alice", red)
	startRecording(t, e.rec, "rec-segcrash", "segcrash")
	dir := filepath.Join(e.work, "rec-segcrash")
	waitFor(t, 90*time.Second, func() bool { return len(segmentsDone(t, dir)) >= 6 })

	crashed := t.TempDir()
	if out, err := exec.Command("cp", "-a", dir, crashed).CombinedOutput(); err != nil {
		t.Fatalf("snapshot: %v %s", err, out)
	}
	cdir := filepath.Join(crashed, "rec-segcrash")
	before := segmentsDone(t, cdir)
	lost := (&segment{K: 1}).name(segVideoExt)
	if err := os.Remove(filepath.Join(cdir, segDirName, lost)); err != nil {
		t.Fatal(err)
	}
	rep := &reporter{}
	next := e.newRecorder(t, crashed, rep, true)
	if err := next.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := rep.wait(t, recording.StatusComplete, 90*time.Second)
	checkMP4(t, e, u, u.DurationSeconds)
	if u.DurationSeconds < 3*testSeg {
		t.Errorf("recovered %.1fs, want at least the %d segments composed before the crash", u.DurationSeconds, len(before)/2)
	}
	after := segmentsDone(t, cdir)
	for name, fi := range before {
		a := after[name]
		switch {
		case a == nil:
			t.Errorf("segment file %s gone after recovery", name)
		case name == lost || name == (&segment{K: 1}).name(segAudioExt):
		case !a.ModTime().Equal(fi.ModTime()) || a.Size() != fi.Size():
			t.Errorf("segment file %s was composed again (it was whole)", name)
		}
	}
	if after[lost] == nil {
		t.Errorf("lost segment %s not composed again", lost)
	}
}

func TestPlanSegments(t *testing.T) {
	seg := segmentLength(8, 30)
	if seg != 8 {
		t.Fatalf("segmentLength(8, 30) = %v", seg)
	}
	if s := segmentLength(3, 25); math.Abs(s*aacRate/aacFrame-math.Round(s*aacRate/aacFrame)) > 1e-9 || math.Abs(s*25-math.Round(s*25)) > 1e-9 || s < 3 {
		t.Errorf("segmentLength(3, 25) = %v: not whole AAC and video frames", s)
	}
	plan := planSegments(20.5, seg, 30)
	if len(plan) != 3 || plan[2].A != 16 || !plan[2].Partial || plan[2].Frames != 135 || plan[2].Packets != 211 || plan[1].Partial || plan[1].Packets != 375 {
		t.Errorf("plan = %+v", plan)
	}
	if plan[2].name(segVideoExt) == (segment{K: 2}).name(segVideoExt) {
		t.Errorf("a tail and a full segment share a name")
	}
}

// streamDurations is the video and audio stream durations ffprobe reads.
func streamDurations(t *testing.T, path string) (video, audio float64) {
	t.Helper()
	out := runCmd(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "json", path)
	var p struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Duration  string `json:"duration"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Streams {
		d, _ := strconv.ParseFloat(s.Duration, 64)
		if s.CodecType == "video" {
			video = d
		} else {
			audio = d
		}
	}
	return video, audio
}

// decodeAudio decodes a file's audio to mono 48 kHz samples.
func decodeAudio(t *testing.T, path string) []int16 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", "48000", "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("decode audio: %v", err)
	}
	pcm := make([]int16, len(out)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
	}
	return pcm
}

// rms of pcm[a:b] (clamped).
func rms(pcm []int16, a, b int) float64 {
	a, b = max(a, 0), min(b, len(pcm))
	if b <= a {
		return 0
	}
	var s float64
	for _, v := range pcm[a:b] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(b-a))
}
