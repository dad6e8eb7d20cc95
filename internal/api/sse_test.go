package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/parley/parley/internal/live"
)

func TestSSEHeartbeat(t *testing.T) {
	pr, pw := io.Pipe()
	events := make(chan live.Event)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- writeSSE(ctx, bufio.NewWriter(pw), events, nil, nil, 20*time.Millisecond) }()
	sc := bufio.NewScanner(pr)
	beats := 0
	for sc.Scan() && beats < 2 {
		if sc.Text() == ": heartbeat" {
			beats++
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("writeSSE ended with %v", err)
	}
	if beats < 2 {
		t.Fatalf("%d heartbeats", beats)
	}
}
