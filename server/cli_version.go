package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/parley/parley/internal/livekit"
)

// Set at build time by `make build` / `make dist` (-ldflags -X): the commit the binary was
// built from and the livekit-server version pinned in go.mod's tool dependency.
var (
	commit         = ""
	livekitVersion = ""
)

// buildCommit is the commit from -ldflags, else from the Go toolchain's VCS stamp.
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// versionCommand prints what this binary is and which livekit-server it would supervise.
func versionCommand(ctx context.Context, stdout io.Writer, getenv func(string) string) error {
	pinned := livekitVersion
	if pinned == "" {
		pinned = "unknown (built without make)"
	}
	fmt.Fprintf(stdout, "parley %s\ncommit %s\nlivekit-server %s (pinned)\n%s %s/%s\n",
		version, buildCommit(), pinned, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	exe, _ := os.Executable()
	wd, _ := os.Getwd()
	bin, err := livekit.FindBinary("", getenv, exe, wd)
	if err != nil {
		fmt.Fprintln(stdout, "livekit-server binary: none found beside parley, in bin/ or on PATH")
		return nil
	}
	v, err := livekit.BinaryVersion(ctx, bin)
	if err != nil {
		v = "version unknown: " + err.Error()
	}
	fmt.Fprintf(stdout, "livekit-server binary: %s (%s)\n", bin, v)
	return nil
}
