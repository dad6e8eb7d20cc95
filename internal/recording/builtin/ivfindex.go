package builtin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// ivfIndex remembers where the keyframes of a growing IVF track file are, so composing a
// segment reads only from the keyframe before it instead of decoding the track from its
// start (which would make a long meeting's last segments cost as much as the whole).
// It scans only what was appended since the last call.
type ivfIndex struct {
	path  string
	codec string
	off   int64    // bytes scanned (ends of complete frames)
	keys  []ivfKey // keyframes in file order
	num   uint32   // time base numerator (header)
	den   uint32   // and denominator
	head  [32]byte
	valid bool // header read
}

type ivfKey struct {
	pts uint64
	off int64
}

// update scans frames appended since the last call; a frame still being written (its
// header or body incomplete) is left for the next one.
func (x *ivfIndex) update() error {
	f, err := os.Open(x.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if !x.valid {
		if _, err := io.ReadFull(f, x.head[:]); err != nil {
			return nil // header not flushed yet
		}
		if string(x.head[0:4]) != "DKIF" {
			return errors.New("not an IVF file")
		}
		x.den, x.num = binary.LittleEndian.Uint32(x.head[16:]), binary.LittleEndian.Uint32(x.head[20:])
		if x.den == 0 || x.num == 0 {
			return errors.New("IVF file with a zero time base")
		}
		x.valid, x.off = true, 32
	}
	if _, err := f.Seek(x.off, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var fh [12]byte
	buf := make([]byte, 0, 64<<10)
	for {
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			return nil
		}
		size := int(binary.LittleEndian.Uint32(fh[0:]))
		pts := binary.LittleEndian.Uint64(fh[4:])
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil
		}
		if isKeyframe(x.codec, buf) {
			x.keys = append(x.keys, ivfKey{pts: pts, off: x.off})
		}
		x.off += int64(12 + size)
	}
}

// seconds converts a PTS of this file to seconds.
func (x *ivfIndex) seconds(pts uint64) float64 {
	return float64(pts) * float64(x.num) / float64(x.den)
}

// extract writes to out an IVF file holding the frames of [from, to) (seconds of the track)
// starting at the last keyframe at or before from. It returns the first frame's time and
// the number of frames written (0 when the range holds no decodable frame).
func (x *ivfIndex) extract(out string, from, to float64) (first float64, frames int, err error) {
	if err := x.update(); err != nil {
		return 0, 0, err
	}
	start := -1
	for i, k := range x.keys {
		if x.seconds(k.pts) <= from {
			start = i
			continue
		}
		if start < 0 && x.seconds(k.pts) < to {
			start = i // the track begins inside the range
		}
		break
	}
	if start < 0 {
		return 0, 0, nil
	}
	in, err := os.Open(x.path)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	if _, err := in.Seek(x.keys[start].off, io.SeekStart); err != nil {
		return 0, 0, err
	}
	f, err := os.Create(out)
	if err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	_, _ = w.Write(x.head[:])
	r := bufio.NewReaderSize(io.LimitReader(in, x.off-x.keys[start].off), 64<<10)
	var fh [12]byte
	last := -1.0
	for {
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			break
		}
		size := int64(binary.LittleEndian.Uint32(fh[0:]))
		t := x.seconds(binary.LittleEndian.Uint64(fh[4:]))
		if t >= to && frames > 0 && last >= to {
			break // one frame past the range: the segment's last frames have a successor
		}
		last = t
		if frames == 0 {
			first = t
		}
		_, _ = w.Write(fh[:])
		if _, err := io.CopyN(w, r, size); err != nil {
			break
		}
		frames++
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return 0, 0, err
	}
	return first, frames, nil
}
