// Package recording knows recordings: their state machine, their storage (filesystem or
// S3-compatible) and the backends that produce them (the built-in recorder for one machine,
// LiveKit Egress for clusters).
package recording

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Status is a recording's state: starting -> active -> ending -> complete, with failed and
// aborted reachable from every live state.
type Status string

// The states of docs/API.md.
const (
	StatusStarting Status = "starting"
	StatusActive   Status = "active"
	StatusEnding   Status = "ending"
	StatusComplete Status = "complete"
	StatusFailed   Status = "failed"
	StatusAborted  Status = "aborted"
)

// Backend records a room. The built-in recorder and LiveKit Egress implement it.
type Backend interface {
	// Name is "builtin" or "egress".
	Name() string
	// Start begins recording a LiveKit room and returns the backend's handle for it
	// (the egress id, or the recorder's id). It reports progress through the Reporter.
	Start(ctx context.Context, req StartRequest) (handle string, err error)
	// Stop asks the backend to finish; the final state arrives through the Reporter.
	Stop(ctx context.Context, handle string) error
	// List returns the recordings the backend currently knows, for reconciliation.
	List(ctx context.Context) ([]BackendRecording, error)
}

// StartRequest says what to record.
type StartRequest struct {
	RecordingID string
	Room        string // LiveKit room name
	StartedAt   time.Time
	// FileKey is the storage key the finished MP4 must have (see FileKey).
	FileKey string
}

// BackendRecording is a backend's view of one recording.
type BackendRecording struct {
	Handle string
	Room   string
	Status Status
	// Optional details of a finished recording, applied by the reconciler with its state.
	Error           string
	SizeBytes       int64
	DurationSeconds float64
	FileKey         string
	Retryable       bool // a failure whose inputs are kept (see Update.Retryable)
}

// Reporter receives backends' state changes; the recording service applies each legal
// transition once, whatever its source.
type Reporter interface {
	Report(ctx context.Context, u Update) error
}

// Update is one state change reported by a backend. Zero fields are left unchanged.
type Update struct {
	RecordingID     string // either RecordingID or Handle identifies the recording
	Handle          string
	Status          Status
	Error           string  // failure reason, shown to users
	Note            string  // e.g. "composed after restart"
	Progress        float64 // composition progress, 0..1
	DurationSeconds float64
	SizeBytes       int64
	FileKey         string // storage key of the finished file
	// Retryable marks a failure whose inputs the backend kept (a composition or upload that
	// failed): the service schedules a retry with backoff instead of giving the recording up.
	Retryable bool
}

// Retrier is a Backend that can produce a failed recording again from the inputs it kept.
type Retrier interface {
	// Retry starts over the composition and upload of a failed recording; the outcome
	// arrives through the Reporter. ErrUnknownHandle: its inputs are gone.
	Retry(ctx context.Context, handle string) error
}

// Purger is a Backend that keeps local files for a recording (track files, work folder)
// and removes them when the recording is deleted.
type Purger interface {
	Purge(ctx context.Context, handle string) error
}

// Storage keeps finished recordings. Put streams (never a whole file in memory) and makes
// the object visible under key only once it is complete.
type Storage interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (written int64, err error)
	// Open returns the object for streaming with Range support (filesystem storage).
	Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error)
	// PresignGet returns a short-lived URL, or ok=false when the store cannot presign (fs).
	PresignGet(ctx context.Context, key string, ttl time.Duration) (url string, ok bool, err error)
	Delete(ctx context.Context, key string) error
}

// FileKey is where a recording's MP4 lives: <room>/<yyyy>/<mm>/<dd>/<recording-id>.mp4.
func FileKey(room, id string, started time.Time) string {
	u := started.UTC()
	return fmt.Sprintf("%s/%04d/%02d/%02d/%s.mp4", room, u.Year(), int(u.Month()), u.Day(), id)
}

// Stager is a Storage that takes in a file another program wrote at the staging key
// (LiveKit Egress uploads there), so that nothing appears under a recording's key before
// the file is whole and Parley has accepted it.
type Stager interface {
	// StagingKey is where an outside writer puts the file that is to end at key: a key
	// relative to the storage's prefix (S3) or root (fs), like key itself.
	StagingKey(key string) string
	// Promote moves the staged file of key into place and returns its size. A file already
	// in place (promoted before) is fine and answers its size; neither is ErrNoFile.
	Promote(ctx context.Context, key string) (int64, error)
}

// StagedBackend is a Backend whose files arrive at the storage's staging key: the service
// promotes a recording's file before it marks the recording complete.
type StagedBackend interface {
	StagesFiles() bool
}
