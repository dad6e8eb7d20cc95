package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLobbyAdmitAndDeny: the owner turns the lobby on from the meeting; a guest waits (told a
// moderator is there, with no connection to LiveKit), shows up in the owner's waiting list,
// and is in the meeting after the owner's click, with no step of their own; a second guest is
// denied and sees the refusal.
func TestLobbyAdmitAndDeny(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	owner := newPage(t, browser, s, "owner")
	guest := newPage(t, browser, s, "guest")
	pest := newPage(t, browser, s, "pest")
	email := uniq("hana") + "@example.com"
	owner.register("Hana Host", email)
	room := owner.createRoom("Clinic "+uniq(""), true, true)
	owner.joinWith(room, "", false)
	owner.click(`[data-testid=lobby-toggle]`)
	owner.waitJS("lobby on", `document.querySelector('[data-testid=lobby-toggle]')?.getAttribute('aria-pressed') === 'true'`, 10*time.Second)

	knock := func(p *page, name string) {
		p.t.Helper()
		p.openJoinPage(room)
		p.fill(`[data-testid=display-name]`, name)
		p.click(`[data-testid=preview-camera]`)
		p.click(`[data-testid=join-button]`)
		p.waitVisible(`[data-testid=lobby-wait][data-moderator-present=true]`, connectTimeout)
	}
	knock(guest, "Gina Guest")
	guest.screenshot("waiting")
	for _, u := range guest.requested() {
		if strings.Contains(u, "/rtc") {
			t.Fatalf("the waiting guest connected to LiveKit: %s", u)
		}
	}
	entry := `[data-testid=lobby-entry][data-name="Gina Guest"]`
	owner.waitVisible(entry, 10*time.Second)
	// The rooms page (the owner's dashboard, another tab) lists who waits too, live.
	dash := newPage(t, browser, s, "dashboard")
	dash.login(email, "password-123")
	dash.waitVisible(`[data-testid=room-item][data-room="`+room+`"] `+entry, 10*time.Second)
	dash.screenshot("dashboard-lobby")
	owner.screenshot("lobby-list")
	clicked := time.Now()
	owner.click(entry + ` [data-testid=lobby-admit]`)
	guest.waitVisible(`[data-testid=meeting]`, joinTimeout)
	t.Logf("admit click to the guest's meeting on screen: %v", time.Since(clicked))
	gid := guest.identity()
	owner.waitJS("the owner sees the admitted guest", fmt.Sprintf(`!!document.querySelector('[data-testid=tile][data-identity=%q]')`, gid), connectTimeout)
	owner.waitJS("the waiting list is gone", `!document.querySelector('[data-testid=lobby-list]')`, 10*time.Second)
	dash.waitJS("the dashboard's waiting list is gone", `!document.querySelector('[data-testid=lobby-list]')`, 10*time.Second)
	guest.screenshot("admitted")

	knock(pest, "Pat Pest")
	owner.click(`[data-testid=lobby-entry][data-name="Pat Pest"] [data-testid=lobby-deny]`)
	pest.waitVisible(`[data-testid=lobby-closed][data-status=denied]`, 10*time.Second)
	if msg := pest.evalString(`document.querySelector('[data-testid=lobby-message]').textContent`); !strings.Contains(msg, "declined") {
		t.Fatalf("denied guest reads %q", msg)
	}
	pest.screenshot("denied")
}
