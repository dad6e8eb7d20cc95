package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceDefaultFileEnv(t *testing.T) {
	p := writeFile(t, "server:\n  listen: \"127.0.0.1:9000\"\nauth:\n  accessTTL: 5m\nlivekit:\n  port: 7990\n")
	cfg, src, err := Load(p, env(map[string]string{"PARLEY_LIVEKIT_PORT": "7991", "PARLEY_LOG_FORMAT": "json"}))
	if err != nil {
		t.Fatal(err)
	}
	if src.File != p {
		t.Errorf("source = %q, want %q", src.File, p)
	}
	if cfg.Server.Listen != "127.0.0.1:9000" {
		t.Errorf("file value lost: listen = %q", cfg.Server.Listen)
	}
	if cfg.LiveKit.Port != 7991 {
		t.Errorf("env must beat file: port = %d, want 7991", cfg.LiveKit.Port)
	}
	if cfg.Auth.AccessTTL.D() != 5*time.Minute || cfg.Auth.RefreshTTL.D() != 720*time.Hour {
		t.Errorf("ttl = %v/%v", cfg.Auth.AccessTTL, cfg.Auth.RefreshTTL)
	}
	if cfg.Log.Format != "json" || cfg.Log.Level != "info" {
		t.Errorf("log = %+v", cfg.Log)
	}
	if cfg.LiveKit.Host != "ws://localhost:7991" || cfg.LiveKit.InternalHost != "http://127.0.0.1:7991" {
		t.Errorf("derived hosts = %q %q", cfg.LiveKit.Host, cfg.LiveKit.InternalHost)
	}
}

func TestZeroConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, src, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if src.File != "" || cfg.Database.Driver != "sqlite" || cfg.Database.DSN != filepath.Join("data", "parley.db") {
		t.Errorf("defaults: file=%q driver=%q dsn=%q", src.File, cfg.Database.Driver, cfg.Database.DSN)
	}
	if cfg.LiveKit.External || cfg.Recording.Backend != "builtin" || cfg.Recording.Storage.Root != filepath.Join("data", "recordings") {
		t.Errorf("defaults: %+v", cfg.Recording)
	}
}

func TestEnvNames(t *testing.T) {
	for key, want := range map[string]string{
		"livekit.apiKey":                    "PARLEY_LIVEKIT_API_KEY",
		"server.listen":                     "PARLEY_SERVER_LISTEN",
		"server.publicURL":                  "PARLEY_SERVER_PUBLIC_URL",
		"livekit.skipTLSVerify":             "PARLEY_LIVEKIT_SKIP_TLS_VERIFY",
		"livekit.nodeIP":                    "PARLEY_LIVEKIT_NODE_IP",
		"livekit.rtc.udpPortStart":          "PARLEY_LIVEKIT_RTC_UDP_PORT_START",
		"recording.storage.accessKeyID":     "PARLEY_RECORDING_STORAGE_ACCESS_KEY_ID",
		"auth.bootstrapAdmin.email":         "PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL",
		"auth.jwtSecret":                    "PARLEY_AUTH_JWT_SECRET",
		"recording.storage.secretAccessKey": "PARLEY_RECORDING_STORAGE_SECRET_ACCESS_KEY",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestSecretFileVariantAndAlias(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "jwt")
	os.WriteFile(secretFile, []byte(strings.Repeat("s", 40)+"\n"), 0o600)
	cfg, _, err := Load("", env(map[string]string{
		"PARLEY_AUTH_JWT_SECRET_FILE": secretFile,
		"LIVEKIT_CONFIG_PATH":         "/etc/livekit.yaml",
		"PARLEY_SERVER_DATA_DIR":      t.TempDir(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.JWTSecret != strings.Repeat("s", 40) {
		t.Errorf("jwtSecret from _FILE = %q", cfg.Auth.JWTSecret)
	}
	if cfg.LiveKit.ConfigPath != "/etc/livekit.yaml" {
		t.Errorf("LIVEKIT_CONFIG_PATH alias ignored: %q", cfg.LiveKit.ConfigPath)
	}
}

func TestStrictDecoding(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"unknown top-level key", "server:\n  listen: \":1\"\ntls:\n  cert: x\n", `line 3: unknown key "tls"`},
		{"unknown nested key", "livekit:\n  port: 7880\n  apikey: x\n", `line 3: unknown key "apikey" (in section LiveKit)`},
		{"bad duration", "auth:\n  accessTTL: soon\n", `"soon" is not a duration`},
		{"bad type", "livekit:\n  port: many\n", "line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(writeFile(t, tc.body), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidationNamesFieldAndFix(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"driver", map[string]string{"PARLEY_DATABASE_DRIVER": "mysql"}, "database.driver (PARLEY_DATABASE_DRIVER): \"mysql\" is not supported: use sqlite or postgres"},
		{"postgres dsn", map[string]string{"PARLEY_DATABASE_DRIVER": "postgres"}, "database.dsn"},
		{"short jwt", map[string]string{"PARLEY_AUTH_JWT_SECRET": "short"}, "auth.jwtSecret (PARLEY_AUTH_JWT_SECRET): is 5 characters; use at least 32"},
		{"external needs keys", map[string]string{"PARLEY_LIVEKIT_EXTERNAL": "true"}, "livekit.apiKey (PARLEY_LIVEKIT_API_KEY): is required with livekit.external: true"},
		{"host scheme", map[string]string{"PARLEY_LIVEKIT_HOST": "http://lk:7880"}, "must start with ws:// or wss://"},
		{"internal scheme", map[string]string{"PARLEY_LIVEKIT_INTERNAL_HOST": "ws://lk:7880"}, "must start with http:// or https://"},
		{"udp range", map[string]string{"PARLEY_LIVEKIT_RTC_UDP_PORT_END": "100"}, "livekit.rtc.udpPortEnd"},
		{"backend", map[string]string{"PARLEY_RECORDING_BACKEND": "gstreamer"}, "recording.backend"},
		{"s3 bucket", map[string]string{"PARLEY_RECORDING_STORAGE_TYPE": "s3"}, "recording.storage.bucket"},
		{"bool env", map[string]string{"PARLEY_LIVEKIT_EXTERNAL": "yes please"}, "PARLEY_LIVEKIT_EXTERNAL=\"yes please\": not a boolean"},
		{"listen", map[string]string{"PARLEY_SERVER_LISTEN": "8090"}, "server.listen"},
		{"log level", map[string]string{"PARLEY_LOG_LEVEL": "loud"}, "log.level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load("", env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSecretsGeneratedOncePersisted0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg, _, err := Load("", env(map[string]string{"PARLEY_SERVER_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	wrote, err := EnsureSecrets(&cfg)
	if err != nil || !wrote {
		t.Fatalf("EnsureSecrets = %v, %v", wrote, err)
	}
	if len(cfg.Auth.JWTSecret) < 32 || len(cfg.LiveKit.APISecret) < 32 || cfg.LiveKit.APIKey == "" {
		t.Fatalf("secrets too short: jwt %d, lk %d", len(cfg.Auth.JWTSecret), len(cfg.LiveKit.APISecret))
	}
	fi, err := os.Stat(filepath.Join(dir, SecretsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", di.Mode().Perm())
	}
	again, _, _ := Load("", env(map[string]string{"PARLEY_SERVER_DATA_DIR": dir}))
	wrote, err = EnsureSecrets(&again)
	if err != nil || wrote {
		t.Fatalf("second EnsureSecrets wrote=%v err=%v; want reuse", wrote, err)
	}
	if again.Auth.JWTSecret != cfg.Auth.JWTSecret || again.LiveKit.APISecret != cfg.LiveKit.APISecret {
		t.Fatal("secrets changed across restarts: everyone would be logged out")
	}
	// A file made readable by others is tightened.
	os.Chmod(filepath.Join(dir, SecretsFile), 0o644)
	third, _, _ := Load("", env(map[string]string{"PARLEY_SERVER_DATA_DIR": dir}))
	if _, err := EnsureSecrets(&third); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, SecretsFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode not tightened: %v", fi.Mode().Perm())
	}
	// Configured secrets win and are not generated.
	set, _, _ := Load("", env(map[string]string{"PARLEY_SERVER_DATA_DIR": t.TempDir(), "PARLEY_AUTH_JWT_SECRET": strings.Repeat("j", 32),
		"PARLEY_LIVEKIT_API_KEY": "k", "PARLEY_LIVEKIT_API_SECRET": strings.Repeat("l", 32)}))
	if wrote, _ := EnsureSecrets(&set); wrote || set.Auth.JWTSecret != strings.Repeat("j", 32) {
		t.Errorf("configured secrets overridden (wrote=%v)", wrote)
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	cfg := Default()
	cfg.Auth.JWTSecret, cfg.LiveKit.APISecret = "topsecret-jwt", "topsecret-lk"
	out := Masked(cfg)
	if strings.Contains(out, "topsecret") || !strings.Contains(out, "jwtSecret: '****'") {
		t.Fatalf("masked output leaks or lacks mask:\n%s", out)
	}
}

func TestKeysCoverContract(t *testing.T) {
	have := map[string]bool{}
	for _, k := range Keys() {
		have[k.Key] = true
	}
	for _, k := range []string{"server.listen", "server.publicURL", "server.dataDir", "server.tls.cert", "server.trustedProxies",
		"database.driver", "database.dsn", "auth.jwtSecret", "auth.accessTTL", "auth.refreshTTL", "auth.allowRegistration",
		"auth.bootstrapAdmin.email", "livekit.external", "livekit.binary", "livekit.configPath", "livekit.host",
		"livekit.internalHost", "livekit.apiKey", "livekit.apiSecret", "livekit.skipTLSVerify", "livekit.nodeIP",
		"livekit.port", "livekit.rtc.tcpPort", "livekit.turn.domain", "livekit.redis.address", "livekit.emptyTimeout",
		"livekit.departureTimeout", "livekit.reconcileInterval", "recording.backend", "recording.storage.type",
		"recording.storage.pathStyle", "recording.autoRooms", "recording.startTimeout", "recording.retentionDays",
		"recording.keepTracks", "log.level", "log.format"} {
		if !have[k] {
			t.Errorf("contract key %s missing", k)
		}
	}
}

func TestDataDirMadePrivate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(dir string) error
	}{
		{"created by Parley", func(string) error { return nil }},
		{"created open by someone else", func(dir string) error { return os.Mkdir(dir, 0o755) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := tc.prepare(dir); err != nil {
				t.Fatal(err)
			}
			c := Default()
			c.Server.DataDir = dir
			c.Auth.JWTSecret = strings.Repeat("x", 40)
			c.LiveKit.External = true // no secrets to generate: the folder is still made private
			if _, err := EnsureSecrets(&c); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(dir)
			if err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("data dir: %v %v, want 0700", fi.Mode().Perm(), err)
			}
		})
	}
}
