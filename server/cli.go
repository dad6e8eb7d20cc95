package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
)

const usage = `usage: parley [--config PATH] [command]

commands:
  serve                 run the server (default)
  migrate               apply database migrations and exit
  version               print the version
  config check          validate the configuration and print it, secrets masked
  user create --email E --name N [--admin] [--password P]
                        create an account (password read from PARLEY_USER_PASSWORD or generated)
  user set-password --email E [--password P]
  doctor [--config PATH] [--resolver HOST:PORT]
                        check the running server: DNS, certificate, ports, TURN, LiveKit, webhooks
`

// run is the whole program: tests call it with their own args, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, usage) }
	cfgPath := fs.String("config", "", "configuration file (default ./config.yaml if present)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "parley", version)
		return nil
	}
	if cmd == "help" || cmd == "-h" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd == "doctor" { // loads the config itself: it also takes --config after the command
		return doctorCommand(ctx, *cfgPath, rest, getenv, stdout)
	}
	cfg, src, err := config.Load(*cfgPath, getenv)
	if err != nil {
		return err
	}
	switch {
	case cmd == "serve":
		return serve(ctx, cfg, src, stdout, getenv)
	case cmd == "config" && len(rest) == 1 && rest[0] == "check":
		fmt.Fprintf(stdout, "# configuration OK (file: %s)\n%s", orNone(src.File), config.Masked(cfg))
		return nil
	case cmd == "migrate":
		a, err := newApp(ctx, cfg, stdout, getenv)
		if err != nil {
			return err
		}
		defer db.Close(a.db)
		fmt.Fprintln(stdout, "migrations up to date")
		return nil
	case cmd == "user":
		return userCommand(ctx, cfg, rest, stdout, getenv)
	}
	return fmt.Errorf("unknown command %q\n%s", strings.Join(append([]string{cmd}, rest...), " "), usage)
}

func orNone(s string) string {
	if s == "" {
		return "none, defaults and environment"
	}
	return s
}
