package browser

import (
	"testing"
	"time"
)

// TestEventStreamClosedWhenRightsChange (issue 15): the server closes an event stream with
// `event: closed` once its caller may no longer follow it. The dashboard of an administrator
// who is demoted stops following it and becomes "for administrators" (the header loses Admin); once its session is
// revoked (a password change elsewhere) or its account disabled, the page goes to sign-in.
func TestEventStreamClosedWhenRightsChange(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	var root authAnswer
	s.call(t, "POST", "/api/auth/login", "", map[string]string{"email": adminEmail, "password": adminPassword}, &root)
	email := uniq("ops") + "@example.com"
	var ops authAnswer
	s.call(t, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": "password-123", "name": "Ops"}, &ops)
	s.call(t, "PATCH", "/api/admin/users/"+ops.User.ID, root.AccessToken, map[string]any{"role": "admin"}, nil)

	p := newPage(t, browser, s, "ops")
	p.login(email, "password-123")
	p.navigate("/admin")
	p.waitJS("live updates", `document.querySelector('[data-testid=events-status]')?.dataset.state === 'live'`, connectTimeout)

	// The stream is checked again at least every heartbeat (15 s).
	s.call(t, "PATCH", "/api/admin/users/"+ops.User.ID, root.AccessToken, map[string]any{"role": "user"}, nil)
	p.waitJS("the page follows the demotion", `!!document.querySelector('[data-testid=admin-only]') && !document.querySelector('[data-testid=nav-admin]') && !document.querySelector('[data-testid=events-status]')`, 40*time.Second)
	p.screenshot("demoted")

	// Restored, the page follows the stream again after a reload.
	s.call(t, "PATCH", "/api/admin/users/"+ops.User.ID, root.AccessToken, map[string]any{"role": "admin"}, nil)
	p.navigate("/admin")
	p.waitJS("live updates again", `document.querySelector('[data-testid=events-status]')?.dataset.state === 'live'`, connectTimeout)

	// A password change elsewhere revokes this session: the stream's probe gets 401, the
	// refresh is refused, and the page goes to sign-in.
	var other authAnswer
	s.call(t, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": "password-123"}, &other)
	s.call(t, "PUT", "/api/auth/password", other.AccessToken, map[string]string{"currentPassword": "password-123", "newPassword": "password-456"}, nil)
	p.waitJS("sent to sign-in after the password change", `location.pathname === '/login'`, 40*time.Second)
	p.screenshot("signed-out-password")

	// Disabling the account revokes every session and refuses its tokens (403): sign-in again.
	p.login(email, "password-456")
	p.navigate("/admin")
	p.waitJS("live updates once more", `document.querySelector('[data-testid=events-status]')?.dataset.state === 'live'`, connectTimeout)
	s.call(t, "PATCH", "/api/admin/users/"+ops.User.ID, root.AccessToken, map[string]any{"disabled": true}, nil)
	p.waitJS("sent to sign-in after the account was disabled", `location.pathname === '/login'`, 40*time.Second)
	p.screenshot("signed-out-disabled")
}
