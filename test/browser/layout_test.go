package browser

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPhoneLayout walks the app at a 375 px wide viewport: nothing may scroll sideways, and
// chat and the participant list work in the meeting.
func TestPhoneLayout(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	p := newPage(t, browser, s, "phone")
	p.do("phone viewport", 10*time.Second, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	noSideScroll := func(where string) {
		t.Helper()
		p.screenshot(where)
		if w := p.evalString(`document.documentElement.scrollWidth`); w != "375" {
			t.Errorf("%s: page is %s px wide at a 375 px viewport", where, w)
		}
	}

	p.register("Pat Phone", uniq("pat")+"@example.com")
	noSideScroll("rooms")
	room := p.createRoom("Phone call", false, true)
	noSideScroll("join")
	p.join(room, "")
	noSideScroll("meeting")
	p.waitJS("own video and microphone on", `(() => { const v = document.querySelector('[data-testid=tile][data-local=true] video'); return !!v && v.videoWidth > 0 && document.querySelector('[data-testid=toggle-mic]')?.dataset.muted === 'false'; })()`, firstFrameTimeout)
	p.artifact("meeting-375x812", false)

	p.click(`[data-testid=toggle-chat]`)
	p.fill(`[data-testid=chat-input]`, "hello from a phone")
	p.click(`[data-testid=chat-send]`)
	p.waitJS("own chat message shown", `[...document.querySelectorAll('[data-testid=chat-message]')].some(m => m.textContent.includes('hello from a phone'))`, 10*time.Second)
	noSideScroll("chat")

	p.click(`[data-testid=toggle-people]`)
	p.waitJS("participant list lists me", `document.querySelectorAll('[data-testid=person]').length === 1`, 10*time.Second)
	p.click(`[data-testid=toggle-hand]`)
	p.waitJS("hand raised in the list", `document.querySelector('[data-testid=person]').textContent.includes('Hand raised')`, 10*time.Second)
	noSideScroll("people")

	p.click(`[data-testid=leave]`)
	p.waitJS("left", `(document.querySelector('[data-testid=disconnect-message]')?.textContent || '').includes('You left')`, 10*time.Second)
	noSideScroll("left")
}
