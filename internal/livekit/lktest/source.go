package lktest

import (
	"context"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Synthetic frames: LiveKit forwards media without decoding it, so one frame repeated is
// enough for it to list, mute, forward or revoke a track.
var (
	opusSilence = []byte{0xf8, 0xff, 0xfe}
	vp8KeyFrame = []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00}
)

// PublishSource publishes a synthetic track of source on r (Opus silence for microphone and
// screen-share audio, a VP8 frame for camera and screen share), named name, with the given
// advertised video size (0 = none), and feeds it every 20 ms until ctx ends.
func PublishSource(ctx context.Context, r *lksdk.Room, source livekit.TrackSource, name string, width, height int) (*lksdk.LocalTrackPublication, error) {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	frame := vp8KeyFrame
	if source == livekit.TrackSource_MICROPHONE || source == livekit.TrackSource_SCREEN_SHARE_AUDIO {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		frame = opusSilence
	}
	track, err := webrtc.NewTrackLocalStaticSample(codec, source.String(), "stream")
	if err != nil {
		return nil, err
	}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = track.WriteSample(media.Sample{Data: frame, Duration: 20 * time.Millisecond})
			}
		}
	}()
	return r.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: name, Source: source,
		VideoWidth: width, VideoHeight: height})
}
