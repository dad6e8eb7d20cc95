package livekit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

// ErrRejected means LiveKit refused Parley's API key or secret.
var ErrRejected = errors.New("LiveKit rejected the API key")

// startExternal waits (up to StartTimeout) until the external LiveKit answers GET / and one
// authenticated RoomService call; wrong credentials fail at once.
func (s *Supervisor) startExternal(ctx context.Context) error {
	if s.o.SkipTLSVerify {
		s.log.Warn("!!! livekit.skipTLSVerify is ON: Parley accepts ANY certificate from LiveKit at " + s.o.HTTPURL +
			"; anyone on the path can impersonate it. Use only with a self-signed test certificate.")
	}
	t0 := s.now()
	deadline := time.NewTimer(s.o.StartTimeout)
	defer deadline.Stop()
	for {
		err := s.checkExternal(ctx)
		if err == nil {
			s.markReady(nil, t0)
			s.log.Info("external livekit ready", "api", s.o.HTTPURL, "url", s.o.PublicURL)
			return nil
		}
		if errors.Is(err, ErrRejected) {
			return err
		}
		s.setState(StateStarting, err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			fix := fmt.Sprintf("check livekit.internalHost: `curl %s/` from this host must print OK; check the firewall", s.o.HTTPURL)
			if strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "certificate") {
				fix = "its certificate is not trusted: install the CA, or set livekit.skipTLSVerify: true for a self-signed test certificate"
			}
			return fmt.Errorf("%w: external LiveKit at %s did not answer within %s: %v (%s)", ErrUnavailable, s.o.HTTPURL, s.o.StartTimeout, err, fix)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkExternal probes GET / and makes one authenticated call.
func (s *Supervisor) checkExternal(ctx context.Context) error {
	if err := s.probe(ctx); err != nil {
		return fmt.Errorf("GET %s/: %w", s.o.HTTPURL, err)
	}
	cctx, cancel := context.WithTimeout(ctx, s.o.ProbeTimeout*2)
	defer cancel()
	_, err := s.rooms.ListRooms(cctx, &lkp.ListRoomsRequest{})
	var te twirp.Error
	if errors.As(err, &te) && (te.Code() == twirp.Unauthenticated || te.Code() == twirp.PermissionDenied) {
		return fmt.Errorf("%w %q at %s (%s): livekit.apiKey and livekit.apiSecret must be a key pair listed in that LiveKit's keys", ErrRejected, s.o.APIKey, s.o.HTTPURL, te.Msg())
	}
	if err != nil {
		return fmt.Errorf("RoomService.ListRooms: %w", err)
	}
	return nil
}

// watchExternal re-checks every ProbeInterval; two failures in a row mark LiveKit
// unreachable, the next success marks it ready again and notifies the OnReady subscribers
// (the server may have restarted and lost its rooms).
func (s *Supervisor) watchExternal(ctx context.Context) {
	t := time.NewTicker(s.o.ProbeInterval)
	defer t.Stop()
	fails := 0
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.checkExternal(ctx)
		if ctx.Err() != nil {
			return
		}
		st := s.Status()
		if err == nil {
			fails = 0
			if st.State != StateReady {
				s.markReady(nil, since)
				s.log.Info("external livekit reachable again", "api", s.o.HTTPURL, "down_for", s.now().Sub(since).Round(time.Millisecond))
			}
			continue
		}
		fails++
		if fails == 1 {
			since = s.now()
		}
		if fails >= 2 {
			if st.State == StateReady {
				s.log.Error("external livekit unreachable", "api", s.o.HTTPURL, "err", err)
			}
			s.setState(StateUnreachable, err.Error())
		}
	}
}
