package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/testenv"
)

// TestBackupAndRestore: a backup taken while Parley serves (a user, a room, a finished
// built-in recording), the original data directory then deleted, the backup restored into
// an empty one: the user logs in with the password, the session from before still works
// (the secrets came along), the room is there and the recording downloads byte for byte.
// A restore never overwrites, and a damaged backup is refused before anything is written.
func TestBackupAndRestore(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg", err)
	}
	ctx := context.Background()
	envA := testEnv(t, "PARLEY_RECORDING_BACKEND=builtin")
	p := startParley(t, envA)
	admin := loginAdmin(t, p.addr)
	if code, out := admin.do("POST", "/api/rooms", map[string]any{"name": "standup"}); code != 201 {
		t.Fatalf("create room: %d %v", code, out)
	}
	_, join := admin.do("POST", "/api/rooms/standup/join", map[string]any{})
	stop := publishSynthetic(t, join["url"].(string), join["token"].(string))
	id := startAPIRecording(t, admin)
	if code, out := admin.do("POST", "/api/recordings/"+id+"/stop", nil); code != 200 {
		t.Fatalf("stop: %d %v", code, out)
	}
	waitRecording(t, admin, id, "complete", 90*time.Second)
	stop()
	original, err := os.ReadFile(download(t, admin, id))
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := user(t, p, "alice@example.com")
	alice.must(201, "POST", "/api/rooms", map[string]any{"name": "kept", "title": "Kept room"})

	backup := filepath.Join(t.TempDir(), "backup")
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", "--to", backup}, getenvOf(envA), &out); err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	t.Logf("backup: %s", out.String())
	if !strings.Contains(out.String(), "1 recordings indexed, 2 recording files") {
		t.Errorf("backup summary: %q", out.String())
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup folder mode: %v %v, want 0700", fi.Mode(), err)
	}
	if err := run(ctx, []string{"backup", "--to", backup}, getenvOf(envA), &out); err == nil || !strings.Contains(err.Error(), "new or empty folder") {
		t.Errorf("a second backup into the same folder: %v", err)
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	if err := os.RemoveAll(envValue(envA, "PARLEY_SERVER_DATA_DIR")); err != nil {
		t.Fatal(err)
	}

	t.Run("a damaged backup is refused and writes nothing", func(t *testing.T) {
		damaged := filepath.Join(t.TempDir(), "damaged")
		if err := os.CopyFS(damaged, os.DirFS(backup)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(damaged, "secrets.yaml"), []byte("jwtSecret: changed\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env := testEnv(t)
		err := run(ctx, []string{"restore", "--from", damaged}, getenvOf(env), &out)
		if err == nil || !strings.Contains(err.Error(), "secrets.yaml does not match") {
			t.Fatalf("restore of a damaged backup: %v", err)
		}
		if ok, _ := emptyDir(envValue(env, "PARLEY_SERVER_DATA_DIR")); !ok {
			t.Fatal("a refused restore left files in the data directory")
		}
	})

	envB := testEnv(t, "PARLEY_RECORDING_BACKEND=builtin")
	out.Reset()
	if err := run(ctx, []string{"restore", "--from", backup}, getenvOf(envB), &out); err != nil {
		t.Fatalf("restore into an empty data directory: %v", err)
	}
	t.Logf("restore: %s", out.String())
	dbFile := filepath.Join(envValue(envB, "PARLEY_SERVER_DATA_DIR"), "parley.db")
	before, _ := os.ReadFile(dbFile)
	if err := run(ctx, []string{"restore", "--from", backup}, getenvOf(envB), &out); err == nil || !strings.Contains(err.Error(), "must be empty") {
		t.Errorf("a restore over a restored data directory: %v", err)
	}
	if after, _ := os.ReadFile(dbFile); !bytes.Equal(before, after) || len(after) == 0 {
		t.Fatal("a refused restore changed the database")
	}

	p2 := startParley(t, envB)
	alice.base = "http://" + p2.addr
	alice.must(200, "GET", "/api/auth/me", nil) // the session from before the backup
	alice.token = ""
	grant := alice.must(200, "POST", "/api/auth/login", map[string]any{"email": "alice@example.com", "password": "a-long-password-123"})
	alice.token = grant["accessToken"].(string)
	if room := alice.must(200, "GET", "/api/rooms/kept", nil); room["title"] != "Kept room" {
		t.Errorf("restored room: %v", room)
	}
	admin2 := loginAdmin(t, p2.addr)
	if rec := waitRecording(t, admin2, id, "complete", 10*time.Second); rec["sizeBytes"] != float64(len(original)) {
		t.Errorf("restored recording: %v, want %d bytes", rec, len(original))
	}
	restored, err := os.ReadFile(download(t, admin2, id))
	if err != nil || !bytes.Equal(restored, original) {
		t.Fatalf("the restored recording differs from the original (%d vs %d bytes, %v)", len(restored), len(original), err)
	}
}

// getenvOf is a getenv over a test environment list.
func getenvOf(env []string) func(string) string {
	return func(k string) string { return envValue(env, k) }
}

// TestBackupOnPostgreSQL: Parley does not dump PostgreSQL itself; the backup carries the
// data directory's files and the recordings index read from the database, and both
// commands say which pg_dump / pg_restore to run. A PostgreSQL backup never restores into
// a SQLite configuration.
func TestBackupOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.PostgresDSN(t)
	pg := func(dir string) func(string) string {
		return getenvOf([]string{"PARLEY_DATABASE_DRIVER=postgres", "PARLEY_DATABASE_DSN=" + dsn,
			"PARLEY_SERVER_DATA_DIR=" + dir, "PARLEY_AUTH_JWT_SECRET=" + strings.Repeat("j", 40)})
	}
	var out bytes.Buffer
	src := filepath.Join(t.TempDir(), "data")
	if err := run(ctx, []string{"migrate"}, pg(src), &out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "instance-id"), []byte("parley-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup")
	out.Reset()
	if err := run(ctx, []string{"backup", "--to=" + backup}, pg(src), &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "pg_dump --format=custom") || !strings.Contains(out.String(), "0 recordings indexed") {
		t.Errorf("backup output: %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(backup, "parley.db")); err == nil {
		t.Error("a PostgreSQL backup holds a SQLite file")
	}
	out.Reset()
	if err := run(ctx, []string{"restore", "--from", backup}, pg(filepath.Join(t.TempDir(), "new")), &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "pg_restore --clean") {
		t.Errorf("restore output: %q", out.String())
	}
	sqlite := getenvOf([]string{"PARLEY_SERVER_DATA_DIR=" + filepath.Join(t.TempDir(), "other")})
	if err := run(ctx, []string{"restore", "--from", backup}, sqlite, &out); err == nil || !strings.Contains(err.Error(), "backup is of a postgres database") {
		t.Errorf("restoring a PostgreSQL backup with SQLite configured: %v", err)
	}
	if err := run(ctx, []string{"backup", "--to", filepath.Join(src, "backups")}, pg(src), &out); err == nil || !strings.Contains(err.Error(), "inside") {
		t.Errorf("a backup into the data directory: %v", err)
	}
	for _, args := range [][]string{{"backup"}, {"backup", "--to"}, {"restore", "--to", backup}, {"restore", "--from", t.TempDir()}} {
		if err := run(ctx, args, sqlite, &out); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
