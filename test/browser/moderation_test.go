package browser

import (
	"fmt"
	"testing"
	"time"
)

// TestOwnerModeratesInMeeting: chat and raise hand reach the other side; the owner locks the
// room (a newcomer is refused with the lock message), then removes a participant from the
// participant list, then ends the meeting for everyone.
func TestOwnerModeratesInMeeting(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	owner := newPage(t, browser, s, "owner")
	guest := newPage(t, browser, s, "member")
	late := newPage(t, browser, s, "late")
	owner.register("Olive Owner", uniq("olive")+"@example.com")
	guest.register("Max Member", uniq("max")+"@example.com")
	late.register("Lou Late", uniq("lou")+"@example.com")

	room := owner.createRoom("Review "+uniq(""), true, false)
	owner.join(room, "")
	guest.join(room, "")
	memberID := guest.identity()
	owner.waitRemoteVideoPlaying(memberID)

	// Chat and raise hand travel as data messages.
	guest.click(`[data-testid=toggle-chat]`)
	guest.fill(`[data-testid=chat-input]`, "hello owner")
	guest.click(`[data-testid=chat-send]`)
	guest.click(`[data-testid=toggle-hand]`)
	owner.waitJS("owner sees the raised hand", fmt.Sprintf(
		`(document.querySelector('[data-testid=tile][data-identity=%q]')?.textContent || '').includes('Hand raised')`, memberID), 10*time.Second)
	owner.waitJS("owner's chat button counts the unread message", `(document.querySelector('[data-testid=toggle-chat]')?.textContent || '').includes('1 unread')`, 10*time.Second)
	owner.click(`[data-testid=toggle-chat]`)
	owner.waitJS("owner reads the message", `[...document.querySelectorAll('[data-testid=chat-message]')].some(m => m.textContent.includes('hello owner'))`, 10*time.Second)
	owner.screenshot("chat-and-hand")

	// Recording: the owner starts it and everyone sees the indicator; then it stops.
	owner.click(`[data-testid=recording-toggle]`)
	owner.waitJS("owner sees the recording indicator", `!!document.querySelector('[data-testid=recording-indicator]')`, 15*time.Second)
	guest.waitJS("member sees the recording indicator", `!!document.querySelector('[data-testid=recording-indicator]')`, 15*time.Second)
	guest.screenshot("recording-indicator")
	// A few seconds of media in the file: the owner's copy of the member's video moves on 3 s.
	memberVideo := fmt.Sprintf(`document.querySelector('[data-testid=tile][data-identity=%q] video')`, memberID)
	recordedFrom, _ := owner.eval(memberVideo + `.currentTime`).(float64)
	owner.waitJS("3 s of media recorded", fmt.Sprintf(`%s.currentTime > %f`, memberVideo, recordedFrom+3), 30*time.Second)
	owner.click(`[data-testid=recording-toggle]`)
	owner.waitJS("recording stopped", `document.querySelector('[data-testid=recording-toggle]')?.getAttribute('aria-pressed') === 'false' && !document.querySelector('[data-testid=recording-indicator]')`, 20*time.Second)

	// Lock: a newcomer is refused with the lock message.
	owner.click(`[data-testid=lock-toggle]`)
	owner.waitJS("room shows locked", `document.querySelector('[data-testid=lock-toggle]')?.getAttribute('aria-pressed') === 'true'`, 10*time.Second)
	late.openJoinPage(room)
	late.click(`[data-testid=join-button]`)
	late.waitJS("late joiner refused: room locked", `document.querySelector('[data-testid=join-error]')?.dataset.code === 'room_locked'`, connectTimeout)
	late.screenshot("refused-locked")

	// Remove the member from the participant list.
	owner.click(`[data-testid=toggle-people]`)
	person := fmt.Sprintf(`[data-testid=person][data-identity=%q]`, memberID)
	owner.click(person + ` [data-testid=mod-kick]`)
	owner.click(person + ` [data-testid=mod-kick-confirm]`)
	guest.waitJS("member sees the removal message", `(document.querySelector('[data-testid=disconnect-message]')?.textContent || '').includes('removed from the meeting by a moderator')`, 15*time.Second)
	guest.screenshot("removed-by-owner")

	// End the meeting for everyone.
	owner.click(`[data-testid=end-meeting]`)
	owner.click(`[data-testid=end-meeting-confirm]`)
	owner.waitJS("owner sees the meeting ended", `document.querySelector('[data-testid=meeting-over]')?.dataset.reason === 'ROOM_DELETED'`, 15*time.Second)
	owner.screenshot("ended")

	// The recording is listed, plays in the browser (fetched with the bearer token as a blob).
	owner.navigate("/recordings")
	owner.waitJS("a finished recording is listed", `[...document.querySelectorAll('[data-testid=recording-row]')].some(r => r.textContent.includes('complete'))`, 30*time.Second)
	owner.click(`[data-testid=recording-row] button[aria-label^=Play]`)
	owner.waitJS("the recording plays", `(() => { const v = document.querySelector('[data-testid=recording-player]'); return !!v && v.readyState >= 1 && (v.duration > 0 || v.currentTime > 0); })()`, 20*time.Second)
	owner.screenshot("recording-playing")
	owner.waitJS("the recording shows a picture", `(() => { const v = document.querySelector('[data-testid=recording-player]'); return !!v && v.videoWidth > 0 && v.currentTime > 1; })()`, 20*time.Second)
	owner.eval(`document.querySelector('[data-testid=recording-player]').pause(), true`)
	owner.artifact("recordings", true)
}
