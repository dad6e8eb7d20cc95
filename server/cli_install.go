package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parley/parley/deploy"
)

// Where `parley install` puts the release archive. /usr/local, not /usr: the Debian package
// owns /usr/bin/parley and /usr/lib/parley, and a hand install must not collide with it.
const (
	serviceUser   = "parley"
	installLib    = "/usr/local/lib/parley"
	installBin    = "/usr/local/bin/parley"
	configDir     = "/etc/parley"
	configFile    = "/etc/parley/config.yaml"
	dataDir       = "/var/lib/parley"
	unitFile      = "/etc/systemd/system/parley.service"
	packagedExec  = "/usr/bin/parley"
	systemdMarker = "/run/systemd/system" // exists when systemd is PID 1 (sd_booted)
	dpkgList      = "/var/lib/dpkg/info/parley.list"
)

// installer installs or removes the service. Every path is under root, and system commands
// go through run, so tests can run it in a temp directory.
type installer struct {
	root    string
	out     io.Writer
	run     func(ctx context.Context, name string, args ...string) error
	chown   func(path string, uid, gid int) error
	exe     string // this parley binary
	livekit string // the livekit-server beside it
	systemd bool
}

// installCommand is `parley install` and `parley uninstall` for the real system.
func installCommand(ctx context.Context, cmd string, stdout io.Writer) error {
	if err := requireRoot(cmd, os.Geteuid()); err != nil {
		return err
	}
	_, err := os.Stat(systemdMarker)
	in := &installer{root: "/", out: stdout, run: runCommand, chown: os.Chown, systemd: err == nil}
	if cmd == "uninstall" {
		return in.uninstall(ctx)
	}
	if in.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("install: locate this binary: %w", err)
	}
	// Only the livekit-server of the same release, never one found on PATH.
	in.livekit = filepath.Join(filepath.Dir(in.exe), "livekit-server")
	if _, err := os.Stat(in.livekit); err != nil {
		return fmt.Errorf("install: %w (run parley install from the unpacked release archive, beside its livekit-server)", err)
	}
	return in.install(ctx)
}

func requireRoot(cmd string, euid int) error {
	if euid == 0 {
		return nil
	}
	return fmt.Errorf("parley %s must run as root: it manages the system user %s, %s, %s and %s (try: sudo %s %s)",
		cmd, serviceUser, configDir, dataDir, unitFile, os.Args[0], cmd)
}

func runCommand(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (in *installer) path(p string) string { return filepath.Join(in.root, p) }

func (in *installer) say(format string, a ...any) { fmt.Fprintf(in.out, format+"\n", a...) }

// install is idempotent: what exists is kept (config, data) or replaced only when it
// differs (binaries, unit); the service is restarted only when something changed.
func (in *installer) install(ctx context.Context) error {
	// Two installs would run two units on one data folder; the package upgrades itself.
	if _, err := os.Stat(in.path(dpkgList)); err == nil {
		return fmt.Errorf("install: the Debian package parley is installed: upgrade it with apt install ./parley_<version>_<arch>.deb, or remove it first (apt remove parley keeps %s and %s)", configDir, dataDir)
	}
	uid, gid, err := in.ensureUser(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(in.path(configDir), 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if _, err := os.Stat(in.path(configFile)); err == nil {
		in.say("kept %s (it exists)", configFile)
	} else {
		if err := os.WriteFile(in.path(configFile), []byte(deploy.ServiceConfig), 0o640); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		if err := in.chown(in.path(configFile), 0, gid); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		in.say("wrote %s (root:%s, 0640)", configFile, serviceUser)
	}
	if err := os.MkdirAll(in.path(dataDir), 0o700); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := os.Chmod(in.path(dataDir), 0o700); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := in.chown(in.path(dataDir), uid, gid); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in.say("data folder %s (%s, 0700)", dataDir, serviceUser)

	changed := false
	for _, b := range []struct{ src, dst string }{
		{in.exe, filepath.Join(installLib, "parley")},
		{in.livekit, filepath.Join(installLib, "livekit-server")},
	} {
		c, err := in.copyBinary(b.src, b.dst)
		if err != nil {
			return err
		}
		changed = changed || c
	}
	if err := in.symlink(filepath.Join(installLib, "parley"), installBin); err != nil {
		return err
	}
	unit := strings.ReplaceAll(deploy.SystemdUnit, packagedExec+" ", installBin+" ")
	c, err := in.writeIfDifferent(unitFile, []byte(unit), 0o644)
	if err != nil {
		return err
	}
	changed = changed || c
	return in.enable(ctx, changed)
}

func (in *installer) enable(ctx context.Context, changed bool) error {
	if !in.systemd {
		in.say("systemd is not running here (a container or chroot?); start Parley with:\n  runuser -u %s -- %s --config %s serve",
			serviceUser, installBin, configFile)
		return nil
	}
	steps := [][]string{{"daemon-reload"}, {"enable", "--now", "parley"}}
	if changed {
		steps = [][]string{{"daemon-reload"}, {"enable", "parley"}, {"restart", "parley"}}
	}
	for _, s := range steps {
		if err := in.run(ctx, "systemctl", s...); err != nil {
			return fmt.Errorf("install: %w (see: journalctl -u parley)", err)
		}
		in.say("systemctl %s", strings.Join(s, " "))
	}
	in.say("Parley runs as a service: systemctl status parley; logs: journalctl -u parley (the first start prints the admin password)")
	return nil
}

// ensureUser creates the system user (and its group) unless it exists, and returns its ids.
func (in *installer) ensureUser(ctx context.Context) (uid, gid int, err error) {
	if uid, gid, ok := lookupPasswd(in.path("/etc/passwd"), serviceUser); ok {
		in.say("user %s exists (uid %d)", serviceUser, uid)
		return uid, gid, nil
	}
	args := []string{"--system", "--user-group", "--home-dir", dataDir, "--no-create-home", "--shell", "/usr/sbin/nologin", serviceUser}
	if in.root != "/" {
		args = append([]string{"--root", in.root}, args...)
	}
	if err := in.run(ctx, "useradd", args...); err != nil {
		return 0, 0, fmt.Errorf("install: create user %s: %w", serviceUser, err)
	}
	uid, gid, ok := lookupPasswd(in.path("/etc/passwd"), serviceUser)
	if !ok {
		return 0, 0, fmt.Errorf("install: useradd succeeded but %s is not in /etc/passwd", serviceUser)
	}
	in.say("created system user %s (uid %d)", serviceUser, uid)
	return uid, gid, nil
}

// lookupPasswd reads the user's ids from a passwd file; os/user would ask NSS about the
// running system, not about root.
func lookupPasswd(file, name string) (uid, gid int, ok bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 || fields[0] != name {
			continue
		}
		u, err1 := strconv.Atoi(fields[2])
		g, err2 := strconv.Atoi(fields[3])
		return u, g, err1 == nil && err2 == nil
	}
	return 0, 0, false
}

// copyBinary installs src as dst (0755) unless dst already has the same bytes. It writes a
// temporary file and renames it, so a running old binary is replaced, not overwritten.
func (in *installer) copyBinary(src, dst string) (bool, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	return in.writeIfDifferent(dst, data, 0o755)
}

func (in *installer) writeIfDifferent(dst string, data []byte, mode os.FileMode) (bool, error) {
	full := in.path(dst)
	if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, data) {
		in.say("%s is up to date", dst)
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	tmp := full + ".new"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	if err := os.Rename(tmp, full); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	in.say("installed %s", dst)
	return true, nil
}

func (in *installer) symlink(target, link string) error {
	full := in.path(link)
	if cur, err := os.Readlink(full); err == nil && cur == target {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("install: %w", err)
	}
	if err := os.Symlink(target, full); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in.say("linked %s -> %s", link, target)
	return nil
}

// uninstall stops and removes the service and the binaries; configuration, data and the
// user stay, so a later install (or the Debian package) picks them up again.
func (in *installer) uninstall(ctx context.Context) error {
	if in.systemd {
		if _, err := os.Stat(in.path(unitFile)); err == nil {
			if err := in.run(ctx, "systemctl", "disable", "--now", "parley"); err != nil {
				return fmt.Errorf("uninstall: %w", err)
			}
			in.say("systemctl disable --now parley")
		}
	}
	for _, p := range []string{unitFile, installBin, filepath.Join(installLib, "parley"), filepath.Join(installLib, "livekit-server"), installLib} {
		err := os.Remove(in.path(p))
		switch {
		case err == nil:
			in.say("removed %s", p)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("uninstall: %w", err)
		}
	}
	if in.systemd {
		if err := in.run(ctx, "systemctl", "daemon-reload"); err != nil {
			return fmt.Errorf("uninstall: %w", err)
		}
	}
	in.say("kept %s, %s and the user %s; to remove them too: rm -rf %s %s && userdel %s",
		configDir, dataDir, serviceUser, configDir, dataDir, serviceUser)
	return nil
}
