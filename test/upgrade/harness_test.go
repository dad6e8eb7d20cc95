// Package upgrade proves that an upgrade keeps everything: the previous release, built from
// git inside the test, fills a data folder and a database (users, sessions, rooms, bans, a
// recording); the parley of this tree then starts on the same folder and database and finds
// all of it, with every migration it knows applied.
package upgrade

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/testenv"
)

// defaultFrom is the previous release: main right before the release work of issue 19
// (install, packages, migrations that refuse a newer database). PARLEY_UPGRADE_FROM picks
// another commit, e.g. one from before a migration was added.
const defaultFrom = "36d8cadd58ceff53824453bc6a240b11f5485ddb"

var (
	oldBin, newBin string
	buildErr       error // why the binaries could not be built; each test skips or fails on it
)

func TestMain(m *testing.M) {
	lksdk.SetLogger(protologger.GetDiscardLogger())
	dir, err := os.MkdirTemp("", "parley-upgrade-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	from := os.Getenv("PARLEY_UPGRADE_FROM")
	if from == "" {
		from = defaultFrom
	}
	oldBin, newBin = filepath.Join(dir, "parley-old"), filepath.Join(dir, "parley-new")
	buildErr = buildBinaries(dir, from)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinaries builds the previous release from `git archive <from>` and this tree's parley.
// Without -trimpath, so every dependency comes from the build cache that go test and make
// build filled: only the old tree's own packages are compiled.
func buildBinaries(dir, from string) error {
	root := testenv.RepoRoot()
	src := filepath.Join(dir, "src-old")
	if err := os.Mkdir(src, 0o755); err != nil {
		return err
	}
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", from)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	var gitErr bytes.Buffer
	archive.Stderr = &gitErr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return fmt.Errorf("git archive %s (the previous release; a shallow clone lacks it, set PARLEY_UPGRADE_FROM): %v: %s", from, err, gitErr.Bytes())
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("unpack %s: %w", from, err)
	}
	for _, b := range []struct{ dir, out, version string }{{src, oldBin, "old-" + from[:12]}, {root, newBin, "new"}} {
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+b.version, "-o", b.out, "./server")
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./server in %s: %v\n%s", b.dir, err, out)
		}
	}
	return nil
}

// requireBinaries skips (or fails, with services required) when the previous release could
// not be built.
func requireBinaries(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		testenv.SkipOrFail(t, "the previous release's parley", buildErr)
	}
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}
