package lktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// AudioFrame is the duration of one Opus packet of synthetic media (one per Ogg page).
const AudioFrame = 20 * time.Millisecond

// Media is a short clip for looping: 20 ms Opus packets and VP8 frames at FPS.
type Media struct {
	Audio [][]byte
	Video [][]byte
	FPS   int
}

// MediaSpec says what a synthetic publisher shows and sounds like. Zero fields take the
// defaults noted.
type MediaSpec struct {
	Color         string // solid ffmpeg colour name (tile checks); "" = Pattern
	Pattern       string // lavfi test source when Color is "": default "testsrc2"
	Width, Height int    // default 320x240
	FPS           int    // default 15
	VideoKbps     int    // VP8 bitrate, default 200
	GOP           int    // keyframe interval in frames, default FPS
	StrictGOP     bool   // also -keyint_min GOP and -auto-alt-ref 0: no invisible alt-ref frames
	ToneHz        int    // sine tone, default 440
	SampleRate    int    // sine sample rate; 0 = ffmpeg's default
	AudioKbps     int    // Opus bitrate, default 32
	Seconds       int    // clip length, default 2
}

func (s *MediaSpec) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if s.Pattern == "" {
		s.Pattern = "testsrc2"
	}
	def(&s.Width, 320)
	def(&s.Height, 240)
	def(&s.FPS, 15)
	def(&s.VideoKbps, 200)
	def(&s.GOP, s.FPS)
	def(&s.ToneHz, 440)
	def(&s.AudioKbps, 32)
	def(&s.Seconds, 2)
}

// SynthMedia encodes a clip with ffmpeg into dir (a.ogg, v.ivf) and reads it back with
// pion's Ogg and IVF readers.
func SynthMedia(ctx context.Context, dir string, spec MediaSpec) (Media, error) {
	spec.defaults()
	ogg, ivf := filepath.Join(dir, "a.ogg"), filepath.Join(dir, "v.ivf")
	tone := fmt.Sprintf("sine=frequency=%d", spec.ToneHz)
	if spec.SampleRate != 0 {
		tone += fmt.Sprintf(":sample_rate=%d", spec.SampleRate)
	}
	tone += fmt.Sprintf(":duration=%d", spec.Seconds)
	src := fmt.Sprintf("%s=s=%dx%d:r=%d:d=%d", spec.Pattern, spec.Width, spec.Height, spec.FPS, spec.Seconds)
	if spec.Color != "" {
		src = fmt.Sprintf("color=c=%s:s=%dx%d:r=%d:d=%d", spec.Color, spec.Width, spec.Height, spec.FPS, spec.Seconds)
	}
	video := []string{"-f", "lavfi", "-i", src, "-c:v", "libvpx", "-b:v", fmt.Sprintf("%dk", spec.VideoKbps),
		"-g", strconv.Itoa(spec.GOP), "-deadline", "realtime", "-cpu-used", "8"}
	if spec.StrictGOP {
		video = append(video, "-keyint_min", strconv.Itoa(spec.GOP), "-auto-alt-ref", "0")
	}
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", tone, "-c:a", "libopus", "-b:a", fmt.Sprintf("%dk", spec.AudioKbps),
			"-frame_duration", "20", "-page_duration", "20000", ogg},
		append(video, ivf),
	} {
		out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			return Media{}, fmt.Errorf("ffmpeg %v: %w\n%s", args, err, out)
		}
	}
	m := Media{FPS: spec.FPS}
	var err error
	if m.Audio, err = readOgg(ogg); err != nil {
		return Media{}, err
	}
	if m.Video, err = readIVF(ivf); err != nil {
		return Media{}, err
	}
	if len(m.Audio) == 0 || len(m.Video) == 0 {
		return Media{}, fmt.Errorf("synthetic media is empty: %d audio, %d video", len(m.Audio), len(m.Video))
	}
	return m, nil
}

// readOgg returns the Opus packets of an Ogg file, one a page, without the header pages.
func readOgg(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var pages [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if err != nil {
			return pages, nil
		}
		if len(page) > 0 && !bytes.HasPrefix(page, []byte("OpusHead")) && !bytes.HasPrefix(page, []byte("OpusTags")) {
			pages = append(pages, page)
		}
	}
}

// readIVF returns the VP8 frames of an IVF file.
func readIVF(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if err != nil {
			return frames, nil
		}
		frames = append(frames, frame)
	}
}

// PublishOptions name a Publisher's tracks.
type PublishOptions struct {
	AudioName, VideoName string // publication names, default "mic" and "cam"
	Width, Height        int    // advertised camera size; 0 = not advertised
	Quiet                bool   // discard the SDK's log
	// Connect adds connect options, e.g. lksdk.WithICETransportPolicy(webrtc.ICETransportPolicyRelay).
	Connect []lksdk.ConnectOption
	// Callback receives the room's events (nil: none), e.g. the tracks it subscribes to.
	Callback *lksdk.RoomCallback
}

// Publisher is a real lksdk participant publishing looped synthetic Opus and VP8.
type Publisher struct {
	Room *lksdk.Room
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// Publish joins with token and publishes m's microphone and camera until Close.
func Publish(url, token string, m Media, o PublishOptions) (*Publisher, error) {
	if len(m.Audio) == 0 || len(m.Video) == 0 || m.FPS <= 0 {
		return nil, errors.New("publish: empty synthetic media")
	}
	if o.AudioName == "" {
		o.AudioName = "mic"
	}
	if o.VideoName == "" {
		o.VideoName = "cam"
	}
	opts := append([]lksdk.ConnectOption{lksdk.WithAutoSubscribe(false)}, o.Connect...)
	if o.Quiet {
		opts = append(opts, lksdk.WithLogger(protoLogger.GetDiscardLogger()))
	}
	cb := o.Callback
	if cb == nil {
		cb = lksdk.NewRoomCallback()
	}
	room, err := lksdk.ConnectToRoomWithToken(url, token, cb, opts...)
	if err != nil {
		return nil, err
	}
	at, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "mic")
	if err != nil {
		room.Disconnect()
		return nil, err
	}
	vt, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "cam")
	if err != nil {
		room.Disconnect()
		return nil, err
	}
	if _, err := room.LocalParticipant.PublishTrack(at, &lksdk.TrackPublicationOptions{Name: o.AudioName, Source: livekit.TrackSource_MICROPHONE}); err != nil {
		room.Disconnect()
		return nil, err
	}
	if _, err := room.LocalParticipant.PublishTrack(vt, &lksdk.TrackPublicationOptions{Name: o.VideoName, Source: livekit.TrackSource_CAMERA,
		VideoWidth: o.Width, VideoHeight: o.Height}); err != nil {
		room.Disconnect()
		return nil, err
	}
	p := &Publisher{Room: room, stop: make(chan struct{})}
	p.wg.Add(2)
	go p.loop(at, m.Audio, AudioFrame)
	go p.loop(vt, m.Video, time.Second/time.Duration(m.FPS))
	return p, nil
}

// loop writes frames every period, starting over at the end. Like a real publisher it keeps
// the RTP clock on the wall clock: when the scheduler runs late, it catches up with a burst
// instead of silently falling behind.
func (p *Publisher) loop(track *webrtc.TrackLocalStaticSample, frames [][]byte, every time.Duration) {
	defer p.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	began, sent := time.Now(), 0
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		for due := int(time.Since(began) / every); sent < due; sent++ {
			_ = track.WriteSample(media.Sample{Data: frames[sent%len(frames)], Duration: every})
		}
	}
}

// Close stops the samples and leaves the room; it may be called more than once.
func (p *Publisher) Close() {
	p.once.Do(func() {
		close(p.stop)
		p.wg.Wait()
		p.Room.Disconnect()
	})
}
