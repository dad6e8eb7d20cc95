package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBackgroundBlur: Alice turns on background blur in the device panel; LiveKit's processor
// segments her camera frames with the model and MediaPipe runtime Parley serves (nothing is
// fetched from another origin), her own tile keeps playing and Bob, who watches, still gets
// her video; turning it off removes the processor.
func TestBackgroundBlur(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	alice := newPage(t, browser, s, "alice")
	bob := newPage(t, browser, s, "bob")
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	room := alice.createRoom("Blurred "+uniq(""), true, false)
	alice.join(room, "")
	bob.joinWith(room, "", false) // Bob only watches: one camera encoder is enough

	alice.click(`[data-testid=toggle-devices]`)
	alice.click(`[data-testid=blur-toggle]`)
	camera := `window.parleyRoom.localParticipant.getTrackPublication('camera')?.track`
	alice.waitJS("the blur processes camera frames", camera+`?.getProcessor()?.name === 'background-processor' && (window.parleyBlur?.frames ?? 0) > 30 && document.querySelector('[data-testid=blur-toggle]').checked`, firstFrameTimeout)
	own := `document.querySelector('[data-testid=tile][data-local=true] video')`
	t1, _ := alice.eval(own + `.currentTime`).(float64)
	alice.waitJS("alice's own tile plays on", fmt.Sprintf(`%s.currentTime > %f`, own, t1+1), firstFrameTimeout)
	bob.waitRemoteVideoPlaying(alice.identity())
	t.Logf("blurred frames so far, the last one's cost (ms): %s", alice.evalString(`JSON.stringify(window.parleyBlur)`))
	alice.screenshot("blurred")
	alice.artifact("meeting-blur", false)

	for _, u := range alice.requested() {
		if !strings.HasPrefix(u, s.URL) && !strings.HasPrefix(u, "ws") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the page fetched %s, outside Parley", u)
		}
	}

	alice.click(`[data-testid=blur-toggle]`)
	alice.waitJS("the blur is off", `!`+camera+`?.getProcessor() && !document.querySelector('[data-testid=blur-toggle]').checked`, 20*time.Second)
	alice.noConsoleErrors("blur on and off")
}
