package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/recording/builtin"
)

// newBuiltinRecorder builds the built-in recorder backend. It fails at startup when ffmpeg
// is missing; recordings an earlier process left unfinished are composed once Parley is up.
func (a *app) newBuiltinRecorder(rep recording.Reporter, store recording.Storage, rooms builtin.ParticipantRemover) (*builtin.Recorder, error) {
	if err := builtin.LookFFmpeg("ffmpeg"); err != nil {
		return nil, fmt.Errorf("recording.backend is builtin: %w", err)
	}
	lk := a.cfg.LiveKit
	rec, err := builtin.New(builtin.Config{
		URL:                       wsURL(lk.InternalHost),
		APIKey:                    lk.APIKey,
		APISecret:                 lk.APISecret,
		WorkDir:                   filepath.Join(a.cfg.Server.DataDir, "recorder"),
		KeepTracks:                a.cfg.Recording.KeepTracks,
		MaxConcurrentCompositions: a.cfg.Recording.MaxConcurrentCompositions,
		Registry:                  a.reg,
		Reporter:                  rep,
		Storage:                   store,
		Rooms:                     rooms,
		Log:                       a.log.With("component", "recorder"),
		Now:                       time.Now,
	})
	if err != nil {
		return nil, err
	}
	// The SDK's transports log through its process-wide logger; route it to ours, warnings up.
	lksdk.SetLogger(builtin.SDKLogger(a.log.With("component", "livekit-sdk")))
	a.starters = append(a.starters, func(ctx context.Context) error {
		// Compose what an earlier process left unfinished; a failure here must not stop Parley.
		if err := rec.Recover(ctx); err != nil {
			a.log.Error("recorder: recovering unfinished recordings failed", "err", err)
		}
		return nil
	})
	a.closers = append(a.closers, rec.Close)
	return rec, nil
}

// wsURL turns LiveKit's internal http(s) URL into the ws(s) URL participants connect to.
func wsURL(httpURL string) string {
	switch {
	case strings.HasPrefix(httpURL, "https://"):
		return "wss://" + strings.TrimPrefix(httpURL, "https://")
	case strings.HasPrefix(httpURL, "http://"):
		return "ws://" + strings.TrimPrefix(httpURL, "http://")
	}
	return httpURL
}
