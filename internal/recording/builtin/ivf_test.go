package builtin

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

// H.264 access units (Annex-B) stored in IVF under "H264" decode with ffmpeg at the PTS
// the recorder wrote, and a crash-torn last frame is cut off by the scan.
func TestIVFCarriesH264(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "in.h264")
	runCmd(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-c:v", "libx264",
		"-x264-params", "aud=1", "-bsf:v", "h264_mp4toannexb", "-f", "h264", raw)
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := h264reader.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var units [][]byte
	var cur []byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if nal.UnitType == h264reader.NalUnitTypeAUD && len(cur) > 0 {
			units = append(units, cur)
			cur = nil
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
	}
	units = append(units, cur)
	if !isKeyframe("h264", units[0]) || isKeyframe("h264", units[1]) {
		t.Errorf("keyframe detection: first %v, second %v", isKeyframe("h264", units[0]), isKeyframe("h264", units[1]))
	}

	out := filepath.Join(dir, "track.ivf")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newIVFWriter(f, "h264")
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range units {
		if err := w.writeFrame(u, uint64(i)*3600); err != nil { // 25 fps in 1/90000
			t.Fatal(err)
		}
	}
	f.Write([]byte{0xff, 0, 0, 0, 1}) // a torn frame header, as a crash leaves it
	f.Close()

	end, frames, err := scanIVF(out)
	if err != nil || frames != len(units) {
		t.Fatalf("scan = %v frames, %v; want %d", frames, err, len(units))
	}
	if want := float64(len(units)-1)/25 + 1.0/30; end < want-0.01 || end > want+0.01 {
		t.Errorf("scan end = %.3f, want %.3f", end, want)
	}
	probe := string(runCmd(t, "ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames,width", "-of", "csv=p=0", out))
	if want := "h264,320," + strconv.Itoa(len(units)); strings.TrimSpace(probe) != want {
		t.Errorf("ffprobe = %q, want %q", probe, want)
	}
}
