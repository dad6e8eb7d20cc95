package main

import (
	"context"
	"errors"
	"testing"
)

// TestLiveKitGate: a wait returns at once while the gate is open, is held while it is
// closed until it opens again, and ends with its context.
func TestLiveKitGate(t *testing.T) {
	g := newLiveKitGate()
	g.set(true)
	if err := g.wait(context.Background()); err != nil {
		t.Fatalf("open gate: %v", err)
	}
	g.set(false)
	g.set(false) // closing twice keeps one wait channel
	released := make(chan error, 1)
	go func() { released <- g.wait(context.Background()) }()
	g.set(true)
	if err := <-released; err != nil {
		t.Fatalf("wait across a restart: %v", err)
	}
	g.set(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with an ended context: %v, want context.Canceled", err)
	}
}
