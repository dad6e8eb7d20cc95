package livekit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrBinaryNotFound means no livekit-server was found in any of the places searched.
var ErrBinaryNotFound = errors.New("livekit-server not found")

// BinaryEnv names the environment variable that points at livekit-server.
const BinaryEnv = "PARLEY_LIVEKIT_BIN"

// FindBinary looks for livekit-server in order: configured (livekit.binary), $PARLEY_LIVEKIT_BIN,
// beside the Parley executable (exe's directory and its bin/), bin/ in the working
// directory, then PATH. exe and wd may be empty. The error lists every place searched.
func FindBinary(configured string, getenv func(string) string, exe, wd string) (string, error) {
	if configured != "" {
		if err := isExecutable(configured); err != nil {
			return "", fmt.Errorf("%w: livekit.binary %s: %v (fix the path, or clear it to search; `make livekit` builds bin/livekit-server)", ErrBinaryNotFound, configured, err)
		}
		return configured, nil
	}
	if v := getenv(BinaryEnv); v != "" {
		if err := isExecutable(v); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrBinaryNotFound, BinaryEnv, v, err)
		}
		return v, nil
	}
	var tried []string
	var candidates []string
	if exe != "" {
		dir := filepath.Dir(exe)
		candidates = append(candidates, filepath.Join(dir, "livekit-server"), filepath.Join(dir, "bin", "livekit-server"))
	}
	if wd != "" {
		candidates = append(candidates, filepath.Join(wd, "bin", "livekit-server"))
	}
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		if isExecutable(c) == nil {
			return c, nil
		}
		tried = append(tried, c)
	}
	if p, err := exec.LookPath("livekit-server"); err == nil {
		return p, nil
	}
	tried = append(tried, "livekit-server on $PATH")
	return "", fmt.Errorf("%w: searched livekit.binary (unset), $%s (unset), %s; run `make livekit` to build bin/livekit-server, or set livekit.binary",
		ErrBinaryNotFound, BinaryEnv, strings.Join(tried, ", "))
}

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return errors.New("is not executable (chmod +x)")
	}
	if fi.Size() == 0 {
		return errors.New("is an empty file, not a livekit-server build")
	}
	return nil
}

// BinaryVersion runs `livekit-server --version` and returns the version ("1.13.5").
func BinaryVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	f := strings.Fields(strings.TrimSpace(string(out)))
	if len(f) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", bin)
	}
	return f[len(f)-1], nil
}
