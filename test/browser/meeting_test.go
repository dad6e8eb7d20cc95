package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTwoUsersAndAdmin covers scenarios 1 and 2: two users see each other's video; the admin
// dashboard shows both live, mutes one (whose UI shows the mic muted) and kicks the other
// (whose page says a moderator removed them).
func TestTwoUsersAndAdmin(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	alice := newPage(t, browser, s, "alice")
	bob := newPage(t, browser, s, "bob")
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")

	room := alice.createRoom("Standup "+uniq(""), true, false)
	t.Logf("room %s", room)
	alice.join(room, "")
	alice.screenshot("in-meeting-alone")
	bob.join(room, "")
	aliceID, bobID := alice.identity(), bob.identity()

	// Scenario 1: each sees the other's video playing.
	alice.waitRemoteVideoPlaying(bobID)
	bob.waitRemoteVideoPlaying(aliceID)
	alice.screenshot("sees-bob")
	bob.screenshot("sees-alice")

	// Scenario 2: the admin dashboard shows both participants live.
	admin := newPage(t, browser, s, "admin")
	admin.login(adminEmail, adminPassword)
	admin.navigate("/admin")
	roomSel := fmt.Sprintf(`[data-testid=admin-room][data-room=%q]`, room)
	admin.waitJS("both participants on the dashboard", fmt.Sprintf(
		`document.querySelectorAll('%s [data-testid=admin-participant]').length === 2`, roomSel), 20*time.Second)
	admin.screenshot("dashboard-two-live")
	admin.do("1280x800 viewport", 10*time.Second, chromedp.EmulateViewport(1280, 800))
	admin.artifact("admin", true)

	// Alice's microphone is on before the admin mutes it.
	alice.waitJS("alice's mic is on", `document.querySelector('[data-testid=toggle-mic]')?.dataset.muted === 'false'`, connectTimeout)
	aliceRow := fmt.Sprintf(`%s [data-testid=admin-participant][data-identity=%q]`, roomSel, aliceID)
	if !admin.tryJS(fmt.Sprintf(`document.querySelector('%s')?.dataset.mic === 'on'`, aliceRow), 15*time.Second) {
		t.Logf("the dashboard does not show alice's microphone track yet: %s", admin.text())
	}
	mutedJS := `document.querySelector('[data-testid=toggle-mic]')?.dataset.muted === 'true'`
	for attempt := 1; ; attempt++ {
		admin.click(aliceRow + ` [data-testid=admin-mute]`)
		if alice.tryJS(mutedJS, 5*time.Second) {
			break
		}
		if attempt == 3 {
			admin.screenshot("mute-failed")
			t.Fatalf("alice's UI never showed her mic muted; dashboard says: %s", admin.text())
		}
		t.Logf("mute attempt %d did not land yet (the server may not know the track yet); dashboard: %s", attempt, admin.text())
	}
	alice.screenshot("muted-by-admin")
	admin.screenshot("after-mute")

	// The admin kicks Bob: his page explains that a moderator removed him.
	admin.click(fmt.Sprintf(`%s [data-testid=admin-participant][data-identity=%q] [data-testid=admin-kick]`, roomSel, bobID))
	admin.click(`[data-testid=admin-kick-confirm]`)
	bob.waitJS("bob sees the removal message", `(document.querySelector('[data-testid=disconnect-message]')?.textContent || '').includes('removed from the meeting by a moderator')`, 15*time.Second)
	bob.screenshot("removed")
	admin.waitJS("dashboard shows one participant left", fmt.Sprintf(
		`document.querySelectorAll('%s [data-testid=admin-participant]').length === 1`, roomSel), 20*time.Second)
	admin.fullScreenshot("dashboard-after-kick")
}

// TestGuests covers scenario 3: a guest joins a room that allows guests and is refused one that
// does not.
func TestGuests(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	owner := s.registerAPI(t, uniq("owner")+"@example.com", "Owner")
	var open, closed struct {
		Name string `json:"name"`
	}
	s.call(t, "POST", "/api/rooms", owner, map[string]any{"title": "Open house", "public": true, "allowGuests": true}, &open)
	s.call(t, "POST", "/api/rooms", owner, map[string]any{"title": "Members only", "public": true, "allowGuests": false}, &closed)

	guest := newPage(t, browser, s, "guest")
	guest.join(open.Name, "Gina Guest")
	guest.waitJS("guest's own camera tile", `(() => { const v = document.querySelector('[data-testid=tile][data-local=true] video'); return !!v && v.videoWidth > 0; })()`, firstFrameTimeout)
	guest.screenshot("guest-in-open-room")
	guest.leave()

	guest.openJoinPage(closed.Name)
	guest.fill(`[data-testid=display-name]`, "Gina Guest")
	guest.click(`[data-testid=join-button]`)
	guest.waitVisible(`[data-testid=join-error]`, connectTimeout)
	msg := guest.evalString(`document.querySelector('[data-testid=join-error]').textContent`)
	t.Logf("guest refused: %q (code %s)", msg, guest.evalString(`document.querySelector('[data-testid=join-error]').dataset.code`))
	if guest.evalString(`!!document.querySelector('[data-testid=meeting]')`) == "true" {
		t.Fatal("guest got into a room that does not allow guests")
	}
	guest.screenshot("guest-refused")
}
