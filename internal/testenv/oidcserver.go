package testenv

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OIDCUser is an account of the test OpenID provider; its password is OIDCPassword.
type OIDCUser struct {
	Username, Name, Email string
	Verified, Admin       bool // Admin: member of the "parley-admins" group
}

// OIDCPassword is every test provider account's password.
const OIDCPassword = "verysecure"

// OIDC client registered at the test provider.
const (
	OIDCClientID     = "web"
	OIDCClientSecret = "secret"
	OIDCAdminGroup   = "parley-admins"
)

// OIDCUsers are the accounts StartOIDCServer creates: an admin-group member, a plain
// member, and one whose e-mail the provider has not verified.
var OIDCUsers = []OIDCUser{
	{Username: "ada", Name: "Ada Lovelace", Email: "ada@example.test", Verified: true, Admin: true},
	{Username: "bob", Name: "Bob Builder", Email: "bob@example.test", Verified: true},
	{Username: "eve", Name: "Eve Unverified", Email: "eve@example.test"},
}

// StartOIDCServer runs bin/oidcserver (a real OpenID provider, tools/oidcserver) with
// OIDCUsers and client "web" registered for the Parley at publicURL as provider name (its
// callback, and /login after the provider's logout), and returns the issuer URL.
func StartOIDCServer(t testing.TB, publicURL, name string) string {
	t.Helper()
	bin := filepath.Join(RepoRoot(), "bin", "oidcserver")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make bin/oidcserver` first (make test-go does it)", bin)
	}
	users := map[string]any{}
	for _, u := range OIDCUsers {
		first, last, _ := strings.Cut(u.Name, " ")
		users[u.Username] = map[string]any{"ID": u.Username, "Username": u.Username, "Password": OIDCPassword,
			"FirstName": first, "LastName": last, "Email": u.Email, "EmailVerified": u.Verified,
			"PreferredLanguage": "en", "IsAdmin": u.Admin}
	}
	data, _ := json.Marshal(users)
	file := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT=0", "USERS_FILE="+file,
		"REDIRECT_URI="+publicURL+"/api/auth/oidc/"+name+"/callback", "POST_LOGOUT_REDIRECT_URI="+publicURL+"/login")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "oidcserver.log")
	if cmd.Stderr, err = os.Create(logFile); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oidcserver: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil {
				t.Logf("oidcserver log:\n%s", b)
			}
		}
	})
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "oidcserver issuer "); ok {
				issuer <- rest
			}
		}
		close(issuer)
	}()
	select {
	case iss, ok := <-issuer:
		if !ok {
			t.Fatalf("oidcserver exited before listening (log: %s)", logFile)
		}
		return iss
	case <-time.After(30 * time.Second):
		t.Fatalf("oidcserver did not print its issuer within 30s")
	}
	return ""
}
