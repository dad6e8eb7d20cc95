package livekit

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// Retries of a refused connection (RetryRefused): a supervisor notices a dead LiveKit well
// within them.
const (
	refusedRetries = 3
	refusedPause   = 20 * time.Millisecond
)

// RetryRefused runs try after wait. A LiveKit killed a moment ago refuses connections
// before its supervisor has noticed and closed wait, so while try fails with a refused
// connection both run again, up to refusedRetries more times refusedPause apart: the next
// wait then holds the caller for the new LiveKit instead of the caller being refused. With
// no wait (nothing would hold the retry) try runs once. wait's error is returned as it is.
func RetryRefused(ctx context.Context, wait func(context.Context) error, try func() error) error {
	for n := 0; ; n++ {
		if wait != nil {
			if err := wait(ctx); err != nil {
				return err
			}
		}
		err := try()
		if err == nil || wait == nil || n >= refusedRetries || !errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(refusedPause):
		}
	}
}
