package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/db"
)

const usage = `usage: parley [command] [--config PATH]

--config may stand before or after the command; without it ./config.yaml is read if present.
Every key is listed in config.yaml.example and the README's Configuration table.

commands:
  serve                 run the server (default)
  migrate               apply database migrations and exit
  version               print the version, commit and LiveKit version
  install               (root) install the systemd service: user, /etc/parley, /var/lib/parley
  uninstall             (root) remove the service and binaries; keeps config and data
  config check          validate the configuration and print it, secrets masked
  user create --email E --name N [--admin] [--password P]
                        create an account (password read from PARLEY_USER_PASSWORD or generated)
  user set-password --email E [--password P]
  audit verify          check the audit log's hash chain; names the first entry that was changed or removed
  doctor [--config PATH] [--resolver HOST:PORT]
                        check the running server: DNS, certificate, ports, TURN, LiveKit, webhooks
  backup --to DIR       copy the database, secrets, certificates and recordings into a new folder
                        (while the server runs; PostgreSQL: prints the pg_dump to run)
  restore --from DIR    write a backup into the configured data directory, which must be empty
`

// run is the whole program: tests call it with their own args, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cl, err := parseArgs(args)
	if err != nil {
		return err
	}
	switch cl.cmd {
	case "version":
		return versionCommand(ctx, stdout, getenv)
	case "install", "uninstall":
		return installCommand(ctx, cl.cmd, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "doctor": // loads the config itself
		return doctorCommand(ctx, cl.configPath, cl.rest, getenv, stdout)
	}
	cfg, src, err := config.Load(cl.configPath, getenv)
	if err != nil {
		return err
	}
	switch cl.cmd {
	case "serve":
		return serve(ctx, cfg, src, stdout, getenv)
	case "config":
		fmt.Fprintf(stdout, "# configuration OK (file: %s)\n%s", orNone(src.File), config.Masked(cfg))
		return nil
	case "backup":
		return backupCommand(ctx, cfg, cl.rest, stdout)
	case "restore":
		return restoreCommand(ctx, cfg, cl.rest, stdout)
	case "migrate":
		a, err := newApp(ctx, cfg, stdout, getenv)
		if err != nil {
			return err
		}
		defer db.Close(a.db)
		fmt.Fprintln(stdout, "migrations up to date")
		return nil
	case "audit":
		a, err := newApp(ctx, cfg, stdout, getenv)
		if err != nil {
			return err
		}
		defer db.Close(a.db)
		return a.auditVerify(ctx)
	}
	return userCommand(ctx, cfg, cl.rest, stdout, getenv)
}

// commandLine is the parsed argument list: the command, the global --config wherever it
// stood, and what the command itself parses (only `user` takes more).
type commandLine struct {
	cmd        string
	configPath string
	rest       []string
}

// parseArgs accepts --config before or after the command (`parley serve --config F` and
// `parley --config F serve` mean the same) and refuses anything it does not know, with the
// usage, so a mistyped flag never starts a server on defaults.
func parseArgs(args []string) (commandLine, error) {
	var cl commandLine
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			return commandLine{cmd: "help"}, nil
		case strings.HasPrefix(a, "-") && name == "config":
			if !hasValue {
				if i+1 == len(args) {
					return cl, usageError("--config needs a file path")
				}
				i++
				value = args[i]
			}
			if value == "" {
				return cl, usageError("--config needs a file path")
			}
			cl.configPath = value
		default:
			words = append(words, a)
		}
	}
	cl.cmd = "serve"
	if len(words) > 0 {
		cl.cmd, words = words[0], words[1:]
	}
	switch {
	case cl.cmd == "user" || cl.cmd == "doctor" || cl.cmd == "backup" || cl.cmd == "restore":
		cl.rest = words // the command parses and refuses its own flags
		return cl, nil
	case cl.cmd == "config" && len(words) == 1 && words[0] == "check":
		return cl, nil
	case cl.cmd == "config":
		return cl, usageError("config takes one subcommand: check")
	case cl.cmd == "audit" && len(words) == 1 && words[0] == "verify":
		return cl, nil
	case cl.cmd == "audit":
		return cl, usageError("audit takes one subcommand: verify")
	case strings.HasPrefix(cl.cmd, "-"):
		return cl, usageError(fmt.Sprintf("unknown flag %q", cl.cmd))
	case cl.cmd != "serve" && cl.cmd != "migrate" && cl.cmd != "doctor" && cl.cmd != "version" && cl.cmd != "help" &&
		cl.cmd != "install" && cl.cmd != "uninstall":
		return cl, usageError(fmt.Sprintf("unknown command %q", cl.cmd))
	case len(words) > 0:
		return cl, usageError(fmt.Sprintf("%s: unexpected argument %q", cl.cmd, words[0]))
	}
	return cl, nil
}

func usageError(msg string) error {
	return fmt.Errorf("%s\n%s", msg, usage)
}

func orNone(s string) string {
	if s == "" {
		return "none, defaults and environment"
	}
	return s
}
