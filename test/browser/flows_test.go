package browser

import (
	"fmt"
	"strings"
	"time"
)

const (
	connectTimeout    = 20 * time.Second
	firstFrameTimeout = 30 * time.Second
	// joinTimeout covers one media connection that does not come up (livekit-client gives up
	// on a peer connection after 15 s, which a busy 2-core machine can reach) and the app's
	// retry with a fresh token.
	joinTimeout = 60 * time.Second
)

// uniq makes names unique per run, so rooms and users never collide with earlier runs.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9)
}

// register signs a new user up through the UI and waits for the room list.
func (p *page) register(name, email string) {
	p.t.Helper()
	p.navigate("/register")
	p.fill(`[data-testid=register-form] input[name=name]`, name)
	p.fill(`[data-testid=register-form] input[name=email]`, email)
	p.fill(`[data-testid=register-form] input[name=password]`, "password-123")
	p.click(`[data-testid=register-submit]`)
	p.waitVisible(`[data-testid=new-room]`, connectTimeout)
	p.screenshot("registered")
}

// login signs in through the UI and waits for the room list.
func (p *page) login(email, password string) {
	p.t.Helper()
	p.navigate("/login")
	p.fill(`[data-testid=login-form] input[name=email]`, email)
	p.fill(`[data-testid=login-form] input[name=password]`, password)
	p.click(`[data-testid=login-submit]`)
	p.waitVisible(`[data-testid=new-room]`, connectTimeout)
	p.screenshot("signed-in")
}

// createRoom fills the create-room form and returns the new room's name from the join page URL.
func (p *page) createRoom(title string, public, allowGuests bool) string {
	p.t.Helper()
	p.click(`[data-testid=new-room]`)
	p.fill(`[data-testid=create-room-form] input[name=title]`, title)
	if public {
		p.click(`[data-testid=create-room-form] input[name=public]`)
	}
	if allowGuests {
		p.click(`[data-testid=create-room-form] input[name=allowGuests]`)
	}
	p.screenshot("create-room")
	p.click(`[data-testid=create-room-submit]`)
	p.waitVisible(`[data-testid=join-button]`, connectTimeout)
	path := p.evalString(`location.pathname`)
	if !strings.HasPrefix(path, "/r/") {
		p.t.Fatalf("%s: after creating a room the page is %s", p.name, path)
	}
	return strings.TrimPrefix(path, "/r/")
}

// join opens the room's join page, waits for the camera preview, joins and waits for the meeting.
func (p *page) join(room, guestName string) { p.t.Helper(); p.joinWith(room, guestName, true) }

// joinWith joins with the camera on or off (a participant that only shares a screen spares
// the machine an encoder).
func (p *page) joinWith(room, guestName string, camera bool) {
	p.t.Helper()
	p.openJoinPage(room)
	if guestName != "" {
		p.fill(`[data-testid=display-name]`, guestName)
	}
	if camera {
		p.waitJS("camera preview", `(() => { const v = document.querySelector('[data-testid=preview-video]'); return v && v.videoWidth > 0; })()`, firstFrameTimeout)
	} else {
		p.click(`[data-testid=preview-camera]`)
		p.waitJS("camera off", `!document.querySelector('[data-testid=preview-camera]').checked`, 10*time.Second)
	}
	p.screenshot("join-page")
	p.click(`[data-testid=join-button]`)
	p.waitJS("connected to the meeting", `!!document.querySelector('[data-testid=meeting]') || !!document.querySelector('[data-testid=meeting-over], [data-testid=join-error]')`, joinTimeout)
	if p.evalString(`!!document.querySelector('[data-testid=meeting]')`) != "true" {
		p.screenshot("join-failed")
		p.t.Fatalf("%s: joining %s failed: %s", p.name, room, p.text())
	}
}

// openJoinPage opens the join page and waits until the room's details are in (they shift the
// layout, and a click during the shift can miss the button).
func (p *page) openJoinPage(room string) {
	p.t.Helper()
	p.navigate("/r/" + room)
	p.waitVisible(`[data-testid=join-form][data-ready=true]`, connectTimeout)
}

// identity is the LiveKit identity the page joined with.
func (p *page) identity() string {
	p.t.Helper()
	return p.evalString(`document.querySelector('[data-testid=meeting]').dataset.identity`)
}

// waitRemoteVideoPlaying waits until the tile of `identity` plays video whose currentTime advances.
func (p *page) waitRemoteVideoPlaying(identity string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[data-testid=tile][data-identity=%q] video`, identity)
	p.waitJS("video of "+identity+" playing", fmt.Sprintf(`(() => { const v = document.querySelector(%q); return !!v && !v.hidden && v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > 0.3; })()`, sel), firstFrameTimeout)
	// Advancing, not just started: frames keep arriving (a frozen track keeps its currentTime).
	t1, _ := p.eval(fmt.Sprintf(`document.querySelector(%q).currentTime`, sel)).(float64)
	p.waitJS("video of "+identity+" advancing", fmt.Sprintf(`document.querySelector(%q)?.currentTime > %f`, sel, t1+0.5), firstFrameTimeout)
	t2, _ := p.eval(fmt.Sprintf(`document.querySelector(%q).currentTime`, sel)).(float64)
	p.t.Logf("%s: video of %s plays (currentTime %.2f -> %.2f)", p.name, identity, t1, t2)
}

// meetTwo registers Alice and Bob, has Alice create a public room titled `title` and both
// join it with camera and microphone, and waits until each sees the other's video. It
// returns the room's name.
func meetTwo(alice, bob *page, title string) string {
	alice.t.Helper()
	alice.register("Alice", uniq("alice")+"@example.com")
	bob.register("Bob", uniq("bob")+"@example.com")
	room := alice.createRoom(title+" "+uniq(""), true, false)
	alice.join(room, "")
	bob.join(room, "")
	alice.waitRemoteVideoPlaying(bob.identity())
	bob.waitRemoteVideoPlaying(alice.identity())
	return room
}
