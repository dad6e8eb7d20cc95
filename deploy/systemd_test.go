package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/testenv"
)

// systemdAnalyze skips loudly when Debian's systemd package is not installed (fails when
// services are required: .ci/run installs it).
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.SkipOrFail(t, "systemd-analyze (apt-get install systemd)", err)
	}
	return p
}

// unitWithBinary writes parley.service into a temp dir with ExecStart pointing at an existing
// executable: systemd-analyze verify checks that the command exists.
func unitWithBinary(t *testing.T) string {
	dir := t.TempDir()
	exe := filepath.Join(dir, "parley")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "parley.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(SystemdUnit, "/usr/bin/parley ", exe+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit
}

func TestSystemdUnitVerifies(t *testing.T) {
	sa := systemdAnalyze(t)
	out, err := exec.Command(sa, "verify", unitWithBinary(t)).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The exposure score of the hardened unit; what keeps it above 1 is what LiveKit needs:
// the host network (PrivateNetwork would cut media off), inet/netlink sockets and
// CAP_NET_BIND_SERVICE for 80/443.
func TestSystemdUnitExposure(t *testing.T) {
	sa := systemdAnalyze(t)
	out, err := exec.Command(sa, "security", "--offline=true", unitWithBinary(t)).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for parley.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security exposure: %.1f", score)
	if score > 2.0 {
		t.Errorf("exposure %.1f > 2.0: a hardening option was lost\n%s", score, out)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"ReadWritePaths=/var/lib/parley", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "Restart=on-failure",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"} {
		if !strings.Contains(SystemdUnit, "\n"+want+"\n") {
			t.Errorf("parley.service lacks %s", want)
		}
	}
	// make dist-check runs the release under the unit's /proc; this says why one option
	// that would score better stays out.
	if strings.Contains(SystemdUnit, "\nProcSubset=pid") {
		t.Error("parley.service sets ProcSubset=pid: LiveKit reads /proc/stat and exits without it")
	}
}

// The config the service starts with is valid and keeps data where the unit may write.
func TestServiceConfigLoads(t *testing.T) {
	f := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(f, []byte(ServiceConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(f, func(string) string { return "" })
	if err != nil {
		t.Fatalf("deploy/config.yaml: %v", err)
	}
	if cfg.Server.DataDir != "/var/lib/parley" {
		t.Errorf("dataDir = %q, want /var/lib/parley (the unit's ReadWritePaths)", cfg.Server.DataDir)
	}
}
