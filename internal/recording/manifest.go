package recording

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
)

// Manifest is the JSON written beside each finished recording, in the spirit of LiveKit
// Egress's manifest: times are Unix nanoseconds. Stored as JSON (hence the tags): it is a
// file format, not an API shape.
type Manifest struct {
	RecordingID string         `json:"recording_id"`
	Backend     string         `json:"backend"`
	Handle      string         `json:"handle,omitempty"`
	RoomID      string         `json:"room_id,omitempty"`
	RoomName    string         `json:"room_name"`
	StartedBy   string         `json:"started_by,omitempty"`
	StartedAt   int64          `json:"started_at"`
	EndedAt     int64          `json:"ended_at"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one output file.
type ManifestFile struct {
	Filename string `json:"filename"`
	Location string `json:"location"`
	Size     int64  `json:"size"`
	Duration int64  `json:"duration"` // nanoseconds
}

// Locator is implemented by storages that can say where a key lives (file path, s3:// URL).
type Locator interface {
	Location(key string) string
}

// BuildManifest describes a completed recording.
func BuildManifest(r Recording, loc Locator) Manifest {
	m := Manifest{RecordingID: r.ID, Backend: r.Backend, Handle: r.Handle, RoomID: r.RoomID, RoomName: r.Room,
		StartedBy: r.StartedBy, StartedAt: r.StartedAt.UnixNano(), Files: []ManifestFile{}}
	if r.EndedAt != nil {
		m.EndedAt = r.EndedAt.UnixNano()
	}
	if r.FileKey != "" {
		f := ManifestFile{Filename: path.Base(r.FileKey), Location: r.FileKey, Size: r.SizeBytes,
			Duration: int64(r.DurationSeconds * 1e9)}
		if loc != nil {
			f.Location = loc.Location(r.FileKey)
		}
		m.Files = append(m.Files, f)
	}
	return m
}

func (s *Service) writeManifest(ctx context.Context, r Recording) error {
	if s.o.Storage == nil || r.FileKey == "" {
		return nil
	}
	loc, _ := s.o.Storage.(Locator)
	b, err := json.MarshalIndent(BuildManifest(r, loc), "", "  ")
	if err != nil {
		return err
	}
	_, err = s.o.Storage.Put(ctx, ManifestKey(r.FileKey), bytes.NewReader(b), int64(len(b)), "application/json")
	return err
}
