package auth_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/testenv"
)

// The callback is never served here: the provider's redirect to it is where the test's
// browser stops and reads the code.
const ssoPublicURL = "http://127.0.0.1:9"

type ssoEnv struct {
	svc    *auth.Service
	sso    *auth.SSO
	issuer string
}

func newSSO(t *testing.T, cfg ...func(*auth.OIDCProvider)) ssoEnv {
	t.Helper()
	return newSSOWith(t, func(*auth.Config) {}, cfg...)
}

// newSSOWith is newSSO on an auth service configured by authCfg.
func newSSOWith(t *testing.T, authCfg func(*auth.Config), cfg ...func(*auth.OIDCProvider)) ssoEnv {
	t.Helper()
	issuer := testenv.StartOIDCServer(t, ssoPublicURL, "test")
	svc := authtest.Service(t, dbtest.SQLite(t, auth.Migrations()), nil, authCfg)
	p := auth.OIDCProvider{Name: "test", DisplayName: "Test IdP", Issuer: issuer, ClientID: testenv.OIDCClientID,
		ClientSecret: testenv.OIDCClientSecret, Scopes: []string{"openid", "email", "profile"},
		NameClaim: "name", EmailClaim: "email", GroupsClaim: "groups", AdminGroup: testenv.OIDCAdminGroup, CreateUsers: true}
	for _, f := range cfg {
		f(&p)
	}
	return ssoEnv{svc: svc, sso: auth.NewSSO(svc, []auth.OIDCProvider{p}, ssoPublicURL, nil), issuer: issuer}
}

// signInAt plays the browser at the provider: it opens the authorization URL (edited by
// edit, when not nil), fills in the provider's login form and returns the callback's query.
func (e ssoEnv) signInAt(t *testing.T, authURL, username string, edit func(url.Values)) url.Values {
	t.Helper()
	if edit != nil {
		u, _ := url.Parse(authURL)
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), ssoPublicURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("the provider did not show its login page: %s %s", resp.Status, resp.Request.URL)
	}
	resp, err = client.PostForm(e.issuer+"login/username", url.Values{"id": {id}, "username": {username}, "password": {testenv.OIDCPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), ssoPublicURL) {
		t.Fatalf("the provider did not redirect back: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// signIn runs a whole sign-in for username and returns Finish's answer.
func (e ssoEnv) signIn(t *testing.T, username string) (string, error) {
	t.Helper()
	authURL, state, err := e.sso.Begin(ctx, "test")
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	q := e.signInAt(t, authURL, username, nil)
	return e.sso.Finish(ctx, auth.Callback{Provider: "test", State: q.Get("state"), BrowserState: state, Code: q.Get("code")})
}

func (e ssoEnv) grant(t *testing.T, username string) auth.Grant {
	t.Helper()
	code, err := e.signIn(t, username)
	if err != nil {
		t.Fatalf("sign in %s: %v", username, err)
	}
	g, err := e.sso.Exchange(ctx, code, auth.Client{IP: "192.0.2.7"})
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return g
}

func TestSSOFirstSignInCreatesMappedUser(t *testing.T) {
	e := newSSO(t)
	ada := e.grant(t, "ada")
	if ada.User.Name != "Ada Lovelace" || ada.User.Email != "ada@example.test" || ada.User.Role != auth.RoleAdmin {
		t.Errorf("ada = %+v, want Ada Lovelace, ada@example.test, admin (group %s)", ada.User, testenv.OIDCAdminGroup)
	}
	bob := e.grant(t, "bob")
	if bob.User.Name != "Bob Builder" || bob.User.Role != auth.RoleUser {
		t.Errorf("bob = %+v, want Bob Builder, user", bob.User)
	}
	// The next sign-in finds the same account by the provider's subject.
	if again := e.grant(t, "bob"); again.User.ID != bob.User.ID {
		t.Errorf("second sign-in made account %s, want %s", again.User.ID, bob.User.ID)
	}
	// Its sessions are ordinary ones: they rotate, and disabling the account ends them.
	next, err := e.svc.Refresh(ctx, bob.RefreshToken, "", auth.Client{IP: "192.0.2.7"})
	if err != nil {
		t.Fatalf("refresh a single sign-on session: %v", err)
	}
	disabled := true
	if _, err := e.svc.UpdateUser(ctx, bob.User.ID, auth.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, next.AccessToken); !errors.Is(err, auth.ErrUserDisabled) && !errors.Is(err, auth.ErrSessionRevoked) {
		t.Errorf("access after disabling = %v, want refused", err)
	}
	if _, err := e.signIn(t, "bob"); !errors.Is(err, auth.ErrUserDisabled) {
		t.Errorf("sign-in of a disabled account = %v, want ErrUserDisabled", err)
	}
}

func TestSSOProviderLogoutURL(t *testing.T) {
	e := newSSO(t)
	g := e.grant(t, "ada")
	p, err := e.svc.Authenticate(ctx, g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.sso.LogoutURL(ctx, p)
	if err != nil || !strings.HasPrefix(u, e.issuer+"end_session?") || !strings.Contains(u, "id_token_hint=") {
		t.Errorf("logout URL = %q, %v; want the provider's end_session_endpoint with id_token_hint", u, err)
	}
	pw := authtest.User(t, e.svc, "local@example.test", false)
	lp, _ := e.svc.Authenticate(ctx, pw.AccessToken)
	if u, err := e.sso.LogoutURL(ctx, lp); u != "" || err != nil {
		t.Errorf("password session's logout URL = %q, %v; want none", u, err)
	}
}

func TestSSOOneTimeCode(t *testing.T) {
	e := newSSO(t)
	code, err := e.signIn(t, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sso.Exchange(ctx, code, auth.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sso.Exchange(ctx, code, auth.Client{}); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("second exchange = %v, want ErrInvalidToken", err)
	}
}

func TestSSORefusesWrongStateOrNonce(t *testing.T) {
	e := newSSO(t)
	for _, tc := range []struct {
		name string
		edit func(q url.Values) // on the URL sent to the provider
		cb   func(cb *auth.Callback, state string)
		want error
	}{
		{name: "state of another browser", cb: func(cb *auth.Callback, _ string) { cb.BrowserState = "someone-else" }, want: auth.ErrOIDCState},
		{name: "forged state", cb: func(cb *auth.Callback, _ string) { cb.State, cb.BrowserState = "forged", "forged" }, want: auth.ErrOIDCState},
		{name: "nonce changed on the way", edit: func(q url.Values) { q.Set("nonce", "attacker-nonce") }, want: auth.ErrOIDCNonce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authURL, state, err := e.sso.Begin(ctx, "test")
			if err != nil {
				t.Fatal(err)
			}
			q := e.signInAt(t, authURL, "bob", tc.edit)
			cb := auth.Callback{Provider: "test", State: q.Get("state"), BrowserState: state, Code: q.Get("code")}
			if tc.cb != nil {
				tc.cb(&cb, state)
			}
			if _, err := e.sso.Finish(ctx, cb); !errors.Is(err, tc.want) {
				t.Errorf("finish = %v, want %v", err, tc.want)
			}
		})
	}
	// A state is used up by its callback: replaying the same callback is refused.
	authURL, state, _ := e.sso.Begin(ctx, "test")
	q := e.signInAt(t, authURL, "bob", nil)
	cb := auth.Callback{Provider: "test", State: q.Get("state"), BrowserState: state, Code: q.Get("code")}
	if _, err := e.sso.Finish(ctx, cb); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sso.Finish(ctx, cb); !errors.Is(err, auth.ErrOIDCState) {
		t.Errorf("replayed callback = %v, want ErrOIDCState", err)
	}
}

func TestSSOLinksOnlyVerifiedEmail(t *testing.T) {
	e := newSSO(t)
	// An existing password account with the provider's verified address is linked.
	local := authtest.User(t, e.svc, "bob@example.test", false)
	if g := e.grant(t, "bob"); g.User.ID != local.User.ID {
		t.Errorf("bob signed in as %s, want the existing account %s", g.User.ID, local.User.ID)
	}
	// An unverified address neither links nor creates an account.
	authtest.User(t, e.svc, "eve@example.test", false)
	if _, err := e.signIn(t, "eve"); !errors.Is(err, auth.ErrEmailNotVerified) {
		t.Errorf("unverified e-mail = %v, want ErrEmailNotVerified", err)
	}
}

// An account registered while mail is on, whose owner never opened the verification link,
// is not linked by e-mail: whoever registered the address never proved it theirs.
func TestSSOLinksOnlyVerifiedAccounts(t *testing.T) {
	e := newSSOWith(t, func(c *auth.Config) { c.VerifyEmail = true })
	if _, err := e.svc.Register(ctx, auth.Registration{Email: "bob@example.test", Password: "squatting the address", Name: "Not Bob"},
		auth.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signIn(t, "bob"); !errors.Is(err, auth.ErrAccountUnverified) {
		t.Errorf("provider sign-in onto an unverified account = %v, want ErrAccountUnverified", err)
	}
}

func TestSSOWithoutAccountCreation(t *testing.T) {
	e := newSSO(t, func(p *auth.OIDCProvider) { p.CreateUsers = false })
	if _, err := e.signIn(t, "bob"); !errors.Is(err, auth.ErrNoAccount) {
		t.Errorf("unknown user = %v, want ErrNoAccount", err)
	}
}
