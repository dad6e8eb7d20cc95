package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFlagAnywhere proves --config is read wherever it stands: a file with an unknown
// key must stop every command that loads the configuration, naming the file.
func TestConfigFlagAnywhere(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server:\n  lisen: \":2\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		return map[string]string{"PARLEY_SERVER_DATA_DIR": dir, "PARLEY_AUTH_JWT_SECRET": strings.Repeat("x", 40)}[k]
	}
	for _, args := range [][]string{
		{"serve", "--config", bad},
		{"serve", "--config=" + bad},
		{"--config", bad, "serve"},
		{"-config", bad},
		{"migrate", "--config", bad},
		{"config", "check", "--config", bad},
		{"user", "create", "--email", "a@example.com", "--config", bad},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), args, env, &out)
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `unknown key "lisen"`) {
				t.Fatalf("got %v, want the unknown key of %s", err, bad)
			}
			if !strings.Contains(err.Error(), "config.yaml.example") {
				t.Errorf("the error should point to config.yaml.example: %v", err)
			}
		})
	}
}

func TestUnknownArgumentsRefusedWithUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "--bogus"},
		{"--bogus"},
		{"serve", "--config"},
		{"version", "now"},
		{"install", "now"},
		{"uninstall", "--keep"},
		{"config"},
		{"config", "check", "twice"},
		{"frobnicate"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), args, func(string) string { return "" }, &out)
			if err == nil || !strings.Contains(err.Error(), "usage: parley") {
				t.Fatalf("got %v, want a refusal with the usage", err)
			}
		})
	}
}

func TestHelpPrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"serve", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out); err != nil || !strings.Contains(out.String(), "usage: parley") {
			t.Errorf("%v: %v %q", args, err, out.String())
		}
	}
}
