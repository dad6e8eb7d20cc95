package builtin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// ivfWriter writes video frames into an IVF container with a 1/90000 time base, so each
// frame keeps its real presentation time (pion's ivfwriter derives PTS from the RTP clock
// of its input, which the recorder rewrites across gaps; owning the PTS is simpler).
// H.264 frames are stored as Annex-B access units under the fourcc "H264", which ffmpeg's
// IVF demuxer reads like VP8 and VP9.
type ivfWriter struct {
	w      io.Writer
	frames uint32
	hdr    [12]byte
}

const ivfTimebase = 90000

func ivfFourCC(codec string) string {
	switch codec {
	case "vp9":
		return "VP90"
	case "h264":
		return "H264"
	default:
		return "VP80"
	}
}

func newIVFWriter(w io.Writer, codec string) (*ivfWriter, error) {
	var h [32]byte
	copy(h[0:], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header size
	copy(h[8:], ivfFourCC(codec))
	// Width and height stay 0: the decoder reads them from the bitstream.
	binary.LittleEndian.PutUint32(h[16:], ivfTimebase) // time base denominator
	binary.LittleEndian.PutUint32(h[20:], 1)           // time base numerator
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &ivfWriter{w: w}, nil
}

// writeFrame appends one frame at pts (in 1/90000 s).
func (v *ivfWriter) writeFrame(frame []byte, pts uint64) error {
	binary.LittleEndian.PutUint32(v.hdr[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(v.hdr[4:], pts)
	if _, err := v.w.Write(v.hdr[:]); err != nil {
		return err
	}
	_, err := v.w.Write(frame)
	v.frames++
	return err
}

// scanIVF finds the last complete frame of an IVF file, truncates a torn frame left by a
// crash, and returns the end time in seconds (last PTS plus one frame at 30 fps) and the
// number of complete frames.
func scanIVF(path string) (end float64, frames int, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var h [32]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil // not even a header: treated as empty
	}
	if string(h[0:4]) != "DKIF" {
		return 0, 0, errors.New("not an IVF file")
	}
	den := binary.LittleEndian.Uint32(h[16:])
	num := binary.LittleEndian.Uint32(h[20:])
	if den == 0 || num == 0 {
		return 0, 0, errors.New("IVF file with a zero time base")
	}
	good := int64(32)
	var lastPTS uint64
	var fh [12]byte
	for {
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			break
		}
		size := int64(binary.LittleEndian.Uint32(fh[0:]))
		pts := binary.LittleEndian.Uint64(fh[4:])
		if n, err := r.Discard(int(size)); err != nil || int64(n) != size {
			break
		}
		good += 12 + size
		lastPTS = pts
		frames++
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		if err := f.Truncate(good); err != nil {
			return 0, 0, err
		}
	}
	if frames == 0 {
		return 0, 0, nil
	}
	return float64(lastPTS)*float64(num)/float64(den) + 1.0/30, frames, nil
}
