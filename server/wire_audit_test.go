package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/db"
)

// `parley audit verify` passes on an intact log and fails naming the row edited in the
// database.
func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PARLEY_SERVER_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, getenv, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	g, err := db.Open("sqlite", filepath.Join(dir, "parley.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(g)
	l := audit.New(g, nil, nil)
	for _, who := range []string{"ada", "bob", "cy"} {
		if err := l.Record(ctx, audit.Entry{Actor: audit.Actor{Type: audit.ActorUser, ID: who}, Action: "participant.kick", Room: "r", Target: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := run(ctx, []string{"audit", "verify"}, getenv, &out); err != nil || !strings.Contains(out.String(), "3 entries") {
		t.Fatalf("intact log: %v\n%s", err, out.String())
	}
	if err := g.Exec("UPDATE audit_entries SET actor_id = 'mallory' WHERE seq = 2").Error; err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"audit", "verify"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "audit entry 2") || !strings.Contains(err.Error(), "edited") {
		t.Fatalf("after editing row 2: %v, want an error naming audit entry 2", err)
	}
	if err := run(ctx, []string{"audit", "check"}, getenv, &out); err == nil || !strings.Contains(err.Error(), "verify") {
		t.Errorf("unknown subcommand: %v", err)
	}
}
