package browser

import "testing"

// Chromium changes the signed-in person's display name on the profile page: a blank name is
// refused with the server's message and changes nothing, a good one is trimmed, shown at once
// and still there after a reload.
func TestProfileRename(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	u := newPage(t, browser, s, "user")
	u.register("Rita Before", uniq("rita")+"@example.com")
	u.navigate("/profile")
	u.waitVisible(`[data-testid=name-form]`, connectTimeout)
	rename := func(name string) {
		u.t.Helper()
		// Empties the field the way React sees it (its own value setter, then an input event).
		u.eval(`(() => { const el = document.querySelector('[data-testid=name-form] input[name=name]');
			Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, '');
			el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
		u.fill(`[data-testid=name-form] input[name=name]`, name)
		u.click(`[data-testid=name-submit]`)
	}
	rename("   ")
	u.waitVisible(`[data-testid=name-error]`, connectTimeout)
	if got := u.evalString(`document.querySelector('[data-testid=profile-name]').textContent`); got != "Rita Before" {
		t.Fatalf("a refused name changed the profile to %q", got)
	}
	rename("  Rita After  ")
	u.waitJS("the new name on the profile", `document.querySelector('[data-testid=profile-name]')?.textContent === 'Rita After'`, connectTimeout)
	u.waitVisible(`[data-testid=name-changed]`, connectTimeout)
	u.screenshot("renamed")
	u.navigate("/profile")
	u.waitJS("the new name after a reload", `document.querySelector('[data-testid=profile-name]')?.textContent === 'Rita After'`, connectTimeout)
}
