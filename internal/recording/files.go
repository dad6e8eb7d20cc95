package recording

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"
)

// Delete removes a finished recording and its file and manifest. A live one is ErrLive; a
// storage failure is ErrStorage and keeps the recording.
func (s *Service) Delete(ctx context.Context, id string) error {
	ctx = context.WithoutCancel(ctx)
	r, err := s.st.get(ctx, id)
	if err != nil {
		return err
	}
	if r.Status.Live() {
		return fmt.Errorf("recording %s is %s: stop it first: %w", id, r.Status, ErrLive)
	}
	if err := s.deleteObjects(ctx, r); err != nil {
		return err
	}
	if err := s.st.delete(ctx, id); err != nil {
		return fmt.Errorf("recording %s: delete: %w", id, err)
	}
	s.log.Info("recording deleted", "recording", id, "room", r.Room)
	return nil
}

// deleteObjects removes every file of the recording: the stored MP4 and manifest (staged
// copies included, see Storage.Delete) at its key or the key it would have had, and what
// its recorder keeps locally (track files).
func (s *Service) deleteObjects(ctx context.Context, r Recording) error {
	if s.o.Storage != nil {
		keys := []string{FileKey(r.Room, r.ID, r.StartedAt)}
		if r.FileKey != "" && r.FileKey != keys[0] {
			keys = append(keys, r.FileKey)
		}
		for _, k := range keys {
			for _, key := range []string{k, ManifestKey(k)} {
				if err := s.o.Storage.Delete(ctx, key); err != nil {
					return fmt.Errorf("recording %s: delete %s: %w: %w", r.ID, key, ErrStorage, err)
				}
			}
		}
	}
	if p, ok := s.backend.(Purger); ok && r.Handle != "" && r.Backend == s.backend.Name() {
		if err := p.Purge(ctx, r.Handle); err != nil {
			return fmt.Errorf("recording %s: remove the recorder's files: %w: %w", r.ID, ErrStorage, err)
		}
	}
	return nil
}

// File is how to download a recording: either a short-lived URL to redirect to, or a
// reader to stream (Range requests seek it).
type File struct {
	URL    string
	Reader io.ReadSeekCloser
	Size   int64
	Name   string
}

// PresignTTL is how long a download URL stays valid.
const PresignTTL = 5 * time.Minute

// OpenFile returns the recording's file: ErrNoFile unless it is complete.
func (s *Service) OpenFile(ctx context.Context, id string) (File, error) {
	r, err := s.st.get(ctx, id)
	if err != nil {
		return File{}, err
	}
	if !r.HasFile() || s.o.Storage == nil {
		return File{}, fmt.Errorf("recording %s is %s: %w", id, r.Status, ErrNoFile)
	}
	name := path.Base(r.FileKey)
	url, ok, err := s.o.Storage.PresignGet(ctx, r.FileKey, PresignTTL)
	if err != nil {
		return File{}, fmt.Errorf("recording %s: presign: %w: %w", id, ErrStorage, err)
	}
	if ok {
		return File{URL: url, Name: name, Size: r.SizeBytes}, nil
	}
	rd, size, err := s.o.Storage.Open(ctx, r.FileKey)
	if errors.Is(err, ErrNoFile) {
		return File{}, fmt.Errorf("recording %s: %w", id, err)
	}
	if err != nil {
		return File{}, fmt.Errorf("recording %s: open: %w: %w", id, ErrStorage, err)
	}
	return File{Reader: rd, Size: size, Name: name}, nil
}
