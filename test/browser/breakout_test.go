package browser

import (
	"testing"
	"time"
)

// TestBreakoutMovesGuest: the owner opens one breakout room from the meeting; the guest's
// page moves into it on its own (the badge shows the room), the owner visits it, then calls
// everyone back and the guest's page is in the main room again, with no click of the guest's.
func TestBreakoutMovesGuest(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	owner := newPage(t, browser, s, "owner")
	guest := newPage(t, browser, s, "guest")
	owner.register("Bea Host", uniq("bea")+"@example.com")
	room := owner.createRoom("Workshop "+uniq(""), true, true)
	owner.joinWith(room, "", false)
	guest.joinWith(room, "Gus Guest", false)
	gid := guest.identity()

	owner.click(`[data-testid=breakout-open]`)
	owner.fill(`[data-testid=breakout-rooms]`, "1")
	owner.click(`[data-testid=breakout-start]`)
	guest.waitVisible(`[data-testid=meeting] [data-testid=breakout-badge][data-room="1"]`, joinTimeout)
	guest.screenshot("in-breakout")
	owner.waitVisible(`[data-testid=breakout-room][data-room="1"] [data-testid=breakout-visit]`, 10*time.Second)
	owner.click(`[data-testid=breakout-visit]`)
	owner.waitVisible(`[data-testid=meeting] [data-testid=breakout-badge][data-room="1"]`, joinTimeout)
	owner.waitVisible(`[data-testid=tile][data-identity="`+gid+`"]`, connectTimeout)
	owner.screenshot("visiting")
	owner.click(`[data-testid=breakout-end]`)
	guest.waitJS("the guest is back in the main room", `!!document.querySelector('[data-testid=meeting]') && !document.querySelector('[data-testid=breakout-badge]')`, joinTimeout)
	owner.waitJS("the owner is back in the main room", `!!document.querySelector('[data-testid=meeting]') && !document.querySelector('[data-testid=breakout-badge]')`, joinTimeout)
	owner.waitVisible(`[data-testid=tile][data-identity="`+gid+`"]`, connectTimeout)
	guest.screenshot("back")
}
