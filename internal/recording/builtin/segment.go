package builtin

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Segments: while a meeting is recorded, its timeline is composed in segments of
// Config.SegmentSeconds in the background, each an MP4 of H.264 video and a separate AAC
// stream; after stop only the tail is left to compose and the segments are joined without
// re-encoding (concat demuxer for the video, the AAC frames appended to one stream).
//
// Audio continuity: an AAC encoder delays its output by one frame (1024 samples) and a
// decoded frame overlaps its neighbours, so segments encoded alone would click and drift
// by a frame at every join. Each segment's audio is therefore encoded from one frame
// before its start to a few frames past its end, and only the frames covering exactly the
// segment are kept: joined, they decode as one stream whose overlaps were computed from
// the same signal on both sides. A segment's length is a whole number of AAC frames and
// of video frames, so the two timelines never drift apart.
const (
	aacFrame    = 1024         // samples per AAC frame
	segLeadIn   = aacFrame     // audio encoded before a segment: the encoder's delay
	segSkip     = 2            // AAC frames dropped at a segment's start: delay + lead-in
	segLeadOut  = 4 * aacFrame // audio encoded past its end, so its last frames are whole
	segLag      = 2.5          // seconds a segment waits past its end: jitter buffers, 1 s file flush
	keyLead     = 0.5          // a keyframe is requested this long before each boundary
	segDirName  = "seg"        // segments inside a recording's work directory
	segAudioExt = ".aac"       // ADTS
	segVideoExt = ".mp4"       // video only
	aacRate     = float64(48000)
)

// segmentLength rounds want up to a length that holds whole AAC frames and whole video
// frames at fps (8 s: 375 AAC frames, 240 video frames at 30 fps).
func segmentLength(want float64, fps int) float64 {
	base := int(math.Ceil(want * aacRate / aacFrame))
	for n := base; n < 2*base+2; n++ {
		s := float64(n*aacFrame) / aacRate
		if f := s * float64(fps); math.Abs(f-math.Round(f)) < 1e-6 {
			return s
		}
	}
	return float64(base*aacFrame) / aacRate
}

// segment is one piece of the timeline: [A, B), Frames video frames, Packets AAC frames.
type segment struct {
	K       int
	A, B    float64
	Frames  int
	Packets int
	Partial bool // shorter than the segment length: the tail, composed at stop
}

// planSegments cuts [0, end) into segments of length seg.
func planSegments(end, seg float64, fps int) []segment {
	var out []segment
	for k := 0; float64(k)*seg < end-1e-6; k++ {
		a, b := float64(k)*seg, min(float64(k+1)*seg, end)
		out = append(out, fullOrTail(k, a, b, seg, fps))
	}
	return out
}

func fullOrTail(k int, a, b, seg float64, fps int) segment {
	s := segment{K: k, A: a, B: b, Partial: b-a < seg-1e-6}
	s.Frames = max(1, int(math.Round((b-a)*float64(fps))))
	s.Packets = max(1, int(math.Ceil((b-a)*aacRate/aacFrame-1e-6)))
	return s
}

// names of a segment's files in the segment directory; a tail's name carries its length
// so a longer tail composed later (after a restart) is not mistaken for it.
func (s segment) name(ext string) string {
	if s.Partial {
		return fmt.Sprintf("%05d-%d%s", s.K, s.Frames, ext)
	}
	return fmt.Sprintf("%05d%s", s.K, ext)
}

// done reports whether both of the segment's files exist (they are renamed into place).
func (s segment) done(segDir string) bool {
	for _, ext := range []string{segVideoExt, segAudioExt} {
		if _, err := os.Stat(filepath.Join(segDir, s.name(ext))); err != nil {
			return false
		}
	}
	return true
}

// segmentInput is one track file cut for a segment.
type segmentInput struct {
	args  []string // -ss and -i
	track int
	shift float64 // video: timeline offset of the cut's first frame from the segment start
}

// segmentArgs builds the ffmpeg command and filter graph composing sg of m. Video inputs
// are cut from their keyframe before the segment into segDir (idx caches the keyframes);
// audio inputs are seeked. The caller removes the cuts.
func segmentArgs(m *Timeline, dir, segDir string, sg segment, idx map[int]*ivfIndex, w, h, fps, threads int, script, vout, aout, tmp string) ([]string, string, []string, error) {
	vd := float64(sg.Frames) / float64(fps)
	origin := sg.A - segLeadIn/aacRate
	aw := float64(segLeadIn+sg.Packets*aacFrame+segLeadOut) / aacRate
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
		"-filter_complex_threads", strconv.Itoa(max(threads, 1)),
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=black:s=%dx%d:r=%d:d=%.6f", w, h, fps, vd),
		"-f", "lavfi", "-i", fmt.Sprintf("anullsrc=r=48000:cl=stereo:d=%.6f", aw)}
	var g strings.Builder
	var cuts []string
	var audio []string
	input := 2
	// Layout over the whole timeline so far (tiles keep their order of first appearance),
	// then the placements that fall in this segment, in its own time.
	var spans []videoSpan
	var spanTrack []int
	for i, t := range m.Tracks {
		end := t.End
		if t.Open || end <= t.Start {
			end = sg.B
		}
		if t.Start < 0 || t.Kind != "video" {
			continue
		}
		spans = append(spans, videoSpan{Key: t.Key, Start: t.Start, End: min(end, sg.B), Mutes: t.Mutes, Screen: t.Source == "screen_share"})
		spanTrack = append(spanTrack, i)
	}
	places := layout(spans, w, h)
	type vin struct {
		input int
		ps    []placement
	}
	var videos []vin
	for j, i := range spanTrack {
		var ps []placement
		for _, p := range places[j] {
			if p.B <= sg.A || p.A >= sg.B {
				continue
			}
			p.A, p.B = max(p.A, sg.A)-sg.A, min(p.B, sg.B)-sg.A
			if p.B >= sg.B-sg.A-1e-6 {
				p.B = sg.B - sg.A + 1 // the overlay's enable misses the last frame when it ends on the segment end
			}
			ps = append(ps, p)
		}
		if len(ps) == 0 {
			continue
		}
		t := m.Tracks[i]
		x := idx[i]
		if x == nil {
			x = &ivfIndex{path: filepath.Join(dir, t.File), codec: t.Codec}
			idx[i] = x
		}
		cut := filepath.Join(segDir, fmt.Sprintf("cut-%05d-%03d%s", sg.K, i, tmp))
		first, n, err := x.extract(cut, sg.A-t.Start, sg.B-t.Start)
		if err != nil {
			return nil, "", cuts, fmt.Errorf("cut %s: %w", t.File, err)
		}
		cuts = append(cuts, cut)
		if n == 0 {
			continue
		}
		args = append(args, "-i", cut)
		fmt.Fprintf(&g, "[%d:v]setpts=PTS-STARTPTS+(%.6f)/TB[c%d];\n", input, t.Start+first-sg.A, input)
		videos = append(videos, vin{input, ps})
		input++
	}
	for _, t := range m.Tracks {
		end := t.End
		if t.Open || end <= t.Start {
			end = sg.B + 1
		}
		if t.Start < 0 || t.Kind != "audio" || end <= origin || t.Start >= origin+aw {
			continue
		}
		lead := t.Start + opusPreSkipSecs - origin // where the decoded audio begins in the window
		if lead < 0 {
			args = append(args, "-ss", fmt.Sprintf("%.6f", -lead))
			lead = 0
		}
		args = append(args, "-i", filepath.Join(dir, t.File))
		label := fmt.Sprintf("a%d", input)
		fmt.Fprintf(&g, "[%d:a]aresample=48000,adelay=delays=%dS:all=1[%s];\n", input, int(math.Round(lead*aacRate)), label)
		audio = append(audio, "["+label+"]")
		input++
	}
	mixAudio(&g, audio)
	prev := "0:v"
	n := 0
	for _, v := range videos {
		prev = overlayTiles(&g, prev, v.input, v.ps, &n, "")
	}
	fmt.Fprintf(&g, "[%s]format=yuv420p[vout]", prev)
	args = append(args, "-filter_complex_script", script,
		// The same encoder settings for every segment, so the joined stream is one H.264
		// stream; no B-frames, so each segment's timestamps start at its first frame.
		"-map", "[vout]", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-bf", "0",
		"-g", strconv.Itoa(4*fps), "-pix_fmt", "yuv420p", "-r", strconv.Itoa(fps), "-threads", strconv.Itoa(threads),
		"-frames:v", strconv.Itoa(sg.Frames), "-f", "mp4", vout,
		"-map", "[aout]", "-vn", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-f", "adts", aout)
	return args, g.String(), cuts, nil
}

// adtsFrames returns the byte ranges of the ADTS frames in b.
func adtsFrames(b []byte) ([][2]int, error) {
	var out [][2]int
	for i := 0; i < len(b); {
		if len(b)-i < 7 || b[i] != 0xff || b[i+1]&0xf0 != 0xf0 {
			return out, errors.New("not an ADTS stream")
		}
		n := int(b[i+3]&3)<<11 | int(b[i+4])<<3 | int(b[i+5])>>5
		if n < 7 || i+n > len(b) {
			return out, errors.New("truncated ADTS frame")
		}
		out = append(out, [2]int{i, i + n})
		i += n
	}
	return out, nil
}

// appendSegmentAudio appends to w the AAC frames of a segment's audio file that cover the
// segment itself (see the package comment on segments).
func appendSegmentAudio(w io.Writer, path string, packets int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fr, err := adtsFrames(b)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(fr) < segSkip+packets {
		return fmt.Errorf("%s: %d AAC frames, want %d", filepath.Base(path), len(fr), segSkip+packets)
	}
	_, err = w.Write(b[fr[segSkip][0]:fr[segSkip+packets-1][1]])
	return err
}
