package browser

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/internal/testenv"
)

// mailLink finds the link to page (/verify, /reset) of s in a mail's text.
func mailLink(t *testing.T, s *server, page, text string) string {
	t.Helper()
	link := regexp.MustCompile(regexp.QuoteMeta(s.URL+page) + `\?token=[A-Za-z0-9_%-]+`).FindString(text)
	if link == "" {
		t.Fatalf("the mail has no link to %s%s:\n%s", s.URL, page, text)
	}
	return strings.TrimPrefix(link, s.URL)
}

// With a mail server, a new account is asked to confirm its address: registration mails a
// link (to a real SMTP server, mailpit), the banner shows until the link is used, the link
// works once; and an administrator invites someone from the Users page, whose invitation
// arrives with its link.
func TestEmailVerificationAndInviteByMail(t *testing.T) {
	pit := testenv.StartMailpit(t)
	s := startParleyWith(t, launch{env: []string{"PARLEY_SMTP_HOST=127.0.0.1", fmt.Sprintf("PARLEY_SMTP_PORT=%d", pit.SMTPPort),
		"PARLEY_SMTP_FROM=Parley <noreply@parley.test>", "PARLEY_SMTP_SECURITY=none"}})
	p := newPage(t, newBrowser(t), s, "vera")
	email := uniq("vera") + "@example.test"
	p.register("Vera Fied", email)
	p.waitVisible(`[data-testid=verify-banner]`, connectTimeout)
	p.screenshot("unverified-banner")

	msg := pit.WaitMessages(t, email, 1)[0]
	if !strings.Contains(msg.Subject, "Confirm") {
		t.Errorf("verification mail subject %q", msg.Subject)
	}
	path := mailLink(t, s, "/verify", msg.Text)
	p.navigate(path)
	p.click(`[data-testid=verify-submit]`)
	p.waitVisible(`[data-testid=verify-done]`, connectTimeout)
	p.navigate("/")
	p.waitVisible(`[data-testid=new-room]`, connectTimeout)
	p.waitJS("the banner gone", `!document.querySelector('[data-testid=verify-banner]')`, connectTimeout)

	// The link works once.
	p.navigate(path)
	p.click(`[data-testid=verify-submit]`)
	p.waitVisible(`[data-testid=verify-error]`, connectTimeout)
	if txt := p.evalString(`document.querySelector('[data-testid=verify-error]').textContent`); !strings.Contains(txt, "already used") {
		t.Errorf("second use shows %q, want the link refused", txt)
	}

	// An administrator invites someone from the dashboard.
	p.signOut()
	p.login(adminEmail, adminPassword)
	p.navigate("/admin")
	p.clickSettled(`[data-testid=invite-open]`)
	invitee := uniq("ivan") + "@example.test"
	p.fill(`[data-testid=invite-form] input[name=email]`, invitee)
	p.fill(`[data-testid=invite-form] input[name=name]`, "Ivan Vited")
	p.eval(`(() => { const el = document.querySelector('[data-testid=invite-form] select[name=role]');
		Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, 'admin');
		el.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	p.click(`[data-testid=invite-submit]`)
	p.waitVisible(`[data-testid=invite-sent]`, connectTimeout)
	p.waitJS("the invitee listed", fmt.Sprintf(`[...document.querySelectorAll('[data-testid=user-row]')].some((r) => r.textContent.includes(%q))`, invitee), connectTimeout)
	p.screenshot("invited")
	inv := pit.WaitMessages(t, invitee, 1)[0]
	reset := mailLink(t, s, "/reset", inv.Text)
	p.signOut()
	p.navigate(reset)
	p.fill(`[data-testid=reset-form] input[name=password]`, "invited passphrase")
	p.click(`[data-testid=reset-submit]`)
	p.waitVisible(`[data-testid=reset-done]`, connectTimeout)
	p.login(invitee, "invited passphrase")
	p.waitVisible(`[data-testid=nav-admin]`, connectTimeout) // invited as an administrator
	if p.tryJS(`!!document.querySelector('[data-testid=verify-banner]')`, 0) {
		t.Error("an invited account is asked to verify its address")
	}
}
