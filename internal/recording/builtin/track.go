package builtin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Jitter buffers: at most 512 video or 100 audio packets, and a missing packet is waited
// for at most 500 ms (video) or 300 ms (audio) of media time. They bound each track's memory
// (nothing else is buffered beyond the 64 KiB file buffer) and keep every stall well under
// the 1 s disagreement that makes writeSample trust the wall clock over the RTP clock.
const (
	maxVideoLate  = 512
	maxAudioLate  = 100
	maxVideoDelay = 500 * time.Millisecond
	maxAudioDelay = 300 * time.Millisecond
	flushEvery    = time.Second
	pliInterval   = 500 * time.Millisecond
)

// trackWriter writes one subscribed track to its file without transcoding.
type trackWriter struct {
	idx   int // index in the manifest's Tracks
	kind  string
	codec string
	clock uint32
	now   func() time.Time
	pli   func()
	// onStart is called with the wall time of the first written sample.
	onStart func(time.Time)

	f        *os.File
	bw       *bufio.Writer
	ogg      *oggwriter.OggWriter
	ivf      *ivfWriter
	sb       *samplebuilder.SampleBuilder
	ssrc     uint32
	started  bool
	needKey  bool
	lastTS   uint32
	last     time.Time // wall time of the last written sample
	pos      int64     // media position of the last sample, in clock ticks
	written  int64     // audio: samples written to the Ogg file
	lastPLI  time.Time
	seqShift uint16 // padding packets dropped so far
	// keyEvery and keyNext (video, seconds of this track's media): a keyframe is requested
	// just before each segment boundary, so composing a segment decodes from close to its
	// start (browsers send keyframes only when asked).
	keyEvery, keyNext float64
	flushed           time.Time

	// io makes writing and closing exclusive: the session may close a writer whose reader
	// is stuck, and nothing must write to the file after that.
	io     sync.Mutex
	closed bool
	end    atomic.Uint64 // float64 bits: seconds of media from the first sample to the end of the last
}

// codecOf maps a WebRTC mime type to the manifest's codec name, or "" when unsupported.
func codecOf(mime string) string {
	switch strings.ToLower(mime) {
	case "audio/opus":
		return "opus"
	case "video/vp8":
		return "vp8"
	case "video/vp9":
		return "vp9"
	case "video/h264":
		return "h264"
	}
	return ""
}

func fileExt(codec string) string {
	if codec == "opus" {
		return ".ogg"
	}
	return ".ivf"
}

// newTrackWriter writes codec to f (a new, empty file).
func newTrackWriter(f *os.File, codec string, clock uint32, now func() time.Time) (*trackWriter, error) {
	var err error
	w := &trackWriter{codec: codec, clock: clock, now: now, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	if w.clock == 0 {
		w.clock = 90000
	}
	switch codec {
	case "opus":
		w.kind = "audio"
		w.clock = opusRate
		w.ogg, err = oggwriter.NewWith(w.bw, opusRate, 2)
		w.sb = samplebuilder.New(maxAudioLate, &codecs.OpusPacket{}, opusRate, samplebuilder.WithMaxTimeDelay(maxAudioDelay))
	case "vp8", "vp9", "h264":
		w.kind = "video"
		w.ivf, err = newIVFWriter(w.bw, codec)
		var dep rtp.Depacketizer = &codecs.VP8Packet{}
		if codec == "vp9" {
			dep = &codecs.VP9Packet{}
		} else if codec == "h264" {
			dep = &codecs.H264Packet{}
		}
		w.sb = samplebuilder.New(maxVideoLate, dep, w.clock, samplebuilder.WithMaxTimeDelay(maxVideoDelay))
	default:
		err = fmt.Errorf("unsupported codec %q", codec)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// run reads the track until it ends and writes what it reads. It returns the read error
// that ended it (io.EOF when the track was closed) or the first write error.
func (w *trackWriter) run(track *webrtc.TrackRemote) error {
	w.ssrc = uint32(track.SSRC())
	if w.kind == "video" {
		w.requestKeyframe(true)
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return err
		}
		// SFU padding (bandwidth probes) carries no media; drop it and close the sequence
		// gap it leaves, or the sample builder would count it as loss and drop a frame.
		if len(pkt.Payload) == 0 || (pkt.Padding && int(pkt.Header.PaddingSize) >= len(pkt.Payload)) {
			w.seqShift++
			continue
		}
		pkt.SequenceNumber -= w.seqShift
		if err := w.push(pkt); err != nil {
			return err
		}
	}
}

// push adds a packet to the jitter buffer and writes the samples it completes.
func (w *trackWriter) push(pkt *rtp.Packet) error {
	w.io.Lock()
	defer w.io.Unlock()
	if w.closed {
		return io.EOF
	}
	w.sb.Push(pkt)
	for s := w.sb.Pop(); s != nil; s = w.sb.Pop() {
		if err := w.writeSample(s); err != nil {
			return err
		}
	}
	return nil
}

func (w *trackWriter) requestKeyframe(force bool) {
	now := w.now()
	if !force && now.Sub(w.lastPLI) < pliInterval {
		return
	}
	w.lastPLI = now
	if w.pli != nil {
		w.pli()
	}
}

// writeSample places one sample on the track's timeline and writes it. The RTP clock is
// trusted unless it disagrees with the wall clock by more than a second (a publisher that
// paused, an SFU that rewrote timestamps): then the wall clock decides.
func (w *trackWriter) writeSample(s *media.Sample) error {
	now := w.now()
	if w.kind == "video" {
		if s.PrevDroppedPackets > 0 && w.started {
			w.needKey = true
		}
		if (!w.started || w.needKey) && !isKeyframe(w.codec, s.Data) {
			w.requestKeyframe(false)
			return nil
		}
		w.needKey = false
	}
	if !w.started {
		w.started, w.lastTS, w.last, w.flushed = true, s.PacketTimestamp, now, now
		if w.onStart != nil {
			w.onStart(now)
		}
		return w.write(s.Data)
	}
	ticks := int64(int32(s.PacketTimestamp - w.lastTS))
	if ticks < 0 {
		return nil // older than what is written: a late duplicate
	}
	media := time.Duration(ticks) * time.Second / time.Duration(w.clock)
	wall := now.Sub(w.last)
	if media > wall+2*time.Second || wall > media+time.Second {
		ticks = int64(wall) * int64(w.clock) / int64(time.Second)
	}
	w.pos += ticks
	w.lastTS, w.last = s.PacketTimestamp, now
	if w.keyEvery > 0 && float64(w.pos)/float64(w.clock) >= w.keyNext {
		for float64(w.pos)/float64(w.clock) >= w.keyNext {
			w.keyNext += w.keyEvery
		}
		w.requestKeyframe(true)
	}
	return w.write(s.Data)
}

func (w *trackWriter) write(data []byte) error {
	var err error
	if w.ogg != nil {
		err = w.writeOpus(data)
	} else {
		err = w.ivf.writeFrame(data, uint64(w.pos)*ivfTimebase/uint64(w.clock))
		w.setEnd(float64(w.pos)/float64(w.clock) + 1.0/30)
	}
	if err == nil && w.now().Sub(w.flushed) >= flushEvery {
		w.flushed = w.now()
		err = w.bw.Flush()
	}
	return err
}

// writeOpus fills the gap before the packet with silence, then writes it.
func (w *trackWriter) writeOpus(data []byte) error {
	n, err := opusSamples(data)
	if err != nil {
		return nil // not decodable: skip rather than corrupt the file
	}
	for w.pos-w.written >= opusFrame20ms {
		if err := w.ogg.WriteRTP(&rtp.Packet{Header: rtp.Header{SSRC: w.ssrc}, Payload: opusSilence}); err != nil {
			return err
		}
		w.written += opusFrame20ms
	}
	if err := w.ogg.WriteRTP(&rtp.Packet{Header: rtp.Header{SSRC: w.ssrc}, Payload: data}); err != nil {
		return err
	}
	w.written += int64(n)
	w.setEnd(float64(w.written) / opusRate)
	return nil
}

func (w *trackWriter) setEnd(v float64) { w.end.Store(math.Float64bits(v)) }

// mediaEnd is the length of media written so far, in seconds.
func (w *trackWriter) mediaEnd() float64 { return math.Float64frombits(w.end.Load()) }

// close flushes and closes the file; it is safe to call more than once.
func (w *trackWriter) close() error {
	w.io.Lock()
	defer w.io.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.ogg != nil {
		err = w.ogg.Close()
	}
	err = errors.Join(err, w.bw.Flush(), w.f.Sync(), w.f.Close())
	return err
}

// isKeyframe reports whether a depacketized frame can be decoded on its own.
func isKeyframe(codec string, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch codec {
	case "vp8":
		return b[0]&0x01 == 0
	case "vp9":
		// Uncompressed header: frame_marker(2) profile(2) [reserved(1) if profile 3]
		// show_existing_frame(1) frame_type(1, 0 = key).
		bit := func(i uint) byte { return (b[0] >> (7 - i)) & 1 }
		if b[0]>>6 != 2 {
			return false
		}
		i := uint(4)
		if bit(2) == 1 && bit(3) == 1 {
			i++
		}
		return bit(i) == 0 && bit(i+1) == 0
	case "h264":
		for i := 0; i+3 < len(b); i++ {
			if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
				if t := b[i+3] & 0x1f; t == 5 || t == 7 {
					return true
				}
			}
		}
	}
	return false
}
