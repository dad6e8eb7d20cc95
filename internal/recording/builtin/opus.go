package builtin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// opusSilence is a 20 ms CELT frame that decodes to silence. The recorder writes it to fill
// gaps (DTX, mute, loss, reconnects) so an Ogg file's timeline stays the wall clock's.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

const (
	opusRate      = 48000
	opusFrame20ms = 960
	// opusPreSkipSecs is the pre-skip pion's oggwriter declares (3840 samples): decoders drop
	// it, so composition delays each Ogg input by this much more to keep it in place.
	opusPreSkipSecs = 3840.0 / opusRate
)

// opusSamples returns the duration of an Opus packet in 48 kHz samples (RFC 6716 3.1).
func opusSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errors.New("empty opus packet")
	}
	toc := p[0]
	config := int(toc >> 3)
	var per int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		per = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		per = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		per = []int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, errors.New("truncated opus packet")
		}
		frames = int(p[1] & 0x3f)
	}
	return per * frames, nil
}

// scanOgg finds the last complete page of an Ogg file, truncates a torn page left by a
// crash, and returns the length of the audio written in seconds (the last granule) and the
// number of audio pages.
func scanOgg(path string) (end float64, pages int, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var good int64
	var granule uint64
	var h [27]byte
	var seg [255]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			break
		}
		if string(h[0:4]) != "OggS" {
			break
		}
		n := int(h[26])
		if _, err := io.ReadFull(r, seg[:n]); err != nil {
			break
		}
		body := 0
		for _, s := range seg[:n] {
			body += int(s)
		}
		if d, err := r.Discard(body); err != nil || d != body {
			break
		}
		good += int64(27 + n + body)
		g := binary.LittleEndian.Uint64(h[6:])
		if g != ^uint64(0) && g > 0 {
			granule = g
			pages++
		}
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		if err := f.Truncate(good); err != nil {
			return 0, 0, err
		}
	}
	if pages == 0 {
		return 0, 0, nil
	}
	return float64(granule) / opusRate, pages, nil
}
