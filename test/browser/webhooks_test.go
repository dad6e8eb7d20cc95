package browser

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/outbox"
)

// TestAdminWebhooks: an admin registers an endpoint on the dashboard, sends it a test event
// that arrives signed with the secret the page showed once, sees the delivery in the log,
// and opens the API reference rendered from /api/openapi.json.
func TestAdminWebhooks(t *testing.T) {
	var mu sync.Mutex
	type hit struct{ id, ts, sig string }
	var hits []hit
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")})
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	browser := newBrowser(t)
	s := startParley(t)
	admin := newPage(t, browser, s, "admin")
	admin.login(adminEmail, adminPassword)
	admin.navigate("/admin")
	admin.fill(`[data-testid=webhook-url]`, rcv.URL+"/parley")
	admin.clickSettled(`[data-testid=webhook-add]`)
	admin.waitVisible(`[data-testid=webhook-secret] code`, 10*time.Second)
	secret := admin.evalString(`document.querySelector('[data-testid=webhook-secret] code').textContent`)
	admin.click(`[data-testid=webhook] button[aria-expanded]`)
	admin.click(`[data-testid=webhook-test]`)
	admin.waitJS("the test delivery in the log", `document.querySelectorAll('[data-testid=delivery]').length === 1`, 10*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test event did not reach the receiver within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	h, body := hits[0], bodies[0]
	mu.Unlock()
	if err := outbox.Verify(secret, h.id, h.ts, h.sig, body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("test event signed with the secret the page showed: %v", err)
	}
	admin.waitJS("the delivery shown delivered", `(document.querySelector('[data-testid=webhook-deliveries] button:nth-of-type(2)')?.click(), document.querySelector('[data-testid=delivery]')?.dataset.status === 'delivered')`, 10*time.Second)
	admin.screenshot("webhooks")
	admin.click(`[data-testid=api-reference-link]`)
	admin.waitJS("the rendered API reference", `document.querySelectorAll('[data-testid=api-op]').length >= 40`, 10*time.Second)
	admin.screenshot("api-reference")
	admin.checkA11y("api-reference", axeSource(t))
	admin.noConsoleErrors("webhooks and API reference")
}
