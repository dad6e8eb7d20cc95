package browser

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/internal/testenv"
)

// Chromium resets a forgotten password with the link a real SMTP server (mailpit) received:
// the link works once, and the sessions from before are signed out.
func TestPasswordResetByMail(t *testing.T) {
	pit := testenv.StartMailpit(t)
	s := startParleyWith(t, launch{env: []string{"PARLEY_SMTP_HOST=127.0.0.1", fmt.Sprintf("PARLEY_SMTP_PORT=%d", pit.SMTPPort),
		"PARLEY_SMTP_FROM=Parley <noreply@parley.test>", "PARLEY_SMTP_SECURITY=none"}})
	email := uniq("reset") + "@example.test"
	oldToken := s.registerAPI(t, email, "Forgetful")

	p := newPage(t, newBrowser(t), s, "forgetful")
	p.click(`[data-testid=forgot-link]`)
	p.fill(`[data-testid=forgot-form] input[name=email]`, email)
	p.click(`[data-testid=forgot-submit]`)
	p.waitVisible(`[data-testid=forgot-sent]`, connectTimeout)
	p.screenshot("forgot-sent")

	msg := pit.WaitMessages(t, email, 1)[0]
	link := regexp.MustCompile(regexp.QuoteMeta(s.URL) + `/reset\?token=[A-Za-z0-9_%-]+`).FindString(msg.Text)
	if link == "" {
		t.Fatalf("the reset mail has no link to %s:\n%s", s.URL, msg.Text)
	}
	path := strings.TrimPrefix(link, s.URL)
	p.navigate(path)
	p.fill(`[data-testid=reset-form] input[name=password]`, "a new passphrase")
	p.click(`[data-testid=reset-submit]`)
	p.waitVisible(`[data-testid=reset-done]`, connectTimeout)
	p.screenshot("reset-done")
	if code := status(t, s, "GET", "/api/auth/me", oldToken); code != http.StatusUnauthorized {
		t.Errorf("the session from before the reset answers %d, want 401", code)
	}

	// The link works once.
	p.navigate(path)
	p.fill(`[data-testid=reset-form] input[name=password]`, "another passphrase")
	p.click(`[data-testid=reset-submit]`)
	p.waitVisible(`[data-testid=reset-error]`, connectTimeout)
	if txt := p.text(); !strings.Contains(txt, "already used") {
		t.Errorf("second use shows %q, want the link refused", txt)
	}
	p.login(email, "a new passphrase")
}
