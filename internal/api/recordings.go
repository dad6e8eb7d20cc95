package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/recording"
)

// RecordingService is what the recording routes need (*recording.Guard): each call
// applies the recording access rules for the caller.
type RecordingService interface {
	Start(ctx context.Context, c recording.Caller, room string) (recording.Recording, error)
	Stop(ctx context.Context, c recording.Caller, id string) (recording.Recording, error)
	Get(ctx context.Context, c recording.Caller, id string) (recording.Recording, error)
	List(ctx context.Context, c recording.Caller, f recording.Filter) ([]recording.Recording, string, error)
	OpenFile(ctx context.Context, c recording.Caller, id string) (recording.File, error)
	Delete(ctx context.Context, c recording.Caller, id string) error
	Retry(ctx context.Context, c recording.Caller, id string) (recording.Recording, error)
	BackendName() string
	ActiveCount(ctx context.Context) (int64, error)
}

// RecordingJSON is API.md's `recording`.
type RecordingJSON struct {
	ID              string     `json:"id"`
	Room            string     `json:"room"`
	RoomTitle       string     `json:"roomTitle,omitempty"`
	Backend         string     `json:"backend"`
	Status          string     `json:"status"`
	StartedBy       string     `json:"startedBy"`
	StartedAt       time.Time  `json:"startedAt"`
	EndedAt         *time.Time `json:"endedAt,omitempty"`
	DurationSeconds *float64   `json:"durationSeconds,omitempty"`
	SizeBytes       *int64     `json:"sizeBytes,omitempty"`
	Error           string     `json:"error,omitempty"`
	Note            string     `json:"note,omitempty"`
	Progress        float64    `json:"progress,omitempty"`
	FileURL         string     `json:"fileURL,omitempty"`
	RetryJSON
}

// RecordingView renders a recording for the API and the event bus.
func RecordingView(r recording.Recording) RecordingJSON {
	v := RecordingJSON{ID: r.ID, Room: r.Room, Backend: r.Backend, Status: string(r.Status), StartedBy: r.StartedBy,
		StartedAt: r.StartedAt.UTC(), EndedAt: r.EndedAt, Error: r.Error, Note: r.Note, Progress: r.Progress}
	if r.DurationSeconds > 0 {
		d := r.DurationSeconds
		v.DurationSeconds = &d
	}
	if r.SizeBytes > 0 {
		n := r.SizeBytes
		v.SizeBytes = &n
	}
	if r.HasFile() {
		v.FileURL = "/api/recordings/" + r.ID + "/file"
	}
	v.RetryJSON = retryView(r)
	return v
}

// recordingCaller is the recording package's view of the principal.
func recordingCaller(c *fiber.Ctx) recording.Caller {
	p := httpx.PrincipalFrom(c)
	return recording.Caller{UserID: p.UserID, Admin: p.IsAdmin()}
}

// recordingError maps the recording package's errors onto API answers.
func recordingError(err error, backend string) error {
	var code, msg string
	status := fiber.StatusInternalServerError
	var denied *recording.AccessError
	switch {
	case errors.As(err, &denied) && errors.Is(denied, recording.ErrRoomNotFound):
		return httpx.NotFound("room_not_found", "%s", denied.Reason)
	case errors.As(err, &denied):
		return httpx.Forbidden("forbidden", "%s", denied.Reason)
	case errors.Is(err, recording.ErrNotFound):
		return httpx.NotFound("recording_not_found", "no such recording")
	case errors.Is(err, recording.ErrAlreadyRecording):
		return httpx.Conflict("already_recording", "the room is already being recorded: stop that recording first")
	case errors.Is(err, recording.ErrRoomNotActive):
		return httpx.Unprocessable("room_not_active", "the room has no meeting in progress to record")
	case errors.Is(err, recording.ErrEncryptedRoom):
		return httpx.Conflict("e2ee_room", "the meeting is end-to-end encrypted: the server cannot record encrypted media (it never holds the key)")
	case errors.Is(err, recording.ErrNotLive):
		return httpx.Conflict("recording_not_live", "the recording has already finished")
	case errors.Is(err, recording.ErrLive):
		return httpx.Conflict("recording_live", "the recording is still in progress: stop it before deleting it")
	case errors.Is(err, recording.ErrNoFile):
		return httpx.NotFound("file_not_found", "the recording has no file: only complete recordings can be downloaded")
	case errors.Is(err, recording.ErrNotRetryable):
		return httpx.Conflict("not_retryable", "%s", retryRefusal(err))
	case errors.Is(err, recording.ErrBackendUnavailable) && backend == "egress":
		status, code, msg = fiber.StatusServiceUnavailable, "egress_unavailable",
			"LiveKit Egress did not take the recording: no egress worker answered in time, or LiveKit is unreachable"
	case errors.Is(err, recording.ErrBackendUnavailable):
		status, code, msg = fiber.StatusServiceUnavailable, "recording_unavailable", "the recorder is unavailable"
		if backend == "" {
			msg = "recording is not available on this server (see the server log)"
		}
	case errors.Is(err, recording.ErrStorage):
		status, code, msg = fiber.StatusServiceUnavailable, "storage_unavailable", "the recording storage failed; try again later"
	default:
		return err
	}
	return httpx.NewError(status, code, "%s", msg).WithCause(err)
}

func (s *server) startRecording(c *fiber.Ctx) error {
	var body struct{}
	if err := httpx.BindOptionalJSON(c, &body); err != nil {
		return err
	}
	r, err := s.d.Recordings.Start(c.UserContext(), recordingCaller(c), c.Params("name"))
	if err != nil {
		return recordingError(err, s.d.Recordings.BackendName())
	}
	return c.Status(fiber.StatusCreated).JSON(RecordingView(r))
}

func (s *server) stopRecording(c *fiber.Ctx) error {
	r, err := s.d.Recordings.Stop(c.UserContext(), recordingCaller(c), c.Params("id"))
	if err != nil {
		return recordingError(err, s.d.Recordings.BackendName())
	}
	return c.JSON(RecordingView(r))
}

func (s *server) listRecordings(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c, 50, 200)
	if err != nil {
		return err
	}
	f := recording.Filter{Room: c.Query("room"), Limit: page.Limit, Cursor: page.Cursor}
	items, next, err := s.d.Recordings.List(c.UserContext(), recordingCaller(c), f)
	if err != nil {
		return recordingError(err, "")
	}
	titles := s.roomTitles(c.UserContext(), len(items), func(i int) string { return items[i].Room })
	out := httpx.List[RecordingJSON]{Items: make([]RecordingJSON, len(items)), NextCursor: next}
	for i, r := range items {
		out.Items[i] = RecordingView(r)
		out.Items[i].RoomTitle = titles[r.Room]
	}
	return c.JSON(out)
}

func (s *server) getRecording(c *fiber.Ctx) error {
	r, err := s.d.Recordings.Get(c.UserContext(), recordingCaller(c), c.Params("id"))
	if err != nil {
		return recordingError(err, "")
	}
	v := RecordingView(r)
	v.RoomTitle = s.roomTitles(c.UserContext(), 1, func(int) string { return r.Room })[r.Room]
	return c.JSON(v)
}

func (s *server) deleteRecording(c *fiber.Ctx) error {
	if err := s.d.Recordings.Delete(c.UserContext(), recordingCaller(c), c.Params("id")); err != nil {
		return recordingError(err, "")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// recordingFile sends the file: a 302 to a short-lived signed URL when the storage can
// presign (S3), else the file streamed with Range support (one range; several get the whole file).
func (s *server) recordingFile(c *fiber.Ctx) error {
	id := c.Params("id")
	f, err := s.d.Recordings.OpenFile(c.UserContext(), recordingCaller(c), id)
	if err != nil {
		return recordingError(err, "")
	}
	if f.URL != "" {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect(f.URL, fiber.StatusFound)
	}
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderContentType, "video/mp4")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", f.Name))
	header := c.Get(fiber.HeaderRange)
	if header == "" {
		return c.Status(fiber.StatusOK).SendStream(f.Reader, int(f.Size))
	}
	start, end, whole, ok := parseRange(header, f.Size)
	if whole {
		return c.Status(fiber.StatusOK).SendStream(f.Reader, int(f.Size))
	}
	if !ok {
		f.Reader.Close()
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", f.Size))
		return httpx.NewError(fiber.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable",
			"range %q is not a satisfiable byte range of this %d-byte file", header, f.Size)
	}
	if _, err := f.Reader.Seek(start, io.SeekStart); err != nil {
		f.Reader.Close()
		return fmt.Errorf("recording %s: seek: %w", id, err)
	}
	n := end - start + 1
	c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", start, end, f.Size))
	return c.Status(fiber.StatusPartialContent).SendStream(limitedCloser{io.LimitReader(f.Reader, n), f.Reader}, int(n))
}

// limitedCloser closes the file once fasthttp has streamed the range.
type limitedCloser struct {
	io.Reader
	io.Closer
}

// parseRange reads a "bytes=" range (first-last, first-, or -suffix) of a size-byte file
// and returns its inclusive bounds. Several ranges ask for the whole file (whole): RFC 9110
// lets a server answer them with a 200, which is simpler for clients than multipart. Numbers
// too large for int64 are clamped to the file's end. Bad syntax or a range wholly past the
// end is not satisfiable.
func parseRange(header string, size int64) (start, end int64, whole, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || size <= 0 {
		return 0, 0, false, false
	}
	if strings.Contains(spec, ",") {
		return 0, size - 1, true, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	if first == "" { // suffix: the last n bytes
		n, valid := rangeNumber(last)
		if !valid || n == 0 {
			return 0, 0, false, false
		}
		return max(size-n, 0), size - 1, false, true
	}
	start, valid := rangeNumber(first)
	if !valid || start >= size {
		return 0, 0, false, false
	}
	if last == "" {
		return start, size - 1, false, true
	}
	end, valid = rangeNumber(last)
	if !valid || end < start {
		return 0, 0, false, false
	}
	return start, min(end, size-1), false, true
}

// rangeNumber reads a run of digits; one past int64 is clamped to the largest int64.
func rangeNumber(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, true // only digits, so the one failure left is overflow
	}
	return n, true
}
