package builtin

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// clock is a settable now() for the writers.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestWriter(t *testing.T, codec string) (*trackWriter, *clock, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "track"+fileExt(codec))
	f, err := createExclusive(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(1000, 0)}
	w, err := newTrackWriter(f, codec, 0, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return w, c, path
}

// Lost and reordered Opus packets: the Ogg file keeps the wall clock's length, the gap
// filled with silence, so later audio stays in place.
func TestOpusWriterKeepsTimelineAcrossLossAndReordering(t *testing.T) {
	w, c, path := newTestWriter(t, "opus")
	const n = 200
	order := make([]int, 0, n)
	for i := 0; i < n; i++ {
		switch {
		case i >= 50 && i < 60: // lost
		case i == 100:
			order = append(order, 101, 100) // reordered
		case i == 101:
		default:
			order = append(order, i)
		}
	}
	for _, i := range order {
		c.t = time.Unix(1000, 0).Add(time.Duration(i) * 20 * time.Millisecond)
		pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(60000 + i), Timestamp: uint32(4294960000 + i*960), SSRC: 7},
			Payload: []byte{0xfc, 0xff, 0xfe}} // CELT 20 ms stereo
		if err := w.push(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	length, pages, err := scanOgg(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last packet stays in the jitter buffer at close: 199 packets of 20 ms.
	if want := 199 * 0.020; math.Abs(length-want) > 0.001 {
		t.Errorf("ogg length %.3fs (%d pages), want %.3fs: the lost 200 ms must be silence", length, pages, want)
	}
	if got := w.mediaEnd(); math.Abs(got-length) > 0.001 {
		t.Errorf("mediaEnd %.3f, file %.3f", got, length)
	}
}

// A lost VP8 frame makes the writer skip to the next keyframe and ask for one (PLI); the
// IVF file keeps the frames' real times.
func TestVP8WriterResyncsOnKeyframeAfterLoss(t *testing.T) {
	w, c, path := newTestWriter(t, "vp8")
	plis := 0
	w.pli = func() { plis++ }
	w.requestKeyframe(true)
	for i := 0; i < 60; i++ {
		if i == 25 {
			continue // lost
		}
		c.t = time.Unix(1000, 0).Add(time.Duration(i) * time.Second / 30)
		vp8 := byte(0x01) // inter frame
		if i%10 == 0 {
			vp8 = 0x00 // keyframe
		}
		pkt := &rtp.Packet{Header: rtp.Header{Marker: true, SequenceNumber: uint16(65500 + i), Timestamp: uint32(i * 3000), SSRC: 9},
			Payload: []byte{0x10, vp8, 0xaa, 0xbb}}
		if err := w.push(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	end, frames, err := scanIVF(path)
	if err != nil {
		t.Fatal(err)
	}
	// Frames 0-24 and 30-58 (59 is still in the jitter buffer); 26-29 cannot be decoded.
	if frames != 25+29 {
		t.Errorf("frames = %d, want %d", frames, 25+29)
	}
	if want := 58.0/30 + 1.0/30; math.Abs(end-want) > 0.002 {
		t.Errorf("end = %.3fs, want %.3fs", end, want)
	}
	if plis < 2 {
		t.Errorf("PLIs = %d, want one at start and one after the loss", plis)
	}
	if st, _ := os.Stat(path); st.Size() != 32+int64(frames)*(12+3) {
		t.Errorf("file size %d", st.Size())
	}
}
