package builtin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/internal/recording"
)

// Recording a room with no meeting (LiveKit has no such room) is refused as not active,
// which the API answers 422 room_not_active, not as an unavailable recorder.
func TestStartWithoutMeetingIsRoomNotActive(t *testing.T) {
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.rec.Start(ctx, recording.StartRequest{RecordingID: "nomeeting1", Room: "no-such-room", StartedAt: time.Now(),
		FileKey: recording.FileKey("no-such-room", "nomeeting1", time.Now())})
	if !errors.Is(err, recording.ErrRoomNotActive) {
		t.Fatalf("Start = %v, want ErrRoomNotActive", err)
	}
}
