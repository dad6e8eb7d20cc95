package browser

import (
	"testing"
	"time"
)

// TestAdminDoctorTable: the dashboard runs `parley doctor`'s checks against the real Parley
// and LiveKit it is served by and shows one row per check with its verdict.
func TestAdminDoctorTable(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	admin := newPage(t, browser, s, "admin")
	admin.login(adminEmail, adminPassword)
	admin.navigate("/admin")
	admin.clickSettled(`[data-testid=doctor-run]`)
	admin.waitJS("the checks' table", `document.querySelectorAll('[data-testid=doctor-row]').length >= 10`, 60*time.Second)
	admin.screenshot("doctor-table")
	for _, check := range []string{"LiveKit API", "LiveKit signalling", "webhooks", "port server.listen"} {
		if got := admin.evalString(`document.querySelector('[data-testid=doctor-row][data-check="` + check + `"]')?.dataset.status ?? 'missing'`); got != "PASS" {
			t.Errorf("%s: %s on the dashboard:\n%s", check, got, admin.text())
		}
	}
}
