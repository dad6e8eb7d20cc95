package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminKeysAndAudit: an admin creates an API key on the dashboard, sees its secret once,
// the key works on the API, the dashboard shows its last use, revocation refuses it, and
// the audit log on the same page lists what happened.
func TestAdminKeysAndAudit(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	admin := newPage(t, browser, s, "admin")
	admin.login(adminEmail, adminPassword)
	admin.navigate("/admin")
	admin.fill(`[data-testid=key-name]`, "crm")
	admin.clickSettled(`[data-testid=key-create]`)
	admin.waitVisible(`[data-testid=key-secret] code`, 10*time.Second)
	secret := admin.evalString(`document.querySelector('[data-testid=key-secret] code').textContent`)
	if !strings.HasPrefix(secret, "pk_") {
		t.Fatalf("the dashboard showed %q as the new key", secret)
	}
	admin.screenshot("key-created")
	status := func() int {
		req, _ := http.NewRequest("GET", s.URL+"/api/rooms", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status(); got != 200 {
		t.Fatalf("GET /api/rooms with the new key: %d, want 200", got)
	}
	admin.navigate("/admin") // a fresh list: the secret is gone, the last use is there
	admin.waitJS("the key's row with its last use", `[...document.querySelectorAll('[data-testid=key-row]')].some(r => r.textContent.includes('crm') && r.querySelector('[data-testid=key-last-used]').textContent !== 'never')`, 10*time.Second)
	if strings.Contains(admin.text(), secret) {
		t.Error("the secret is still on the page after a reload")
	}
	admin.click(`[data-testid=key-revoke]`)
	admin.click(`[data-testid=key-revoke-confirm]`)
	admin.waitJS("the key shown revoked", `[...document.querySelectorAll('[data-testid=key-row]')].some(r => r.textContent.includes('revoked'))`, 10*time.Second)
	if got := status(); got != 401 {
		t.Errorf("GET /api/rooms with the revoked key: %d, want 401", got)
	}
	admin.fill(`[data-testid=audit-action]`, "apikey.revoke")
	admin.click(`[data-testid=audit-filter]`)
	admin.waitJS("the revocation in the audit log", `[...document.querySelectorAll('[data-testid=audit-row]')].length === 1 && document.querySelector('[data-testid=audit-row]').textContent.includes('apikey.revoke')`, 10*time.Second)
	admin.fullScreenshot("audit-log")
}
