package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestGermanPages: a browser that prefers German gets the app in German (the page's lang
// attribute too) on the sign-in, rooms, pre-join and meeting pages, and axe-core still finds
// no serious or critical violation there.
func TestGermanPages(t *testing.T) {
	browser := newBrowserWith(t, chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	s := startParley(t)
	axe := axeSource(t)

	p := newPage(t, browser, s, "deutsch")
	p.waitVisible(`[data-testid=login-form]`, connectTimeout)
	if got := p.evalString(`navigator.language + ' ' + document.documentElement.lang`); got != "de-DE de" {
		t.Fatalf("navigator.language and <html lang> are %q, want de-DE de", got)
	}
	german := func(where string, words ...string) {
		t.Helper()
		// Visible text and the names screen readers read (icon buttons have only those).
		text := p.evalString(`document.body.innerText + ' ' + [...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label')).join(' ')`)
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: no %q on the page: %s", where, w, p.text())
			}
		}
		p.checkA11y(where+"-de", axe)
	}
	german("login", "Anmelden", "Geräte testen")
	p.artifact("login-de", false)

	p.register("Dora Deutsch", uniq("dora")+"@example.com")
	german("rooms", "Räume", "Aufnahmen", "Abmelden")

	room := p.createRoom("Wochenbesprechung "+uniq(""), true, false)
	p.waitJS("camera preview", `(() => { const v = document.querySelector('[data-testid=preview-video]'); return v && v.videoWidth > 0; })()`, firstFrameTimeout)
	german("pre-join", "Besprechung beitreten", "Ende-zu-Ende-Verschlüsselung", "Mikrofon")

	p.join(room, "")
	p.waitJS("own tile", `!!document.querySelector('[data-testid=tile][data-local=true]')`, connectTimeout)
	german("meeting", "Besprechung verlassen", "Teilnehmende (1)", "(Sie)")
	// The microphone is published after the camera: on a loaded machine the people list can
	// be read before it is, and says "stumm" instead.
	p.waitJS("microphone on", `document.querySelector('[data-testid=toggle-mic]')?.dataset.muted === 'false'`, connectTimeout)
	p.click(`[data-testid=toggle-people]`)
	p.waitVisible(`[data-testid=people-panel]`, 10*time.Second)
	german("meeting-people", "Teilnehmende (1)", "Mikrofon an")
	p.artifact("meeting-de-1280x800", false)
}
