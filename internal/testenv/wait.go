package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 50 ms until it holds, and fails the test once within has
// passed: tests wait on conditions, never on fixed sleeps.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
