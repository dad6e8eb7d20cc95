package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
)

// passkeyInstance is one Parley instance's API on the shared database.
type passkeyInstance struct {
	t   *testing.T
	app *fiber.App
	svc *auth.Service
}

func newPasskeyInstance(t *testing.T, dsn string, cfg ...func(*auth.Config)) passkeyInstance {
	t.Helper()
	g, err := db.Open("postgres", dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(g) })
	if _, err := db.Migrate(g, auth.Migrations()); err != nil {
		t.Fatal(err)
	}
	svc := authtest.Service(t, g, nil, cfg...)
	d := testDeps()
	d.Auth, d.SSO, d.Recovery = svc, auth.NewSSO(svc, nil, "http://parley.test", nil), auth.NewRecovery(svc, nil, "http://parley.test")
	if d.Passkeys, err = auth.NewPasskeys(svc, "http://parley.test"); err != nil {
		t.Fatal(err)
	}
	return passkeyInstance{t: t, app: newTestApp(t, d), svc: svc}
}

// call sends a JSON request (the room tests' sender, on this instance's app) and returns
// the status and the raw answer.
func (p passkeyInstance) call(method, path, token string, body any) (int, []byte) {
	p.t.Helper()
	r := (&roomEnv{t: p.t, app: p.app}).call(method, path, body, token)
	return r.status, []byte(r.raw)
}

func (p passkeyInstance) want(status int, method, path, token string, body any) []byte {
	p.t.Helper()
	got, raw := p.call(method, path, token, body)
	if got != status {
		p.t.Fatalf("%s %s: got %d, want %d: %s", method, path, got, status, raw)
	}
	return raw
}

// A passkey ceremony begun on one instance finishes on another (the challenge is in the
// shared PostgreSQL, not in either's memory), once; the passkey's session is a normal one;
// a disabled account is refused, password sign-in turned off leaves passkeys working, and a
// removed passkey signs nobody in.
func TestPasskeyCeremoniesAcrossInstances(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	a := newPasskeyInstance(t, dsn)
	b := newPasskeyInstance(t, dsn, func(c *auth.Config) { c.PasswordLoginOff = true })
	grant := authtest.User(t, a.svc, "pia@example.com", false)
	key := authtest.NewAuthenticator("http://parley.test", "parley.test")

	begun := a.want(200, "POST", "/api/auth/passkeys/register/begin", grant.AccessToken, nil)
	cred, err := key.Create(begun)
	if err != nil {
		t.Fatal(err)
	}
	var cer struct{ Ceremony string }
	_ = json.Unmarshal(begun, &cer)
	finish := map[string]any{"ceremony": cer.Ceremony, "name": "  Soft key ", "credential": cred}
	var pk passkeyJSON
	_ = json.Unmarshal(b.want(201, "POST", "/api/auth/passkeys/register/finish", grant.AccessToken, finish), &pk)
	if pk.Name != "Soft key" {
		t.Errorf("passkey name %q, want the trimmed Soft key", pk.Name)
	}
	b.want(400, "POST", "/api/auth/passkeys/register/finish", grant.AccessToken, finish) // used up

	signIn := func(begin, finish passkeyInstance, status int) []byte {
		t.Helper()
		begun := begin.want(200, "POST", "/api/auth/passkeys/login/begin", "", nil)
		_ = json.Unmarshal(begun, &cer)
		answer, err := key.Get(begun)
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"ceremony": cer.Ceremony, "credential": answer}
		raw := finish.want(status, "POST", "/api/auth/passkeys/login/finish", "", body)
		if status == 200 {
			finish.want(400, "POST", "/api/auth/passkeys/login/finish", "", body) // a replay finds no ceremony
		}
		return raw
	}
	// Begun on a, finished on b, whose password sign-in is off.
	var g grantJSON
	_ = json.Unmarshal(signIn(a, b, 200), &g)
	if g.User.Email != "pia@example.com" || g.RefreshToken == "" {
		t.Fatalf("passkey grant: %+v", g)
	}
	a.want(200, "GET", "/api/auth/me", g.AccessToken, nil)
	// A normal session: its refresh token rotates on the other instance, and logout ends it.
	var next grantJSON
	_ = json.Unmarshal(a.want(200, "POST", "/api/auth/refresh", "", map[string]any{"refreshToken": g.RefreshToken}), &next)
	b.want(204, "POST", "/api/auth/logout", "", map[string]any{"refreshToken": next.RefreshToken})
	a.want(401, "GET", "/api/auth/me", next.AccessToken, nil)

	var list struct{ Items []passkeyJSON }
	_ = json.Unmarshal(b.want(200, "GET", "/api/auth/passkeys", grant.AccessToken, nil), &list)
	if len(list.Items) != 1 || list.Items[0].LastUsedAt == nil {
		t.Fatalf("passkeys after a sign-in: %+v (want one, with its last use)", list.Items)
	}

	off, on := true, false
	ctx := context.Background()
	if _, err := a.svc.UpdateUser(ctx, grant.User.ID, auth.UserPatch{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	signIn(b, a, 403)
	if _, err := a.svc.UpdateUser(ctx, grant.User.ID, auth.UserPatch{Disabled: &on}); err != nil {
		t.Fatal(err)
	}
	signIn(b, a, 200)

	fresh := authtest.User(t, a.svc, "pia2@example.com", false) // another person cannot remove it
	a.want(404, "DELETE", "/api/auth/passkeys/"+pk.ID, fresh.AccessToken, nil)
	g2, err := a.svc.Login(ctx, "pia@example.com", authtest.Password, auth.Client{IP: "192.0.2.9"})
	if err != nil {
		t.Fatal(err)
	}
	b.want(204, "DELETE", "/api/auth/passkeys/"+pk.ID, g2.AccessToken, nil)
	signIn(a, b, 401)
}
