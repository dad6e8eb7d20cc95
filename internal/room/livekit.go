package room

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

// LiveKit is the part of LiveKit's RoomService the room package calls, with server-sdk-go's
// signatures (internal/livekit.RoomClient satisfies it).
type LiveKit interface {
	CreateRoom(ctx context.Context, req *livekit.CreateRoomRequest) (*livekit.Room, error)
	DeleteRoom(ctx context.Context, req *livekit.DeleteRoomRequest) (*livekit.DeleteRoomResponse, error)
	GetParticipant(ctx context.Context, req *livekit.RoomParticipantIdentity) (*livekit.ParticipantInfo, error)
	RemoveParticipant(ctx context.Context, req *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error)
	MutePublishedTrack(ctx context.Context, req *livekit.MuteRoomTrackRequest) (*livekit.MuteRoomTrackResponse, error)
	UpdateParticipant(ctx context.Context, req *livekit.UpdateParticipantRequest) (*livekit.ParticipantInfo, error)
}

// Live is the live participant state (internal/live), kept fresh by webhooks.
type Live interface {
	// ActiveCount is how many participants are currently joined.
	ActiveCount(ctx context.Context, room string) (int, error)
	// IsParticipant reports whether the user is currently joined.
	IsParticipant(ctx context.Context, room, userID string) (bool, error)
	// MarkRoomEnded marks every participant left and the room finished.
	MarkRoomEnded(ctx context.Context, room string) error
	// SetTrackMuted records a mute made through Parley: LiveKit sends no webhook for it.
	SetTrackMuted(ctx context.Context, room, trackSid string, muted bool) error
}

// lkErr classifies a LiveKit error: twirp NotFound becomes notFound (the caller says
// what was not found), unreachable or timed out becomes ErrUnavailable.
func lkErr(err, notFound error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	var te twirp.Error
	if errors.As(err, &te) {
		switch te.Code() {
		case twirp.NotFound:
			if notFound != nil {
				return fmt.Errorf("%s: %w", what, notFound)
			}
		case twirp.PermissionDenied, twirp.FailedPrecondition, twirp.InvalidArgument:
			// e.g. a remote unmute while LiveKit's enable_remote_unmute is off
			return fmt.Errorf("%s: %w: %s", what, ErrRefused, te.Msg())
		case twirp.Unavailable, twirp.DeadlineExceeded, twirp.Canceled:
			return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
		case twirp.Internal, twirp.Unknown:
			// server-sdk-go reports a refused connection as an internal twirp error
			// wrapping the net error.
			if isNetErr(err) {
				return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
			}
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if isNetErr(err) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, context.DeadlineExceeded)
}

// sourceProto maps a source name to LiveKit's enum.
func sourceProto(s string) livekit.TrackSource {
	switch s {
	case SourceCamera:
		return livekit.TrackSource_CAMERA
	case SourceMicrophone:
		return livekit.TrackSource_MICROPHONE
	case SourceScreenShare:
		return livekit.TrackSource_SCREEN_SHARE
	case SourceScreenShareAudio:
		return livekit.TrackSource_SCREEN_SHARE_AUDIO
	}
	return livekit.TrackSource_UNKNOWN
}

// SourceName maps LiveKit's enum to the API's source name ("" for unknown).
func SourceName(s livekit.TrackSource) string {
	switch s {
	case livekit.TrackSource_CAMERA:
		return SourceCamera
	case livekit.TrackSource_MICROPHONE:
		return SourceMicrophone
	case livekit.TrackSource_SCREEN_SHARE:
		return SourceScreenShare
	case livekit.TrackSource_SCREEN_SHARE_AUDIO:
		return SourceScreenShareAudio
	}
	return ""
}

// permissionProto is the full LiveKit permission set for p: LiveKit replaces the whole set
// on UpdateParticipant, so every field is written, metadata updates always refused. An
// empty source list means "nothing", never LiveKit's "everything".
func permissionProto(p Permissions) *livekit.ParticipantPermission {
	out := &livekit.ParticipantPermission{CanSubscribe: p.CanSubscribe, CanPublishData: p.CanPublishData,
		CanPublish: p.CanPublish && len(p.Sources) > 0}
	if out.CanPublish {
		for _, s := range p.Sources {
			out.CanPublishSources = append(out.CanPublishSources, sourceProto(s))
		}
	}
	return out
}

// permissionsFrom reads a LiveKit permission set back (empty sources there mean all).
func permissionsFrom(p *livekit.ParticipantPermission) Permissions {
	if p == nil {
		return Permissions{Sources: []string{}}
	}
	out := Permissions{CanPublish: p.CanPublish, CanSubscribe: p.CanSubscribe, CanPublishData: p.CanPublishData, Sources: []string{}}
	if p.CanPublish {
		if len(p.CanPublishSources) == 0 {
			out.Sources = AllSources()
		}
		for _, s := range p.CanPublishSources {
			if n := SourceName(s); n != "" {
				out.Sources = append(out.Sources, n)
			}
		}
	}
	return out
}
