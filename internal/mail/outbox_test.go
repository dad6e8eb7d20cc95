package mail

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestOutboxRetries: a message whose send fails is tried again, and the ones behind it are
// not held up meanwhile; one that keeps failing is tried maxAttempts times.
func TestOutboxRetries(t *testing.T) {
	attempts := make(chan Message, 100)
	sent := make(chan string, 10)
	flaky := 0
	o := NewOutbox(func(_ context.Context, m Message) error {
		attempts <- m
		switch m.To {
		case "dead@example.com":
			return errors.New("550 no such mailbox")
		case "flaky@example.com":
			if flaky++; flaky < 3 { // only the worker goroutine touches it
				return errors.New("421 try again later")
			}
		}
		sent <- m.To
		return nil
	}, slog.New(slog.DiscardHandler))
	o.retryBase = time.Millisecond
	for _, to := range []string{"flaky@example.com", "dead@example.com", "fine@example.com"} {
		if err := o.Queue(Message{To: to, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	// The worker starts with all three queued: the first retry cannot overtake "fine".
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = o.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if got := <-sent; got != "fine@example.com" {
		t.Fatalf("first sent: %s, want the message that never failed", got)
	}
	if got := <-sent; got != "flaky@example.com" {
		t.Fatalf("then %s, want the retried one", got)
	}
	for dead := 0; dead < maxAttempts; {
		if m := <-attempts; m.To == "dead@example.com" {
			dead++
			if m.attempts != dead-1 {
				t.Fatalf("attempt %d carries attempts=%d", dead, m.attempts)
			}
		}
	}
}
