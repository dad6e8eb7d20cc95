package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// liveKitPID finds the livekit-server that the Parley process runs.
func liveKitPID(t *testing.T, parent int) int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && filepath.Base(exe) == "livekit-server" {
				return pid
			}
		}
	}
	t.Fatalf("no livekit-server child of Parley (pid %d)", parent)
	return 0
}

// overWatch notes whether the page ever said the meeting was over (for a test where it must not).
const overWatch = `(() => {
  window.parleyOver = '';
  new MutationObserver(() => {
    const m = document.querySelector('[data-testid=meeting-over]');
    if (m && !window.parleyOver) window.parleyOver = m.textContent;
  }).observe(document.body, { subtree: true, childList: true });
  return true;
})()`

// TestMeetingHealsAfterLiveKitCrash (issue 16): two people in a meeting, livekit-server is
// killed with SIGKILL; Parley's supervisor restarts it and both pages rejoin by themselves
// (showing "Reconnecting…", never "You left"), with their camera and microphone back on.
func TestMeetingHealsAfterLiveKitCrash(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	if s.PID == 0 {
		t.Skip("PARLEY_TEST_URL: the test cannot kill that server's LiveKit")
	}

	alice := newPage(t, browser, s, "alice")
	bob := newPage(t, browser, s, "bob")
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	room := alice.createRoom("Resilient "+uniq(""), true, false)
	alice.join(room, "")
	bob.join(room, "")
	aliceID, bobID := alice.identity(), bob.identity()
	alice.waitRemoteVideoPlaying(bobID)
	bob.waitRemoteVideoPlaying(aliceID)
	for _, p := range []*page{alice, bob} {
		p.eval(overWatch)
	}

	lk := liveKitPID(t, s.PID)
	killed := time.Now()
	if err := syscall.Kill(lk, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed livekit-server (pid %d)", lk)

	for _, p := range []*page{alice, bob} {
		p.waitJS("rejoined with a fresh token", `Number(document.querySelector('[data-testid=meeting]')?.dataset.sessions) >= 2`, 60*time.Second)
		// The identity may change with the new token: find the other person's tile by name.
		p.waitJS("the other person is back", `document.querySelectorAll('[data-testid=tile]').length >= 2`, connectTimeout)
		other := p.evalString(`[...document.querySelectorAll('[data-testid=tile][data-local=false]')].map((t) => t.dataset.identity)[0]`)
		p.waitRemoteVideoPlaying(other)
		p.waitJS("own camera and microphone back on", `document.querySelector('[data-testid=toggle-mic]')?.dataset.muted === 'false' && document.querySelector('[data-testid=toggle-camera]')?.dataset.muted === 'false'`, connectTimeout)
		t.Logf("%s: video again %.1f s after the kill", p.name, time.Since(killed).Seconds())
		if over := p.evalString(`window.parleyOver`); over != "" {
			t.Errorf("%s: the page said the meeting was over while it healed: %q", p.name, over)
		}
		p.screenshot("healed")
	}
}
