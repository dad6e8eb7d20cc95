package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/livekit/lktest"
)

const roomHeal = "bench-heal"

// benchHeal: two participants in a meeting, each publishing synthetic audio and video and
// receiving the other's; kill -9 of Parley's livekit-server; the time until each again
// receives RTP of the other's tracks. Each participant heals as the web app does once its
// connection is lost: a fresh token from the join API and a new connection at once (Parley
// holds both while LiveKit restarts), retried every 250 ms after a failure. The web app's own resume attempts before that
// (livekit-client's) are not in the figure: the browser test covers them. A fresh instance
// each time measures an isolated crash, not the supervisor's backoff after several.
func (h *harness) benchHeal(ctx context.Context) {
	const g, name = "livekit", "kill -9 -> both participants' media flowing again"
	media, err := lktest.SynthMedia(ctx, h.tmp, lktest.MediaSpec{Width: 320, Height: 240, FPS: 15, VideoKbps: 200, ToneHz: 440, Seconds: 2})
	if err != nil {
		h.rep.na(g, name, "ms", short(err.Error()))
		return
	}
	var took []float64
	for i := 0; i < 5 && ctx.Err() == nil; i++ {
		d, err := h.healOnce(ctx, i, media)
		if err != nil {
			h.rep.na(g, name, "ms", short(err.Error()))
			return
		}
		took = append(took, ms(d))
		fmt.Fprintf(os.Stderr, "   heal %d: %.0fms\n", i+1, ms(d))
	}
	f := stat(g, name, "ms", took)
	f.Note = "2 publishers, isolated crash; rejoin with a fresh token at once, then every 250 ms"
	h.rep.add(f)
}

func (h *harness) healOnce(ctx context.Context, i int, media lktest.Media) (time.Duration, error) {
	in, err := h.startInstance(ctx, fmt.Sprintf("heal%d", i))
	if err != nil {
		return 0, err
	}
	defer in.stop()
	if _, err := in.waitReady(ctx, 60*time.Second); err != nil {
		return 0, err
	}
	a := newAPI(in.base)
	admin, err := a.login(ctx, h.sec.AdminEmail, h.sec.AdminPassword)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	guest, err := a.register(ctx, "heal@example.com", "bench-password-123", "Heal")
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	if err := a.createRoom(ctx, admin.AccessToken, roomHeal); err != nil {
		return 0, fmt.Errorf("create room: %w", err)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seats := []*healer{newHealer(a, admin.AccessToken, media), newHealer(a, guest.AccessToken, media)}
	var wg sync.WaitGroup
	for _, s := range seats {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(hctx) }()
	}
	defer wg.Wait()
	defer cancel()
	flowing := func(after int64) bool { // unix nanoseconds
		for _, s := range seats {
			if s.lastRTP.Load() <= after {
				return false
			}
		}
		return true
	}
	if err := pollUntil(ctx, 30*time.Second, func() (bool, error) { return flowing(0), nil }); err != nil {
		return 0, fmt.Errorf("media never flowed between the two participants: %w", err)
	}
	_, t0, err := in.killLiveKitChild()
	if err != nil {
		return 0, err
	}
	if err := pollUntil(ctx, 60*time.Second, func() (bool, error) { return flowing(t0.UnixNano()), nil }); err != nil {
		return 0, fmt.Errorf("media not flowing again 60 s after the kill: %w (%s)", err, short(in.logTail()))
	}
	took := time.Since(t0)
	for n, s := range seats {
		last, _ := s.lastErr.Load().(string)
		fmt.Fprintf(os.Stderr, "   participant %d: loss noticed %s, old connection closed in %.0fms, %d failed attempts (%s), joined again %s\n",
			n+1, since(t0, s.lostAt.Load()), ms(time.Duration(s.closeTook.Load())), s.failed.Load(), last, since(t0, s.joinedAt.Load()))
	}
	return took, nil
}

// healer is one participant: it joins through the API, publishes, subscribes to the
// other's tracks and records when their RTP last arrived; a lost connection makes it join
// again with a fresh token.
type healer struct {
	a       *api
	bearer  string
	media   lktest.Media
	lastRTP atomic.Int64 // unix nanoseconds
	lost    chan struct{}
	// lostAt and joinedAt are the last loss noticed and the last connection made, for the
	// per-run line that tells a slow client from a slow server; closeTook is how long the
	// lost connection's Close took, failed the attempts that failed since, lastErr the last.
	lostAt, joinedAt, closeTook, failed atomic.Int64
	lastErr                             atomic.Value // string
}

func newHealer(a *api, bearer string, m lktest.Media) *healer {
	return &healer{a: a, bearer: bearer, media: m, lost: make(chan struct{}, 1)}
}

func (s *healer) run(ctx context.Context) {
	for ctx.Err() == nil {
		pub, err := s.connect(ctx)
		if err != nil {
			s.failed.Add(1)
			s.lastErr.Store(short(err.Error()))
			select { // LiveKit or the room is not back yet: try again shortly
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.lost:
		}
		t := time.Now()
		pub.Close()
		s.closeTook.Store(int64(time.Since(t)))
		s.failed.Store(0)
	}
}

func (s *healer) connect(ctx context.Context) (*lktest.Publisher, error) {
	j, err := s.a.join(ctx, s.bearer, roomHeal)
	if err != nil {
		return nil, err
	}
	select { // a loss reported by the previous connection is stale now
	case <-s.lost:
	default:
	}
	signal := func() {
		s.lostAt.Store(time.Now().UnixNano())
		select {
		case s.lost <- struct{}{}:
		default:
		}
	}
	cb := lksdk.NewRoomCallback()
	cb.OnReconnecting = signal
	cb.OnDisconnected = signal
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				s.lastRTP.Store(time.Now().UnixNano())
			}
		}()
	}
	p, err := lktest.Publish(j.URL, j.Token, s.media, lktest.PublishOptions{AudioName: "microphone", VideoName: "camera",
		Quiet: true, Callback: cb, Connect: []lksdk.ConnectOption{lksdk.WithAutoSubscribe(true)}})
	if err == nil {
		s.joinedAt.Store(time.Now().UnixNano())
	}
	return p, err
}

// since is how long after t0 the moment at (unix nanoseconds) was, or "-" before it.
func since(t0 time.Time, at int64) string {
	if at < t0.UnixNano() {
		return "-"
	}
	return fmt.Sprintf("%.0fms", ms(time.Duration(at-t0.UnixNano())))
}
