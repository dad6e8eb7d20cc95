package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/parley/parley/internal/config"
	"gopkg.in/yaml.v3"
)

// contractEnvNames derives every accepted variable from internal/config: each key's PARLEY_*
// name, the _FILE variant of secrets, and the LIVEKIT_CONFIG_PATH alias.
func contractEnvNames() (names map[string]bool, secrets map[string]bool) {
	names, secrets = map[string]bool{"LIVEKIT_CONFIG_PATH": true}, map[string]bool{}
	for _, k := range config.Keys() {
		names[k.Env] = true
		if k.Secret {
			names[k.Env+"_FILE"] = true
			secrets[k.Env] = true
		}
	}
	return names, secrets
}

// configDocEnvNames reads the key list of shared/CONFIG.md (its YAML block) and returns the
// environment names it documents; ok is false when the file is absent.
func configDocEnvNames(t *testing.T, root string) (map[string]bool, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "..", "shared", "CONFIG.md"))
	if os.IsNotExist(err) {
		return nil, false
	} else if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("shared/CONFIG.md has no ```yaml block")
	}
	var tree map[string]any
	if err := yaml.Unmarshal(m[1], &tree); err != nil {
		t.Fatalf("shared/CONFIG.md's YAML block: %v", err)
	}
	names := map[string]bool{}
	var flatten func(prefix string, v any)
	flatten = func(prefix string, v any) {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			for k, e := range sub {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				flatten(key, e)
			}
			return
		}
		names[config.EnvName(prefix)] = true
	}
	flatten("", tree)
	return names, true
}

func TestParleyEnvironment(t *testing.T) {
	d := loadDeployment(t)
	valid, secrets := contractEnvNames()
	documented, haveDoc := configDocEnvNames(t, d.root)
	if !haveDoc {
		t.Log("!!! ../shared/CONFIG.md is absent: checking names against internal/config only")
	}
	env := d.service(t, "parley").Environment
	raw := d.raw.Services["parley"].Environment
	// The Dockerfile's ENV defaults are part of the container's environment too.
	for k, v := range dockerfileEnv(t, d.root) {
		if _, set := env[k]; !set {
			env[k], raw[k] = v, v
		}
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasPrefix(name, "PARLEY_") && name != "LIVEKIT_CONFIG_PATH" {
			continue
		}
		if !valid[name] {
			t.Errorf("parley: %s is not a configuration variable (internal/config knows no such key)", name)
			continue
		}
		if haveDoc && !documented[strings.TrimSuffix(name, "_FILE")] {
			t.Errorf("parley: %s is not in shared/CONFIG.md's key list", name)
		}
		if secrets[name] && !strings.Contains(raw[name], "${") {
			t.Errorf("parley: secret %s is written in docker-compose.yml; take it from .env", name)
		}
	}

	// The values must also pass Parley's own validation, exactly as the container loads them.
	cfg, _, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("parley's environment does not load: %v", err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"livekit.external", cfg.LiveKit.External, true},
		{"database.driver", cfg.Database.Driver, "postgres"},
		{"recording.backend", cfg.Recording.Backend, "egress"},
		{"recording.storage.type", cfg.Recording.Storage.Type, "s3"},
		{"livekit.apiKey", cfg.LiveKit.APIKey, d.env["LIVEKIT_API_KEY"]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("parley %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if !strings.Contains(cfg.Database.DSN, "@postgres:5432/") {
		t.Errorf("database.dsn %q does not point at the postgres service", cfg.Database.DSN)
	}
	if len(cfg.Auth.JWTSecret) < 32 {
		t.Errorf("the example JWT secret is %d characters; Parley needs 32", len(cfg.Auth.JWTSecret))
	}
}

// dockerfileEnv reads the ENV instructions of the Dockerfile (KEY=VALUE form).
func dockerfileEnv(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "ENV ") {
			continue
		}
		for _, f := range strings.Fields(strings.TrimPrefix(line, "ENV ")) {
			if k, v, ok := strings.Cut(f, "="); ok {
				out[k] = v
			}
		}
	}
	return out
}

func TestConfigDocNames(t *testing.T) {
	// The check above is only as good as the CONFIG.md parser: a known key must be found.
	documented, ok := configDocEnvNames(t, loadDeployment(t).root)
	if !ok {
		t.Skip("!!! ../shared/CONFIG.md is absent: SKIPPING")
	}
	for _, name := range []string{"PARLEY_LIVEKIT_API_KEY", "PARLEY_SERVER_TLS_CERT", "PARLEY_RECORDING_STORAGE_ACCESS_KEY_ID", "PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD"} {
		if !documented[name] {
			t.Errorf("CONFIG.md parser did not find %s", name)
		}
	}
}
