package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
)

// authTestEnv is a getenv over a fresh data dir plus extra variables.
func authTestEnv(t *testing.T, kv ...string) func(string) string {
	env := map[string]string{"PARLEY_SERVER_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return func(k string) string { return env[k] }
}

// authApp opens the app like serve does and wires auth, printing to out.
func authApp(t *testing.T, getenv func(string) string, out *bytes.Buffer) authedApp {
	t.Helper()
	cfg, _, err := config.Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, out, getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(a.db) })
	svc, err := a.wireAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return authedApp{a, svc}
}

// authedApp is an app with its auth module wired.
type authedApp struct {
	*app
	auth *auth.Service
}

var printedPassword = regexp.MustCompile(`password: (\S+)`)

func TestBootstrapAdminPrintedOnce(t *testing.T) {
	getenv := authTestEnv(t)
	var out bytes.Buffer
	a := authApp(t, getenv, &out)
	m := printedPassword.FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "admin@localhost") {
		t.Fatalf("no admin password printed:\n%s", out.String())
	}
	if _, err := a.auth.Login(context.Background(), "admin@localhost", m[1], auth.Client{IP: "t"}); err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}
	if n, err := a.auth.CountUsers(context.Background()); err != nil || n != 1 {
		t.Errorf("users counter: %d, %v", n, err)
	}
	_ = db.Close(a.db)

	// A restart on the same data dir prints nothing: the admin exists.
	out.Reset()
	authApp(t, getenv, &out)
	if strings.Contains(out.String(), "password") {
		t.Errorf("second start printed a password again:\n%s", out.String())
	}
}

func TestBootstrapAdminFromConfig(t *testing.T) {
	getenv := authTestEnv(t, "PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL", "Ops@Example.com",
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD", "from the environment")
	var out bytes.Buffer
	a := authApp(t, getenv, &out)
	if strings.Contains(out.String(), "password:") {
		t.Errorf("a configured admin's password was printed:\n%s", out.String())
	}
	g, err := a.auth.Login(context.Background(), "ops@example.com", "from the environment", auth.Client{IP: "t"})
	if err != nil || g.User.Role != auth.RoleAdmin {
		t.Fatalf("configured admin: %+v, %v", g.User, err)
	}
	if _, err := a.auth.Login(context.Background(), "admin@localhost", "x-anything", auth.Client{IP: "t"}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("admin@localhost exists beside a configured admin: %v", err)
	}
}

func TestUserCommands(t *testing.T) {
	ctx := context.Background()
	getenv := authTestEnv(t, "PARLEY_USER_PASSWORD", "env password 1")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, getenv, &out)
		return out.String(), err
	}
	// Password from the environment.
	if out, err := cli("user", "create", "--email", "Ann@Example.com", "--name", "Ann", "--admin"); err != nil || !strings.Contains(out, "created admin ann@example.com") {
		t.Fatalf("create: %q, %v", out, err)
	}
	// Password from the flag.
	if out, err := cli("user", "create", "--email", "ben@example.com", "--password", "flag password"); err != nil || !strings.Contains(out, "created user ben@example.com (ben,") {
		t.Fatalf("create with --password: %q, %v", out, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"duplicate", []string{"user", "create", "--email", "ann@example.com"}, "already registered"},
		{"bad email", []string{"user", "create", "--email", "ann"}, "not a valid email"},
		{"weak password", []string{"user", "create", "--email", "c@example.com", "--password", "short"}, "at least 8"},
		{"no email", []string{"user", "create"}, "--email is required"},
		{"unknown subcommand", []string{"user", "delete", "--email", "ann@example.com"}, "unknown subcommand"},
		{"no subcommand", []string{"user"}, "missing subcommand"},
		{"unknown user", []string{"user", "set-password", "--email", "nobody@example.com"}, "not found"},
		{"stray argument", []string{"user", "set-password", "--email", "ann@example.com", "extra"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cli(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}

	// Generated password, printed once; set-password logs every session out.
	noEnv := func(k string) string {
		if k == "PARLEY_USER_PASSWORD" {
			return ""
		}
		return getenv(k)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"user", "set-password", "--email", "ann@example.com"}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	m := printedPassword.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password printed: %q", out.String())
	}
	var buf bytes.Buffer
	a := authApp(t, getenv, &buf)
	if strings.Contains(buf.String(), "password:") {
		t.Error("the server bootstrapped an admin although the CLI created one")
	}
	if g, err := a.auth.Login(ctx, "ann@example.com", m[1], auth.Client{IP: "t"}); err != nil || g.User.Role != auth.RoleAdmin {
		t.Fatalf("login with the generated password: %+v, %v", g.User, err)
	}
	if _, err := a.auth.Login(ctx, "ben@example.com", "flag password", auth.Client{IP: "t"}); err != nil {
		t.Fatalf("login with the flag password: %v", err)
	}
}
