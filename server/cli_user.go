package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
)

// userCommand runs `parley user create|set-password`. The password comes from --password,
// else PARLEY_USER_PASSWORD, else it is generated and printed once.
func userCommand(ctx context.Context, cfg config.Config, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New("user: missing subcommand (create or set-password)\n" + usage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("parley user "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "account email (required)")
	password := fs.String("password", "", "password (default: $PARLEY_USER_PASSWORD, else generated)")
	var name *string
	var admin *bool
	switch sub {
	case "create":
		name = fs.String("name", "", "display name (default: the part of the email before @)")
		admin = fs.Bool("admin", false, "give the account the admin role")
	case "set-password":
	default:
		return fmt.Errorf("user: unknown subcommand %q (use create or set-password)", sub)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user %s: unexpected argument %q", sub, fs.Arg(0))
	}
	if *email == "" {
		return fmt.Errorf("user %s: --email is required", sub)
	}
	pw, generated := *password, false
	if pw == "" {
		pw = getenv("PARLEY_USER_PASSWORD")
	}
	if pw == "" {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		pw, generated = base64.RawURLEncoding.EncodeToString(b), true
	}

	a, err := newApp(ctx, cfg, stdout, getenv)
	if err != nil {
		return err
	}
	defer db.Close(a.db)
	svc, err := a.newAuthService()
	if err != nil {
		return err
	}
	var what string
	switch sub {
	case "create":
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: *name, Password: pw, Admin: *admin})
		if err != nil {
			return fmt.Errorf("user create: %w", err)
		}
		what = fmt.Sprintf("created %s %s (%s, id %s)", u.Role, u.Email, u.Name, u.ID)
	case "set-password":
		u, err := svc.SetPassword(ctx, *email, pw)
		if err != nil {
			return fmt.Errorf("user set-password: %w", err)
		}
		what = fmt.Sprintf("password of %s changed; every session of the account was logged out", u.Email)
	}
	fmt.Fprintln(stdout, what)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(generated: store it now, it is not shown again)\n", pw)
	}
	return nil
}
