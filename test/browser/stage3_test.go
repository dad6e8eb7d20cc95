package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMeetingStageThree (issue 18): three people. The grid holds the three tiles; Bob's
// screen share is everyone's main tile with the three people beside it; Carol pins Alice and
// only Carol's main tile changes; in speaker view Alice's main tile is Bob, the one speaking.
// Only Bob sends a camera and his screen: each encoder costs the shared 2-core machine.
func TestMeetingStageThree(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	alice := newPage(t, browser, s, "alice")
	// Bob captures his screen from a browser of his own (see TestMeetingStage), with a steady
	// tone as his microphone so that LiveKit names him the active speaker.
	bob := newPage(t, anotherBrowser(t, chromedp.Flag("use-file-for-fake-audio-capture", toneFile(t))), s, "bob")
	carol := newPage(t, browser, s, "carol")
	everyone := []*page{alice, bob, carol}
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	carol.register("Carol", uniq("carol")+"@example.com")

	room := alice.createRoom("Three of us "+uniq(""), true, false)
	// Carol joins before Bob: without a speaker, speaker view would show her (the first other).
	alice.joinWith(room, "", false)
	alice.watchPeopleCount()
	carol.joinWith(room, "", false)
	carol.watchPeopleCount()
	bob.join(room, "")
	aliceID, bobID := alice.identity(), bob.identity()
	for _, p := range everyone {
		p.waitJS("three tiles in a grid", `document.querySelector('[data-testid=stage]')?.dataset.layout === 'grid' && new Set([...document.querySelectorAll('[data-testid=tile]')].map((t) => t.dataset.identity)).size === 3 && document.querySelector('[data-testid=people-count]')?.textContent.trim() === '3'`, joinTimeout)
	}
	for _, p := range []*page{alice, carol} {
		p.waitRemoteVideoPlaying(bobID)
	}
	// The grid fills the stage: its tiles are more than a third of its width together.
	if got := alice.evalString(`(() => { const st = document.querySelector('[data-testid=stage]').getBoundingClientRect(); const w = [...document.querySelectorAll('[data-testid=tile]')].reduce((a, t) => a + t.getBoundingClientRect().width, 0); return w > st.width / 3 ? 'ok' : w + ' of ' + st.width; })()`); got != "ok" {
		t.Errorf("the grid's tiles fill too little of the stage: %s px", got)
	}
	alice.screenshot("grid-three")
	alice.do("1280x800 viewport", 10*time.Second, chromedp.EmulateViewport(1280, 800))
	alice.artifact("meeting-1280x800", false)

	bob.click(`[data-testid=toggle-screen]`)
	for _, p := range everyone {
		p.waitJS("bob's screen is the main tile, the people beside it", fmt.Sprintf(
			`document.querySelector('[data-testid=stage]')?.dataset.layout === 'screen' && !!document.querySelector('[data-testid=screen-tile][data-main=true][data-identity=%q]') && document.querySelectorAll('.strip [data-testid=tile]').length === 3`, bobID), joinTimeout)
	}
	carol.waitJS("bob's screen plays for carol", fmt.Sprintf(`(() => { const v = document.querySelector('[data-testid=screen-tile][data-identity=%q] video'); return !!v && v.videoWidth > 0 && v.currentTime > 0.3; })()`, bobID), firstFrameTimeout)
	carol.screenshot("screen-share-main")
	carol.do("1280x800 viewport", 10*time.Second, chromedp.EmulateViewport(1280, 800))
	carol.artifact("meeting-screen-share-1280x800", false)

	// Carol pins Alice: Alice is Carol's main tile; the others still see the share.
	carol.click(fmt.Sprintf(`[data-testid=tile][data-identity=%q] [data-testid=pin]`, aliceID))
	carol.waitJS("alice is carol's main tile", fmt.Sprintf(
		`document.querySelector('[data-testid=stage]')?.dataset.layout === 'person' && !!document.querySelector('[data-testid=tile][data-main=true][data-pinned=true][data-identity=%q]')`, aliceID), 10*time.Second)
	if got := alice.evalString(`document.querySelector('[data-testid=stage]').dataset.layout`); got != "screen" {
		t.Errorf("carol's pin changed alice's stage to %q", got)
	}
	carol.screenshot("alice-pinned")
	carol.click(fmt.Sprintf(`[data-testid=tile][data-identity=%q] [data-testid=pin]`, aliceID))
	bob.click(`[data-testid=toggle-screen]`)
	for _, p := range everyone {
		p.waitJS("back to the grid", `document.querySelector('[data-testid=stage]')?.dataset.layout === 'grid'`, connectTimeout)
	}

	// Speaker view: Alice's main tile is whoever speaks, Bob and his tone.
	alice.waitJS("bob speaking", fmt.Sprintf(`document.querySelector('[data-testid=tile][data-identity=%q]')?.dataset.speaking === 'true'`, bobID), firstFrameTimeout)
	alice.click(`[data-testid=toggle-view]`)
	alice.waitJS("bob, speaking, is alice's main tile", fmt.Sprintf(
		`document.querySelector('[data-testid=stage]')?.dataset.layout === 'person' && !!document.querySelector('[data-testid=tile][data-main=true][data-identity=%q]') && document.querySelectorAll('.strip [data-testid=tile]').length === 2`, bobID), firstFrameTimeout)
	alice.screenshot("speaker-view")

	// Bob leaves, then Carol: Alice's count follows the tiles down to herself.
	bob.click(`[data-testid=leave]`)
	alice.waitJS("two left in alice's meeting", `document.querySelector('[data-testid=people-count]')?.textContent.trim() === '2'`, connectTimeout)
	carol.click(`[data-testid=leave]`)
	alice.waitJS("alice alone", `document.querySelector('[data-testid=people-count]')?.textContent.trim() === '1'`, connectTimeout)
	alice.checkPeopleCount("1 2 3 2 1")
	carol.checkPeopleCount("2 3 2")
}

// watchPeopleCount starts sampling, every 50 ms, the "People (N)" count of the toolbar and
// the number of people with a tile, and keeps the longest time the two disagreed.
func (p *page) watchPeopleCount() {
	p.t.Helper()
	p.eval(`(() => {
  const m = (window.parleyPeople = { counts: [], worst: 0, since: null, samples: 0, mismatch: '' });
  m.sample = () => {
    const count = Number(document.querySelector('[data-testid=people-count]')?.textContent.trim());
    const tiles = new Set([...document.querySelectorAll('[data-testid=tile]')].map((t) => t.dataset.identity)).size;
    const now = performance.now();
    m.samples++;
    if (!document.querySelector('[data-testid=meeting]')) return; // left: nothing to compare
    if (m.counts[m.counts.length - 1] !== count) m.counts.push(count);
    if (count === tiles) return void (m.since = null);
    if (m.since === null) m.since = now;
    if (now - m.since > m.worst) {
      m.worst = now - m.since;
      m.mismatch = count + ' counted, ' + tiles + ' tiles';
    }
  };
  setInterval(m.sample, 50);
  return true;
})()`)
}

// checkPeopleCount wants the count to have ended with the values in want (space-separated;
// a count of 1 may show first, before the others' arrival is in) and to have matched the tiles within 1 s of every change: the one time bound, the
// delay a user would notice between the tiles and the count beside them.
func (p *page) checkPeopleCount(want string) {
	p.t.Helper()
	// One last sample, so that a change since the last tick counts too.
	got := p.evalString(`(window.parleyPeople.sample(), window.parleyPeople.counts.join(' '))`)
	worst, _ := p.eval(`window.parleyPeople.worst`).(float64)
	samples := p.evalString(`window.parleyPeople.samples`)
	p.t.Logf("%s: people count went %s; longest disagreement with the tiles %.0f ms (%s samples)", p.name, got, worst, samples)
	if !strings.HasSuffix(got, want) {
		p.t.Errorf("%s: the people count went %q, want %q", p.name, got, want)
	}
	if worst > 1000 {
		p.t.Errorf("%s: the people count and the tiles disagreed for %.0f ms (%s), more than 1 s", p.name, worst, p.evalString(`window.parleyPeople.mismatch`))
	}
}
