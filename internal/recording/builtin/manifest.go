package builtin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Timeline states: a recording is written live, then stopped, then composed (done) or failed.
const (
	stateRecording = "recording"
	stateStopped   = "stopped"
	stateDone      = "done"
	stateFailed    = "failed"
)

const manifestName = "manifest.json"

// Timeline describes one recording's track files (the recorder's working file, not
// recording.Manifest, which describes a finished recording) so that composition (now or after a
// crash) knows where every track sits on the recording's timeline. Offsets are seconds
// from StartedAt. Stored as JSON in the work directory (hence the tags).
type Timeline struct {
	Version     int       `json:"version"`
	RecordingID string    `json:"recordingId"`
	Room        string    `json:"room"`
	FileKey     string    `json:"fileKey"`
	StartedAt   time.Time `json:"startedAt"`
	State       string    `json:"state"`
	// End is the recording's length in seconds, set when it stops.
	End    float64 `json:"end,omitempty"`
	Error  string  `json:"error,omitempty"`
	Tracks []Track `json:"tracks"`
	// SegmentSeconds is the length of the segments composed while recording; 0: the
	// recording is composed whole after it stops (recordings of earlier versions).
	SegmentSeconds float64 `json:"segmentSeconds,omitempty"`
	// Gaps are spans where the recorder was not connected to LiveKit.
	Gaps []Span `json:"gaps,omitempty"`
}

// Track is one continuous subscription to a participant's track, written to one file.
// A track that is re-subscribed (after a reconnect) gets a new entry with the same Key.
type Track struct {
	File        string  `json:"file"`
	Key         string  `json:"key"` // participant identity + "/" + source; stable across rejoins
	Participant string  `json:"participant"`
	Name        string  `json:"name,omitempty"`
	TrackSID    string  `json:"trackSid"`
	Kind        string  `json:"kind"`   // audio | video
	Source      string  `json:"source"` // camera | microphone | screen_share | ...
	Codec       string  `json:"codec"`  // opus | vp8 | vp9 | h264
	Start       float64 `json:"start"`  // offset of the first sample, -1 until one arrives
	End         float64 `json:"end"`    // offset just after the last sample; 0 while open
	Open        bool    `json:"open"`
	Mutes       []Span  `json:"mutes,omitempty"`
}

// Span is [Start, End) in seconds from the recording start; End 0 means still open.
type Span struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// saveManifest writes m atomically (temp file + rename) so a crash never leaves half a manifest.
func saveManifest(dir string, m *Timeline) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// loadManifest reads dir's manifest.
func loadManifest(dir string) (*Timeline, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m Timeline
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", dir, err)
	}
	return &m, nil
}

// clone returns a deep copy, safe to use outside the session's lock.
func (m *Timeline) clone() *Timeline {
	c := *m
	c.Tracks = make([]Track, len(m.Tracks))
	for i, t := range m.Tracks {
		t.Mutes = append([]Span(nil), t.Mutes...)
		c.Tracks[i] = t
	}
	c.Gaps = append([]Span(nil), m.Gaps...)
	return &c
}
