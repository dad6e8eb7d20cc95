package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/parley/parley/internal/testenv"
)

// addVirtualAuthenticator gives the page's tab a platform authenticator through DevTools
// (WebAuthn.enable + WebAuthn.addVirtualAuthenticator): CTAP2, internal transport, resident
// keys and user verification that succeeds, so passkeys work without a person.
func (p *page) addVirtualAuthenticator() webauthn.AuthenticatorID {
	p.t.Helper()
	var id webauthn.AuthenticatorID
	p.do("add a virtual authenticator", 10*time.Second, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		id = res.AuthenticatorID
		return chromedp.Void{}, err
	})
	return id
}

// authenticatorCredentials is what the virtual authenticator holds.
func (p *page) authenticatorCredentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	p.t.Helper()
	var out []*webauthn.Credential
	p.do("read the authenticator's credentials", 10*time.Second, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		out = res.Credentials
		return chromedp.Void{}, err
	})
	return out
}

// signOut clicks the header's "Sign out" and waits for the sign-in page.
func (p *page) signOut() {
	p.t.Helper()
	p.eval(`[...document.querySelectorAll('header .who button')].at(-1).click(), true`)
	p.waitJS("signed out", `!document.querySelector('[data-testid=signed-in-as]')`, connectTimeout)
	p.navigate("/login")
}

// Chromium registers a passkey on the profile page with a virtual authenticator, signs out
// and signs in with it from the login page without typing anything; once the passkey is
// removed on the profile page, the same authenticator is refused. Parley's public URL is
// http://localhost: browsers allow WebAuthn on localhost without TLS, never on an IP address.
func TestPasskeySignIn(t *testing.T) {
	port := testenv.FreePort(t)
	s := startParleyWith(t, launch{port: port, url: fmt.Sprintf("http://localhost:%d", port)})
	p := newPage(t, newBrowser(t), s, "pat")
	auth := p.addVirtualAuthenticator()
	p.register("Pat Key", uniq("pat")+"@example.com")

	p.navigate("/profile")
	p.waitVisible(`[data-testid=passkey-form]`, connectTimeout)
	p.fill(`[data-testid=passkey-form] input[name=passkeyName]`, "Test laptop")
	p.click(`[data-testid=passkey-add]`)
	p.waitVisible(`[data-testid=passkey-added]`, connectTimeout)
	p.waitJS("the passkey listed", `[...document.querySelectorAll('[data-testid=passkey-row]')].some((r) => r.textContent.includes('Test laptop'))`, connectTimeout)
	p.screenshot("passkey-added")
	creds := p.authenticatorCredentials(auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %d credentials (want 1 discoverable): %+v", len(creds), creds)
	}

	p.signOut()
	p.click(`[data-testid=passkey-login]`)
	p.waitVisible(`[data-testid=new-room]`, connectTimeout)
	if name := p.evalString(`document.querySelector('[data-testid=signed-in-as]').textContent`); name != "Pat Key" {
		t.Fatalf("signed in with the passkey as %q, want Pat Key", name)
	}
	p.screenshot("passkey-signed-in")
	token := p.accessToken()
	if code := status(t, s, "GET", "/api/auth/me", token); code != 200 {
		t.Fatalf("the passkey session's token answers %d on /api/auth/me", code)
	}

	p.navigate("/profile")
	p.waitJS("the passkey's last use", `[...document.querySelectorAll('[data-testid=passkey-row]')].some((r) => r.textContent.includes('last used'))`, connectTimeout)
	p.click(`[data-testid=passkey-remove]`)
	p.click(`[data-testid=passkey-remove-confirm]`)
	p.waitJS("the passkey gone", `document.querySelectorAll('[data-testid=passkey-row]').length === 0`, connectTimeout)

	p.signOut()
	p.click(`[data-testid=passkey-login]`)
	p.waitVisible(`[data-testid=auth-error]`, connectTimeout)
	if txt := p.evalString(`document.querySelector('[data-testid=auth-error]').textContent`); !strings.Contains(txt, "not accepted") {
		t.Errorf("a removed passkey's sign-in shows %q, want it refused", txt)
	}
	if p.tryJS(`!!document.querySelector('[data-testid=new-room]')`, time.Second) {
		t.Error("a removed passkey signed in")
	}
	p.screenshot("passkey-refused")
}
