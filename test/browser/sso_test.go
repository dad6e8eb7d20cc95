package browser

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// ssoConfig is Parley's config.yaml for one provider at issuer, password sign-in off.
func ssoConfig(issuer string) string {
	return fmt.Sprintf(`auth:
  passwordLogin: false
  oidc:
    - name: corp
      displayName: "Corp Login"
      issuer: %q
      clientID: %q
      clientSecret: %q
      adminGroup: %q
`, issuer, testenv.OIDCClientID, testenv.OIDCClientSecret, testenv.OIDCAdminGroup)
}

// signInWithProvider clicks "Sign in with Corp Login" and fills in the provider's own form.
func (p *page) signInWithProvider(username string) {
	p.t.Helper()
	p.click(`[data-testid=sso-corp]`)
	p.fill(`input#username`, username)
	p.fill(`input#password`, testenv.OIDCPassword)
	p.screenshot("provider-login-" + username)
	p.click(`button[type=submit]`)
	p.waitVisible(`[data-testid=new-room]`, connectTimeout)
}

func (p *page) accessToken() string {
	p.t.Helper()
	return p.evalString(`JSON.parse(localStorage.getItem('parley.tokens') || '{}').accessToken || ''`)
}

// Chromium signs in through a real OpenID provider (tools/oidcserver): the first sign-in
// creates the account with the provider's name and e-mail, the admin group makes an admin,
// signing out ends the provider's session too, a forged callback is refused, and password
// sign-in is off.
func TestSingleSignOn(t *testing.T) {
	port := testenv.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	issuer := testenv.StartOIDCServer(t, url, "corp")
	s := startParleyWith(t, launch{port: port, url: url, config: ssoConfig(issuer)})
	browser := newBrowser(t)

	ada := newPage(t, browser, s, "ada")
	ada.waitVisible(`[data-testid=sso-corp]`, connectTimeout)
	if txt := ada.text(); !strings.Contains(txt, "Sign in with Corp Login") {
		t.Errorf("login page: %q, want a \"Sign in with Corp Login\" button", txt)
	}
	if ada.tryJS(`document.querySelector('[data-testid=login-form]') !== null`, time.Second) {
		t.Error("the password form is shown although auth.passwordLogin is false")
	}
	ada.screenshot("login-page")
	ada.signInWithProvider("ada")
	ada.screenshot("signed-in")

	var me struct {
		Name, Email, Role string
	}
	s.call(t, "GET", "/api/auth/me", ada.accessToken(), nil, &me)
	if me.Name != "Ada Lovelace" || me.Email != "ada@example.test" || me.Role != "admin" {
		t.Errorf("ada = %+v, want Ada Lovelace <ada@example.test>, admin (provider group %s)", me, testenv.OIDCAdminGroup)
	}
	if got := ada.evalString(`document.querySelector('[data-testid=signed-in-as]').textContent`); got != "Ada Lovelace" {
		t.Errorf("signed in as %q, want Ada Lovelace", got)
	}

	// Signing out goes through the provider's end_session endpoint and back to /login.
	token := ada.accessToken()
	ada.eval(`Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Sign out').click()`)
	ada.waitAcrossNavigations("back on the login page after the provider's logout",
		fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('[data-testid=sso-corp]')`, url+"/login"))
	if code := status(t, s, "GET", "/api/auth/me", token); code != http.StatusUnauthorized {
		t.Errorf("the signed-out session answers %d, want 401", code)
	}

	bob := newPage(t, browser, s, "bob")
	bob.waitVisible(`[data-testid=sso-corp]`, connectTimeout)
	bob.signInWithProvider("bob")
	s.call(t, "GET", "/api/auth/me", bob.accessToken(), nil, &me)
	if me.Name != "Bob Builder" || me.Role != "user" {
		t.Errorf("bob = %+v, want Bob Builder, user", me)
	}

	// A callback this browser did not start is refused with a clear answer.
	bob.navigate("/api/auth/oidc/corp/callback?state=forged&code=whatever")
	if txt := bob.text(); !strings.Contains(txt, "invalid_state") {
		t.Errorf("forged callback shows %q, want invalid_state", txt)
	}
	if code := status(t, s, "POST", "/api/auth/login", ""); code != http.StatusForbidden {
		t.Errorf("password login answers %d, want 403 password_login_disabled", code)
	}
}

// waitAcrossNavigations polls expr while the page goes through redirects (a poll that a
// navigation interrupts is tried again) until it is truthy or connectTimeout passes.
func (p *page) waitAcrossNavigations(what, expr string) {
	p.t.Helper()
	for deadline := time.Now().Add(connectTimeout); time.Now().Before(deadline); {
		if p.tryJS(expr, 2*time.Second) {
			return
		}
	}
	p.screenshot("FAILED-" + what)
	p.t.Fatalf("%s: %s: not within %s; page text: %s", p.name, what, connectTimeout, p.text())
}

// status sends a request without a body check and returns the status code.
func status(t *testing.T, s *server, method, path, token string) int {
	t.Helper()
	body := strings.NewReader(`{"email":"admin@example.test","password":"whatever-123"}`)
	req, _ := http.NewRequest(method, s.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
