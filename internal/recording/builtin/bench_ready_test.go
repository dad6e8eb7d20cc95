package builtin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// readyFigures is one "recording ready at stop" measurement.
type readyFigures struct {
	Minutes        float64 `json:"minutes"`
	Synthetic      bool    `json:"synthetic"` // track files generated, not recorded live
	ReadySeconds   float64 `json:"ready_seconds"`
	TailSeconds    float64 `json:"tail_seconds"` // media left to compose at stop
	RecordCPU      float64 `json:"record_cpu_s_per_min"`
	ComposeCPU     float64 `json:"compose_cpu_s_per_min"`
	CPUPctOfCore   float64 `json:"cpu_pct_of_one_core"`
	Segments       int     `json:"segments"`
	AtStop         int     `json:"segments_composed_at_stop"` // not composed during the meeting
	LoadAvg        string  `json:"load_average"`              // of the machine, at stop
	DurationSec    float64 `json:"duration_s"`
	VideoAudioDiff float64 `json:"video_audio_diff_s"`
	Gaps           int     `json:"gaps"` // packets whose timestamp does not follow the one before
	FileMiB        float64 `json:"file_mib"`
	Check          string  `json:"check"` // "ok" or what the ffprobe check found wrong
}

// TestBenchReadyAtStop measures the time from stop to a stored MP4 and the recording's
// CPU per meeting minute, for the meeting lengths in PARLEY_BENCH_READY (minutes, default
// "1"). One minute is recorded live (two publishers from a child process); longer ones are
// synthetic: track files of that length written like the recorder's (looped VP8 and Opus
// of two publishers), their segments composed as the meeting would have (two at a time,
// at normal priority, to save the bench's time; CPU is what is counted), then stopped. It prints one
// "BENCH_READY {json}" line per length.
func TestBenchReadyAtStop(t *testing.T) {
	if os.Getenv("PARLEY_BENCH") != "1" {
		t.Skip("set PARLEY_BENCH=1 to measure the recorder")
	}
	lengths := os.Getenv("PARLEY_BENCH_READY")
	if lengths == "" {
		lengths = "1"
	}
	var recordCPU float64
	for _, s := range strings.Split(lengths, ",") {
		min, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || min <= 0 {
			t.Fatalf("PARLEY_BENCH_READY: %q", s)
		}
		var f readyFigures
		if min <= 1 {
			f = benchReadyLive(t, min)
			recordCPU = f.RecordCPU
		} else {
			f = benchReadySynthetic(t, min)
			f.RecordCPU = recordCPU // the live run's: writing tracks costs the same each minute
		}
		f.CPUPctOfCore = 100 * (f.RecordCPU + f.ComposeCPU) / 60
		b, _ := json.Marshal(f)
		fmt.Printf("BENCH_READY %s\n", b)
		t.Logf("%.0f min (synthetic %v): ready %.2fs after stop (tail %.1fs, %d segments composed at stop, load %s), CPU %.1f%% of a core (record %.1fs + compose %.1fs per meeting minute), %s",
			f.Minutes, f.Synthetic, f.ReadySeconds, f.TailSeconds, f.AtStop, f.LoadAvg, f.CPUPctOfCore, f.RecordCPU, f.ComposeCPU, f.Check)
	}
}

func benchReadyLive(t *testing.T, minutes float64) readyFigures {
	e := newEnv(t, false)
	defer startBenchPublishers(t, e, "ready")()
	u0, _ := ReadUsage()
	began := time.Now()
	startRecording(t, e.rec, "rec-ready", "ready")
	time.Sleep(time.Duration(minutes*60*float64(time.Second)) - time.Since(began))
	stopAt := time.Now()
	before := 0
	for name := range segmentsDone(t, filepath.Join(e.work, "rec-ready")) {
		if filepath.Ext(name) == segVideoExt {
			before++
		}
	}
	load := loadAverage()
	stopRecording(t, e.rec, "rec-ready")
	u := e.rep.wait(t, recording.StatusComplete, 10*time.Minute)
	ready := time.Since(stopAt)
	u2, _ := ReadUsage()
	secs := u.DurationSeconds
	seg := e.rec.cfg.SegmentSeconds
	f := readyFigures{Minutes: minutes, ReadySeconds: ready.Seconds(),
		TailSeconds: secs - seg*math.Floor((secs-segLag)/seg),
		RecordCPU:   (u2.CPU - u0.CPU).Seconds() / (secs / 60),
		ComposeCPU:  (u2.ChildCPU - u0.ChildCPU).Seconds() / (secs / 60),
		Segments:    len(planSegments(secs, seg, e.rec.cfg.FPS)), FileMiB: float64(u.SizeBytes) / (1 << 20), LoadAvg: load}
	f.AtStop = f.Segments - before
	verifyReady(t, &f, filepath.Join(e.store.root, filepath.FromSlash(u.FileKey)), secs)
	return f
}

func benchReadySynthetic(t *testing.T, minutes float64) readyFigures {
	work, store := t.TempDir(), fsStorage{root: t.TempDir()}
	rep := &reporter{}
	rec, err := New(Config{URL: "ws://127.0.0.1:1", APIKey: "k", APISecret: "s", WorkDir: work, Reporter: rep, Storage: store,
		Rooms: noRooms{}})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(context.Background())
	id, end := "rec-synth", minutes*60
	dir := filepath.Join(work, id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	m := &Timeline{Version: 1, RecordingID: id, Room: "r", FileKey: "r/synth.mp4", StartedAt: time.Now(), State: stateRecording,
		SegmentSeconds: rec.cfg.SegmentSeconds}
	for i, who := range []string{"alice", "bob"} {
		clip := genMedia(t, lktest.MediaSpec{Pattern: "testsrc", Width: 640, Height: 360, FPS: 25, VideoKbps: 600, GOP: 50,
			SampleRate: 48000, AudioKbps: 48, ToneHz: 440 + 220*i, Seconds: 10})
		start := 0.2 + 0.1*float64(i)
		a := fmt.Sprintf("%03d-audio-%s.ogg", 2*i, who)
		v := fmt.Sprintf("%03d-video-%s.ivf", 2*i+1, who)
		writeSynthTracks(t, dir, a, v, clip, end-start)
		m.Tracks = append(m.Tracks,
			Track{File: a, Key: who + "/microphone", Participant: who, Kind: "audio", Source: "microphone", Codec: "opus", Start: start, Open: true},
			Track{File: v, Key: who + "/camera", Participant: who, Kind: "video", Source: "camera", Codec: "vp8", Start: start, Open: true})
	}
	u0, _ := ReadUsage()
	// The meeting: every segment that ends segLag before the end, composed one thread each.
	seg := m.SegmentSeconds
	var during []segment
	for k := 0; float64(k+1)*seg+segLag <= end; k++ {
		during = append(during, fullOrTail(k, float64(k)*seg, float64(k+1)*seg, seg, rec.cfg.FPS))
	}
	var wg sync.WaitGroup
	jobs := make(chan segment)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx := map[int]*ivfIndex{}
			for sg := range jobs {
				if err := rec.composeSegment(context.Background(), rec.log, m, dir, sg, idx, 1, true); err != nil {
					t.Errorf("segment %d: %v", sg.K, err)
				}
			}
		}()
	}
	for _, sg := range during {
		jobs <- sg
	}
	close(jobs)
	wg.Wait()
	// Stop: the track files end, the recording is stopped and the composition queued.
	for i := range m.Tracks {
		m.Tracks[i].End, m.Tracks[i].Open = end, false
	}
	m.State, m.End = stateStopped, end
	if err := saveManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	stopAt, load := time.Now(), loadAverage()
	rec.startJob(id, dir, "", nil)
	u := rep.wait(t, recording.StatusComplete, 10*time.Minute)
	ready := time.Since(stopAt)
	u1, _ := ReadUsage()
	f := readyFigures{Minutes: minutes, Synthetic: true, ReadySeconds: ready.Seconds(), TailSeconds: end - float64(len(during))*seg,
		ComposeCPU: (u1.ChildCPU - u0.ChildCPU).Seconds() / minutes,
		Segments:   len(planSegments(end, seg, rec.cfg.FPS)), FileMiB: float64(u.SizeBytes) / (1 << 20), LoadAvg: load}
	f.AtStop = f.Segments - len(during)
	verifyReady(t, &f, filepath.Join(store.root, filepath.FromSlash(u.FileKey)), end)
	return f
}

// writeSynthTracks writes secs of clip, looped, as the recorder's Ogg and IVF files.
func writeSynthTracks(t *testing.T, dir, audio, video string, clip lktest.Media, secs float64) {
	af, err := os.Create(filepath.Join(dir, audio))
	if err != nil {
		t.Fatal(err)
	}
	abw := bufio.NewWriterSize(af, 256<<10)
	ogg, err := oggwriter.NewWith(abw, opusRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; float64(i)*0.02 < secs; i++ {
		if err := ogg.WriteRTP(&rtp.Packet{Header: rtp.Header{SSRC: 1}, Payload: clip.Audio[i%len(clip.Audio)]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ogg.Close(); err != nil {
		t.Fatal(err)
	}
	_ = abw.Flush()
	_ = af.Close()
	vf, err := os.Create(filepath.Join(dir, video))
	if err != nil {
		t.Fatal(err)
	}
	vbw := bufio.NewWriterSize(vf, 256<<10)
	ivf, err := newIVFWriter(vbw, "vp8")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; float64(i)/float64(clip.FPS) < secs; i++ {
		if err := ivf.writeFrame(clip.Video[i%len(clip.Video)], uint64(i)*ivfTimebase/uint64(clip.FPS)); err != nil {
			t.Fatal(err)
		}
	}
	if err := vbw.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = vf.Close()
}

// verifyReady checks the stored MP4 with ffprobe: its length, both streams, the audio as
// long as the video, and every packet's timestamp following the one before (no gap or
// overlap at any segment join).
func verifyReady(t *testing.T, f *readyFigures, path string, want float64) {
	var problems []string
	vd, ad := streamDurations(t, path)
	f.DurationSec, f.VideoAudioDiff = vd, math.Abs(vd-ad)
	if vd == 0 || ad == 0 {
		problems = append(problems, fmt.Sprintf("streams: video %.1fs, audio %.1fs", vd, ad))
	}
	if math.Abs(vd-want) > 1 {
		problems = append(problems, fmt.Sprintf("duration %.2fs, meeting %.2fs", vd, want))
	}
	if f.VideoAudioDiff > 0.05 {
		problems = append(problems, fmt.Sprintf("audio and video differ by %.3fs", f.VideoAudioDiff))
	}
	for _, st := range []string{"v", "a"} {
		out := runCmd(t, "ffprobe", "-v", "error", "-select_streams", st, "-show_entries", "packet=pts,duration", "-of", "csv=p=0", path)
		var prev, prevDur int64 = -1, 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pts, dur, _ := strings.Cut(line, ",")
			p, err1 := strconv.ParseInt(pts, 10, 64)
			d, err2 := strconv.ParseInt(dur, 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			if prev >= 0 && p != prev+prevDur {
				f.Gaps++
			}
			prev, prevDur = p, d
		}
	}
	if f.Gaps > 0 {
		problems = append(problems, fmt.Sprintf("%d packets not following the one before", f.Gaps))
	}
	st, err := os.Stat(path)
	if err == nil {
		f.FileMiB = float64(st.Size()) / (1 << 20)
	}
	f.Check = "ok"
	if len(problems) > 0 {
		f.Check = strings.Join(problems, "; ")
		t.Errorf("%s: %s", path, f.Check)
	}
}

// loadAverage is the machine's 1-minute load average (the bench shares it).
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// noRooms is a room service for a recorder that never joins a room.
type noRooms struct{}

func (noRooms) RemoveParticipant(context.Context, *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error) {
	return &livekit.RemoveParticipantResponse{}, nil
}
