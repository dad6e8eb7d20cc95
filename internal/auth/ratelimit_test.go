package auth

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(6, func() time.Time { return now }) // 6 a minute per IP+email, 60 per IP
	key := func(email string) []limitKey { return []limitKey{l.ip("ip1"), l.ipEmail("ip1", email)} }
	for i := 0; i < 6; i++ {
		if err := l.allow(key("a")...); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	err := l.allow(key("a")...)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.RetryAfter != 10*time.Second {
		t.Fatalf("7th attempt: %v, want a 10 s wait", err)
	}
	// A refused attempt takes nothing from the IP bucket: 54 more emails pass, then the IP is full.
	for i := 0; i < 54; i++ {
		if err := l.allow(key(fmt.Sprint("other", i))...); err != nil {
			t.Fatalf("other email %d: %v", i, err)
		}
	}
	if err := l.allow(key("fresh")...); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("61st attempt from one IP: %v", err)
	}
	if err := l.allow(l.ip("ip2"), l.ipEmail("ip2", "a")); err != nil {
		t.Fatalf("another IP: %v", err)
	}
	now = now.Add(10 * time.Second)
	if err := l.allow(key("a")...); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// Full buckets are swept after a quiet while; the map does not grow for ever.
	now = now.Add(time.Hour)
	_ = l.allow(l.ip("ip3"))
	if l.b.Len() != 1 {
		t.Errorf("%d buckets after the sweep, want only ip3's", l.b.Len())
	}
}
