package livekit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"
)

// ErrPortInUse means a port LiveKit needs is taken by another process.
var ErrPortInUse = errors.New("port in use")

// configFileName is the generated config inside the private run directory.
const configFileName = "livekit.yaml"

// prepareRunDir creates dir with mode 0700 (tightening it if needed, refusing one owned by
// someone else) and removes config files a killed run left behind: they hold the secret.
func prepareRunDir(dir string) (removed []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("livekit run directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("livekit run directory %s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return nil, fmt.Errorf("livekit run directory %s belongs to uid %d, not to Parley (uid %d): remove it", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("livekit run directory %s: make it private: %w", dir, err)
		}
	}
	stale, _ := filepath.Glob(filepath.Join(dir, "livekit*.yaml"))
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return removed, fmt.Errorf("remove stale %s: %w", f, err)
		}
		removed = append(removed, f)
	}
	return removed, nil
}

// writePrivate writes data to a new file of mode 0600; O_EXCL refuses to follow a planted symlink.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write livekit config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write livekit config %s: %w", path, err)
	}
	return f.Close()
}

// staticConfig is the part of a user-supplied LiveKit YAML that Parley checks.
type staticConfig struct {
	Port    int               `yaml:"port"`
	Keys    map[string]string `yaml:"keys"`
	KeyFile string            `yaml:"key_file"`
}

// CheckStaticConfig verifies a livekit.configPath file before LiveKit sees it: it must parse,
// must not have the top-level tls block LiveKit v1.12+ refuses, and must hold Parley's API
// key with Parley's secret (else every API call and token would be rejected). It returns the
// HTTP port it configures (7880 when absent).
func CheckStaticConfig(path, apiKey, apiSecret string) (port int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w: livekit.configPath: %v", ErrConfig, err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return 0, fmt.Errorf("%w: livekit.configPath %s is not valid YAML: %v", ErrConfig, path, err)
	}
	if _, ok := top["tls"]; ok {
		return 0, fmt.Errorf("%w: livekit.configPath %s has a top-level \"tls:\" block, which LiveKit v1.12+ refuses (\"field tls not found\"): remove it; terminate TLS in front of LiveKit or use turn.cert_file/key_file for TURN", ErrConfig, path)
	}
	var sc staticConfig
	if err := yaml.Unmarshal(data, &sc); err != nil {
		return 0, fmt.Errorf("%w: livekit.configPath %s: %v", ErrConfig, path, err)
	}
	keys := sc.Keys
	if len(keys) == 0 && sc.KeyFile != "" {
		kf, err := os.ReadFile(sc.KeyFile)
		if err != nil {
			return 0, fmt.Errorf("%w: livekit.configPath %s: key_file: %v", ErrConfig, path, err)
		}
		if err := yaml.Unmarshal(kf, &keys); err != nil {
			return 0, fmt.Errorf("%w: livekit.configPath %s: key_file %s: %v", ErrConfig, path, sc.KeyFile, err)
		}
	}
	secret, ok := keys[apiKey]
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: livekit.configPath %s does not list Parley's API key %q under keys: add \"%s: <livekit.apiSecret>\" or set livekit.apiKey/apiSecret to a pair it lists", ErrConfig, path, apiKey, apiKey)
	case secret != apiSecret:
		return 0, fmt.Errorf("%w: livekit.configPath %s gives API key %q a different secret than livekit.apiSecret: make them equal", ErrConfig, path, apiKey)
	}
	if sc.Port == 0 {
		sc.Port = 7880
	}
	return sc.Port, nil
}

// portSpec is one port LiveKit will bind.
type portSpec struct {
	key   string // Parley's config key, for the message
	proto string // tcp | udp
	port  int
}

// checkPortsFree binds each port briefly so a taken one is named before LiveKit starts
// (LiveKit would exit with a bare "address already in use").
func checkPortsFree(host string, ports []portSpec) error {
	for _, p := range ports {
		if p.port <= 0 {
			continue
		}
		addr := net.JoinHostPort(host, strconv.Itoa(p.port))
		var err error
		if p.proto == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp", addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp", addr); err == nil {
				l.Close()
			}
		}
		if err != nil {
			hint := "another process (an old LiveKit or Parley?) holds it; stop it or change " + p.key
			if !strings.Contains(err.Error(), "address already in use") {
				hint = err.Error()
			}
			return fmt.Errorf("%w: LiveKit needs %s port %d (%s) on %s: %s", ErrPortInUse, strings.ToUpper(p.proto), p.port, p.key, orDefault(host, "all interfaces"), hint)
		}
	}
	return nil
}
