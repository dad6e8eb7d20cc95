package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley/parley/deploy"
)

// fakeSystem is the installer's view of a machine in a temp dir: useradd appends to its
// passwd file, systemctl calls are recorded.
type fakeSystem struct {
	root  string
	calls []string
	owner map[string][2]int
}

func newFakeSystem(t *testing.T) (*fakeSystem, *installer, *bytes.Buffer) {
	t.Helper()
	fs := &fakeSystem{root: t.TempDir(), owner: map[string][2]int{}}
	os.MkdirAll(filepath.Join(fs.root, "etc"), 0o755)
	os.WriteFile(filepath.Join(fs.root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)
	src := t.TempDir()
	for _, b := range []string{"parley", "livekit-server"} {
		os.WriteFile(filepath.Join(src, b), []byte("#!/bin/sh\necho "+b+"\n"), 0o755)
	}
	var out bytes.Buffer
	in := &installer{root: fs.root, out: &out, systemd: true,
		exe: filepath.Join(src, "parley"), livekit: filepath.Join(src, "livekit-server"),
		run: func(_ context.Context, name string, args ...string) error {
			fs.calls = append(fs.calls, name+" "+strings.Join(args, " "))
			if name == "useradd" {
				f, _ := os.OpenFile(filepath.Join(fs.root, "etc/passwd"), os.O_APPEND|os.O_WRONLY, 0)
				defer f.Close()
				fmt.Fprintln(f, "parley:x:998:998::/var/lib/parley:/usr/sbin/nologin")
			}
			return nil
		},
		chown: func(p string, uid, gid int) error {
			fs.owner[strings.TrimPrefix(p, fs.root)] = [2]int{uid, gid}
			return nil
		},
	}
	return fs, in, &out
}

func TestInstallIsIdempotentAndKeepsConfig(t *testing.T) {
	ctx := context.Background()
	fs, in, out := newFakeSystem(t)
	if err := in.install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{
		"useradd --root " + fs.root + " --system --user-group --home-dir /var/lib/parley --no-create-home --shell /usr/sbin/nologin parley",
		"systemctl daemon-reload", "systemctl enable parley", "systemctl restart parley",
	}
	if got := strings.Join(fs.calls, "\n"); got != strings.Join(wantCalls, "\n") {
		t.Errorf("first install ran:\n%s\nwant:\n%s", got, strings.Join(wantCalls, "\n"))
	}
	unit, err := os.ReadFile(filepath.Join(fs.root, unitFile))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/local/bin/parley --config /etc/parley/config.yaml serve") {
		t.Errorf("unit: %v\n%s", err, unit)
	}
	if link, err := os.Readlink(filepath.Join(fs.root, installBin)); err != nil || link != "/usr/local/lib/parley/parley" {
		t.Errorf("%s -> %q (%v)", installBin, link, err)
	}
	for _, b := range []string{"parley", "livekit-server"} {
		if fi, err := os.Stat(filepath.Join(fs.root, installLib, b)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", b, fi, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(fs.root, dataDir)); err != nil || fi.Mode().Perm() != 0o700 || fs.owner[dataDir] != [2]int{998, 998} {
		t.Errorf("data dir: %v %v owner %v", fi, err, fs.owner[dataDir])
	}
	if cfg, _ := os.ReadFile(filepath.Join(fs.root, configFile)); string(cfg) != deploy.ServiceConfig || fs.owner[configFile] != [2]int{0, 998} {
		t.Errorf("config owner %v:\n%s", fs.owner[configFile], cfg)
	}
	t.Logf("first install printed:\n%s", out)

	// The second run changes nothing: the edited config stays, no user is created, nothing restarts.
	os.WriteFile(filepath.Join(fs.root, configFile), []byte("server: {listen: \":80\"}\n"), 0o640)
	fs.calls = nil
	out.Reset()
	if err := in.install(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fs.calls, "\n"); got != "systemctl daemon-reload\nsystemctl enable --now parley" {
		t.Errorf("second install ran:\n%s", got)
	}
	for _, want := range []string{"user parley exists", "kept /etc/parley/config.yaml", "/usr/local/lib/parley/parley is up to date", "/etc/systemd/system/parley.service is up to date"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("second install output lacks %q:\n%s", want, out)
		}
	}
	if cfg, _ := os.ReadFile(filepath.Join(fs.root, configFile)); !strings.Contains(string(cfg), ":80") {
		t.Errorf("the edited config was replaced:\n%s", cfg)
	}

	// Without systemd the user is told how to start it.
	in.systemd, fs.calls = false, nil
	out.Reset()
	if err := in.install(ctx); err != nil || len(fs.calls) != 0 || !strings.Contains(out.String(), "runuser -u parley -- /usr/local/bin/parley") {
		t.Errorf("install without systemd: %v %v\n%s", err, fs.calls, out)
	}

	in.systemd = true
	out.Reset()
	if err := in.uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{unitFile, installBin, installLib} {
		if _, err := os.Lstat(filepath.Join(fs.root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s still there after uninstall (%v)", gone, err)
		}
	}
	for _, kept := range []string{configFile, dataDir} {
		if _, err := os.Stat(filepath.Join(fs.root, kept)); err != nil {
			t.Errorf("uninstall removed %s: %v", kept, err)
		}
	}
}

func TestInstallRefusesBesideTheDebianPackage(t *testing.T) {
	fs, in, _ := newFakeSystem(t)
	os.MkdirAll(filepath.Join(fs.root, "var/lib/dpkg/info"), 0o755)
	os.WriteFile(filepath.Join(fs.root, dpkgList), []byte("/usr/bin/parley\n"), 0o644)
	err := in.install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Debian package parley is installed") {
		t.Fatalf("install beside the package: %v", err)
	}
	if len(fs.calls) != 0 {
		t.Errorf("the refused install ran %v", fs.calls)
	}
	if _, err := os.Stat(filepath.Join(fs.root, unitFile)); !os.IsNotExist(err) {
		t.Errorf("the refused install wrote the unit (%v)", err)
	}
}

func TestInstallRefusesWithoutRoot(t *testing.T) {
	err := requireRoot("install", 1000)
	if err == nil || !strings.Contains(err.Error(), "must run as root") || !strings.Contains(err.Error(), "sudo") {
		t.Fatalf("non-root install: %v", err)
	}
	if err := requireRoot("install", 0); err != nil {
		t.Fatalf("root: %v", err)
	}
}
