package browser

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/parley/parley/internal/testenv"
)

// axeSource is axe-core's browser build, from the web app's dev dependencies (npm ci).
func axeSource(t *testing.T) string {
	t.Helper()
	p := filepath.Join(testenv.RepoRoot(), "web", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		requireOrSkip(t, "axe-core is missing (%v): run npm ci in web/", err)
	}
	return string(b)
}

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkA11y runs axe-core on the page as it is and fails the test on any serious or critical
// violation; lesser ones are logged.
func (p *page) checkA11y(where, axe string) {
	p.t.Helper()
	if p.evalString(`typeof window.axe`) != "object" {
		p.eval(axe + "; true")
	}
	raw := p.evalString(`axe.run(document, { resultTypes: ['violations'] }).then((r) => JSON.stringify(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))))`)
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		p.t.Fatalf("%s: axe answer %q: %v", where, raw, err)
	}
	var bad []string
	for _, v := range vs {
		line := fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			p.t.Logf("%s: axe %s", where, line)
		}
	}
	p.screenshot("a11y-" + where)
	if len(bad) > 0 {
		p.t.Errorf("%s: %d serious or critical accessibility violation(s):\n  %s", where, len(bad), strings.Join(bad, "\n  "))
	}
	p.t.Logf("%s: axe-core found %d violation(s), none serious or critical", where, len(vs))
}

// TestAccessibilityAndCleanConsole runs axe-core on every page a user meets (login, rooms,
// pre-join, meeting, recordings, profile, device check, admin) and wants no serious or critical violation;
// the pages a normal user visits log no console error (the recordings page once logged three
// refused requests); and a room that does not exist never turns the camera on.
func TestAccessibilityAndCleanConsole(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	axe := axeSource(t)

	u := newPage(t, browser, s, "user")
	u.waitVisible(`[data-testid=login-form]`, connectTimeout)
	u.checkA11y("login", axe)
	u.register("Uma User", uniq("uma")+"@example.com")
	u.checkA11y("rooms", axe)
	room := u.createRoom("Accessible "+uniq(""), true, false)
	u.waitJS("camera preview", `(() => { const v = document.querySelector('[data-testid=preview-video]'); return v && v.videoWidth > 0; })()`, firstFrameTimeout)
	u.checkA11y("pre-join", axe)
	u.do("1280x800 viewport", 10*time.Second, chromedp.EmulateViewport(1280, 800))
	u.artifact("pre-join", true)
	u.join(room, "")
	u.waitJS("own tile", `!!document.querySelector('[data-testid=tile][data-local=true]')`, connectTimeout)
	u.checkA11y("meeting", axe)
	u.tabReaches("meeting", "toggle-mic", "toggle-camera", "toggle-screen", "toggle-hand", "toggle-view", "toggle-chat", "toggle-people", "toggle-devices", "leave")
	u.click(`[data-testid=toggle-chat]`)
	u.checkA11y("meeting-chat", axe)
	u.leave()

	u.navigate("/recordings")
	u.waitJS("recordings listed or none", `!!document.querySelector('[data-testid=no-recordings], [data-testid=recordings-table]')`, connectTimeout)
	u.checkA11y("recordings", axe)
	u.navigate("/profile")
	u.waitVisible(`[data-testid=password-form]`, connectTimeout)
	u.checkA11y("profile", axe)

	// The device check: the camera shows, the microphone level moves (Chromium's fake
	// microphone beeps), and the test sound plays.
	u.click(`[data-testid=nav-check]`)
	u.waitJS("camera on the check page", `(() => { const v = document.querySelector('[data-testid=check-page] [data-testid=preview-video]'); return v && v.videoWidth > 0; })()`, firstFrameTimeout)
	u.waitJS("the microphone level moves", `Number(document.querySelector('[data-testid=mic-level]')?.getAttribute('aria-valuenow')) > 0`, firstFrameTimeout)
	u.click(`[data-testid=test-sound]`)
	u.waitJS("the test sound played", `document.querySelector('[data-testid=test-sound]')?.dataset.state === 'played'`, 10*time.Second)
	u.checkA11y("device-check", axe)
	u.noConsoleErrors("a normal user's pages")

	// A room that does not exist: a clear page, and the camera stays off.
	u.navigate("/r/nope-nope-nop")
	u.waitVisible(`[data-testid=room-missing]`, connectTimeout)
	u.checkA11y("room-missing", axe)
	if calls := u.evalString(`window.parleyProbe ? window.parleyProbe.calls : 'no probe'`); calls != "0" {
		t.Errorf("the page for a missing room asked for the camera or microphone (%s getUserMedia calls)", calls)
	}

	admin := newPage(t, browser, s, "admin")
	admin.login(adminEmail, adminPassword)
	admin.navigate("/admin")
	admin.waitVisible(`[data-testid=livekit-state]`, connectTimeout)
	admin.waitJS("the overview is in", `document.querySelector('[data-testid=livekit-state]').textContent !== '—'`, 10*time.Second)
	admin.checkA11y("admin", axe)
}

// tabReaches presses Tab from the top of the page until focus has been on every control
// named (by data-testid), and fails naming those Tab never reached.
func (p *page) tabReaches(where string, testIDs ...string) {
	p.t.Helper()
	p.eval(`(() => { document.activeElement?.blur(); window.parleyFocused = new Set(); document.addEventListener('focusin', (e) => { const id = e.target.closest('[data-testid]')?.dataset.testid; if (id) window.parleyFocused.add(id); }); return true; })()`)
	want, _ := json.Marshal(testIDs)
	for range 80 {
		if err := chromedp.Do(p.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			p.t.Fatalf("%s: press Tab: %v", p.name, err)
		}
		if p.evalString(fmt.Sprintf(`%s.every((id) => window.parleyFocused.has(id))`, want)) == "true" {
			return
		}
	}
	p.t.Errorf("%s: %s: Tab never reached %s (reached %s)", p.name, where,
		p.evalString(fmt.Sprintf(`%s.filter((id) => !window.parleyFocused.has(id)).join(', ')`, want)), p.evalString(`[...window.parleyFocused].join(', ')`))
}
