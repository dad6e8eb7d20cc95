package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/recording"
)

// RetryJSON says whether a failed recording will be produced again: attempts so far, and
// when the next one is scheduled (retryable). Part of RecordingJSON.
type RetryJSON struct {
	Attempts    int        `json:"attempts,omitempty"`
	Retryable   bool       `json:"retryable"`
	NextRetryAt *time.Time `json:"nextRetryAt,omitempty"`
}

func retryView(r recording.Recording) RetryJSON {
	v := RetryJSON{Attempts: r.Attempts, Retryable: r.Status == recording.StatusFailed && r.Retryable}
	if v.Retryable && r.NextRetryAt != nil {
		t := r.NextRetryAt.UTC()
		v.NextRetryAt = &t
	}
	return v
}

// retryRecording (moderators of its room): compose and upload a failed recording again now.
func (s *server) retryRecording(c *fiber.Ctx) error {
	r, err := s.d.Recordings.Retry(c.UserContext(), recordingCaller(c), c.Params("id"))
	if err != nil {
		return recordingError(err, s.d.Recordings.BackendName())
	}
	return c.JSON(RecordingView(r))
}

// retryRefusal is the user-facing reason a recording cannot be retried: the domain's own
// explanation, without the sentinel's words repeated.
func retryRefusal(err error) string {
	if errors.Is(err, recording.ErrUnknownHandle) {
		return "the recorder's track files for this recording are gone: it cannot be composed again"
	}
	return strings.TrimSuffix(err.Error(), ": "+recording.ErrNotRetryable.Error())
}
