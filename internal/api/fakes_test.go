package api

import (
	"context"
	"errors"
	"fmt"
	"github.com/parley/parley/internal/doctor"
	"github.com/parley/parley/internal/outbox"
	"log/slog"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/live"
	lk "github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// Fakes of the services a test does not exercise. The embedded interface is nil: a test
// that reaches one of its methods panics, and then sets the service it needs.
type (
	fakeRooms      struct{ RoomService }
	fakeRecordings struct{ RecordingService }
	fakeSSO        struct{ SSOService }
	fakeRecovery   struct{ RecoveryService }
	fakePasskeys   struct{ PasskeyService }
	// fakeLiveState answers the participants list from its func field.
	fakeLiveState struct {
		LiveService
		participants func(ctx context.Context, room string) ([]live.Participant, error)
	}
)

// Enabled: the fake server has passkeys off, as one whose public URL is an IP address.
func (fakePasskeys) Enabled() bool { return false }

func (f fakeLiveState) Participants(ctx context.Context, room string) ([]live.Participant, error) {
	if f.participants == nil {
		return []live.Participant{}, nil
	}
	return f.participants(ctx, room)
}

// fakeWebhooks lists no endpoint; tests of the webhook routes use the real outbox.
type fakeWebhooks struct{ WebhookService }

func (fakeWebhooks) Endpoints(context.Context) ([]outbox.Endpoint, map[string][2]int, error) {
	return nil, nil, nil
}

// testDeps are Deps made of fakes; each test replaces the services it exercises.
func testDeps() Deps {
	return Deps{
		Log:  slog.New(slog.DiscardHandler),
		Auth: roomAuth{}, Rooms: fakeRooms{}, Live: fakeLiveState{}, Recordings: fakeRecordings{}, SSO: fakeSSO{}, Recovery: fakeRecovery{},
		Passkeys:      fakePasskeys{},
		Webhooks:      fakeWebhooks{},
		LiveKitStatus: func() lk.Status { return lk.Status{State: "unknown"} },
		Checks:        map[string]func(context.Context) (string, bool){},
		Doctor: func(context.Context) []doctor.Result {
			return []doctor.Result{{Check: "port server.listen", Status: doctor.Fail, Detail: "taken", Fix: "move it"}}
		},
		Static:     func(c *fiber.Ctx) error { return c.Next() },
		Signalling: edge.NotProxied{},
		Keys:       fakeKeys{}, Audit: &memAudit{}, // apikeys_test.go
	}
}

// newTestApp is New for tests.
func newTestApp(t testing.TB, d Deps) *fiber.App {
	t.Helper()
	app, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// recordingRooms answers the recording access rules from the room service, as the
// composition root does.
type recordingRooms struct{ rooms *room.Service }

func (r recordingRooms) RoomRole(ctx context.Context, name string, c recording.Caller) (recording.RoomRole, error) {
	return recordingRole(r.rooms.Access(ctx, name, room.Caller{UserID: c.UserID, Admin: c.Admin}))
}

func (r recordingRooms) RoomRoleByID(ctx context.Context, id string, c recording.Caller) (recording.RoomRole, error) {
	return recordingRole(r.rooms.AccessByID(ctx, id, room.Caller{UserID: c.UserID, Admin: c.Admin}))
}

func recordingRole(acc room.Access, err error) (recording.RoomRole, error) {
	if errors.Is(err, room.ErrNotFound) {
		return recording.RoomRole{}, fmt.Errorf("%w: %w", recording.ErrRoomNotFound, err)
	}
	return recording.RoomRole{ID: acc.Room.ID, Name: acc.Room.Name, OwnerID: acc.Room.OwnerID, Owner: acc.Owner, Moderator: acc.Moderator}, err
}

// liveKitState answers room.Live and the participants list from LiveKit's
// ListParticipants, for the tests that run a real LiveKit without the live state.
type liveKitState struct {
	LK interface {
		ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error)
	}
}

func (l liveKitState) list(ctx context.Context, name string) ([]*livekit.ParticipantInfo, error) {
	res, err := l.LK.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: name})
	if err != nil {
		return nil, nil // no LiveKit room: nobody is in
	}
	return res.Participants, nil
}

func (l liveKitState) ActiveCount(ctx context.Context, name string) (int, error) {
	ps, err := l.list(ctx, name)
	return len(ps), err
}

func (l liveKitState) IsParticipant(ctx context.Context, name, userID string) (bool, error) {
	ps, err := l.list(ctx, name)
	for _, p := range ps {
		if p.Identity == userID {
			return true, nil
		}
	}
	return false, err
}

func (l liveKitState) MarkRoomEnded(context.Context, string) error               { return nil }
func (l liveKitState) SetTrackMuted(context.Context, string, string, bool) error { return nil }
func (l liveKitState) live() fakeLiveState {
	return fakeLiveState{participants: func(ctx context.Context, name string) ([]live.Participant, error) {
		ps, err := l.list(ctx, name)
		out := []live.Participant{}
		for _, p := range ps {
			out = append(out, live.Participant{Identity: p.Identity, Sid: p.Sid, Name: p.Name, Tracks: []live.Track{}})
		}
		return out, err
	}}
}
