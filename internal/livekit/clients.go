package livekit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/auth"
	lkp "github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

// DefaultCallTimeout bounds each RoomService or Egress call unless the caller's context is shorter.
const DefaultCallTimeout = 5 * time.Second

// newHTTPClient is the client for probes and API calls. skipVerify accepts any certificate
// (self-signed external LiveKit); the caller warns about it.
func newHTTPClient(skipVerify bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // LiveKit is a sibling service: never route its API calls through HTTP_PROXY
	if skipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // livekit.skipTLSVerify, warned at startup
	}
	return &http.Client{Transport: tr}
}

// skipSignallingVerify makes the server SDK's own WebSocket connections to LiveKit (the
// built-in recorder joins rooms with it) accept any certificate as well. The SDK dials with
// gorilla/websocket's DefaultDialer and takes no TLS settings, so that dialer is the only
// hook; it is replaced (not changed in place) before any recorder dials.
func skipSignallingVerify() {
	d := *websocket.DefaultDialer
	d.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // livekit.skipTLSVerify, warned at startup
	websocket.DefaultDialer = &d
}

// apiBase signs a short-lived token per call and bounds each call.
type apiBase struct {
	key, secret string
	timeout     time.Duration
	url         string
}

// call runs f with a signed context and converts transport failures into twirp.Unavailable,
// so consumers classify every failure by twirp code.
func call[T any](ctx context.Context, b apiBase, g auth.VideoGrant, f func(context.Context) (T, error)) (T, error) {
	var zero T
	tok, err := auth.NewAccessToken(b.key, b.secret).SetVideoGrant(&g).SetValidFor(time.Minute).ToJWT()
	if err != nil {
		return zero, twirp.NewError(twirp.Unauthenticated, "sign livekit api token: "+err.Error())
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tok)
	ctx, err = twirp.WithHTTPRequestHeaders(ctx, h)
	if err != nil {
		return zero, twirp.InternalErrorWith(err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	v, err := f(ctx)
	if err != nil {
		return zero, classify(err, b.url)
	}
	return v, nil
}

// classify turns "no answer" into twirp.Unavailable and keeps LiveKit's own answers.
func classify(err error, base string) error {
	var te twirp.Error
	if !errors.As(err, &te) {
		return twirp.NewError(twirp.Unavailable, fmt.Sprintf("livekit at %s: %v", base, err))
	}
	if te.Code() == twirp.Internal || te.Code() == twirp.DeadlineExceeded || te.Code() == twirp.Canceled {
		var ne net.Error
		var ue *url.Error
		if errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) ||
			strings.Contains(te.Msg(), "failed to do request") {
			return twirp.WrapError(twirp.NewError(twirp.Unavailable, fmt.Sprintf("livekit unreachable at %s: %v", base, err)), err)
		}
	}
	return err
}

// RoomClient is LiveKit's RoomService with lksdk.RoomServiceClient's method set, a
// per-call timeout, and unreachable reported as twirp.Unavailable.
type RoomClient struct {
	b   apiBase
	svc lkp.RoomService
}

// NewRoomClient talks to LiveKit's HTTP API at httpURL (http:// or https://).
func NewRoomClient(httpURL, apiKey, apiSecret string, hc *http.Client, timeout time.Duration) *RoomClient {
	b, hc := newAPIBase(httpURL, apiKey, apiSecret, hc, timeout)
	return &RoomClient{b: b, svc: lkp.NewRoomServiceProtobufClient(httpURL, hc)}
}

// newAPIBase applies the defaults both clients share: DefaultCallTimeout and a plain client.
func newAPIBase(httpURL, apiKey, apiSecret string, hc *http.Client, timeout time.Duration) (apiBase, *http.Client) {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	if hc == nil {
		hc = newHTTPClient(false)
	}
	return apiBase{key: apiKey, secret: apiSecret, timeout: timeout, url: httpURL}, hc
}

// CreateRoom creates a room (RoomService.CreateRoom).
func (c *RoomClient) CreateRoom(ctx context.Context, req *lkp.CreateRoomRequest) (*lkp.Room, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomCreate: true}, func(ctx context.Context) (*lkp.Room, error) { return c.svc.CreateRoom(ctx, req) })
}

// ListRooms lists active rooms.
func (c *RoomClient) ListRooms(ctx context.Context, req *lkp.ListRoomsRequest) (*lkp.ListRoomsResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomList: true}, func(ctx context.Context) (*lkp.ListRoomsResponse, error) { return c.svc.ListRooms(ctx, req) })
}

// DeleteRoom ends a room for everyone.
func (c *RoomClient) DeleteRoom(ctx context.Context, req *lkp.DeleteRoomRequest) (*lkp.DeleteRoomResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomCreate: true}, func(ctx context.Context) (*lkp.DeleteRoomResponse, error) { return c.svc.DeleteRoom(ctx, req) })
}

// ListParticipants lists a room's participants.
func (c *RoomClient) ListParticipants(ctx context.Context, req *lkp.ListParticipantsRequest) (*lkp.ListParticipantsResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.ListParticipantsResponse, error) {
		return c.svc.ListParticipants(ctx, req)
	})
}

// GetParticipant returns one participant.
func (c *RoomClient) GetParticipant(ctx context.Context, req *lkp.RoomParticipantIdentity) (*lkp.ParticipantInfo, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.ParticipantInfo, error) { return c.svc.GetParticipant(ctx, req) })
}

// RemoveParticipant disconnects a participant (its token stays valid: see the room package for bans).
func (c *RoomClient) RemoveParticipant(ctx context.Context, req *lkp.RoomParticipantIdentity) (*lkp.RemoveParticipantResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.RemoveParticipantResponse, error) {
		return c.svc.RemoveParticipant(ctx, req)
	})
}

// MutePublishedTrack mutes or unmutes one published track.
func (c *RoomClient) MutePublishedTrack(ctx context.Context, req *lkp.MuteRoomTrackRequest) (*lkp.MuteRoomTrackResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.MuteRoomTrackResponse, error) {
		return c.svc.MutePublishedTrack(ctx, req)
	})
}

// UpdateParticipant replaces a participant's metadata and whole permission set.
func (c *RoomClient) UpdateParticipant(ctx context.Context, req *lkp.UpdateParticipantRequest) (*lkp.ParticipantInfo, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.ParticipantInfo, error) { return c.svc.UpdateParticipant(ctx, req) })
}

// SendData sends a data packet to a room's participants (all, or the identities named).
func (c *RoomClient) SendData(ctx context.Context, req *lkp.SendDataRequest) (*lkp.SendDataResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomAdmin: true, Room: req.Room}, func(ctx context.Context) (*lkp.SendDataResponse, error) { return c.svc.SendData(ctx, req) })
}

// IsNotFound reports LiveKit's answer that a room, participant or egress does not exist.
func IsNotFound(err error) bool {
	var te twirp.Error
	return errors.As(err, &te) && te.Code() == twirp.NotFound
}

// EgressClient is LiveKit's Egress service with lksdk.EgressClient's signatures for the calls
// Parley makes, each bounded by a timeout.
type EgressClient struct {
	b   apiBase
	svc lkp.Egress
}

// NewEgressClient talks to LiveKit's HTTP API at httpURL.
func NewEgressClient(httpURL, apiKey, apiSecret string, hc *http.Client, timeout time.Duration) *EgressClient {
	b, hc := newAPIBase(httpURL, apiKey, apiSecret, hc, timeout)
	return &EgressClient{b: b, svc: lkp.NewEgressProtobufClient(httpURL, hc)}
}

// StartRoomCompositeEgress starts recording a room with LiveKit Egress.
func (c *EgressClient) StartRoomCompositeEgress(ctx context.Context, req *lkp.RoomCompositeEgressRequest) (*lkp.EgressInfo, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomRecord: true}, func(ctx context.Context) (*lkp.EgressInfo, error) { return c.svc.StartRoomCompositeEgress(ctx, req) })
}

// StopEgress stops an egress.
func (c *EgressClient) StopEgress(ctx context.Context, req *lkp.StopEgressRequest) (*lkp.EgressInfo, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomRecord: true}, func(ctx context.Context) (*lkp.EgressInfo, error) { return c.svc.StopEgress(ctx, req) })
}

// ListEgress lists egresses.
func (c *EgressClient) ListEgress(ctx context.Context, req *lkp.ListEgressRequest) (*lkp.ListEgressResponse, error) {
	return call(ctx, c.b, auth.VideoGrant{RoomRecord: true}, func(ctx context.Context) (*lkp.ListEgressResponse, error) { return c.svc.ListEgress(ctx, req) })
}
