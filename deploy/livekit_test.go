package deploy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lkconfig "github.com/livekit/livekit-server/pkg/config"
	"github.com/urfave/cli/v3"
	"gopkg.in/yaml.v3"
)

// liveKitBaseFlags mirrors baseFlags of livekit-server's cmd/server/main.go (a main package,
// so not importable): the flags LiveKit defines by hand, besides those GenerateCLIFlags makes
// from the config struct (LIVEKIT_<PATH>, e.g. LIVEKIT_WEBHOOK_API_KEY).
func liveKitBaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "bind"},
		&cli.StringFlag{Name: "config"},
		&cli.StringFlag{Name: "config-body", Sources: cli.EnvVars("LIVEKIT_CONFIG")},
		&cli.StringFlag{Name: "key-file"},
		&cli.StringFlag{Name: "keys", Sources: cli.EnvVars("LIVEKIT_KEYS")},
		&cli.StringFlag{Name: "region", Sources: cli.EnvVars("LIVEKIT_REGION")},
		&cli.StringFlag{Name: "node-ip", Sources: cli.EnvVars("NODE_IP")},
		&cli.StringFlag{Name: "udp-port", Sources: cli.EnvVars("UDP_PORT")},
		&cli.StringFlag{Name: "redis-host", Sources: cli.EnvVars("REDIS_HOST")},
		&cli.StringFlag{Name: "redis-password", Sources: cli.EnvVars("REDIS_PASSWORD")},
		&cli.StringFlag{Name: "turn-cert", Sources: cli.EnvVars("LIVEKIT_TURN_CERT")},
		&cli.StringFlag{Name: "turn-key", Sources: cli.EnvVars("LIVEKIT_TURN_KEY")},
		&cli.StringFlag{Name: "cpuprofile"},
		&cli.StringFlag{Name: "memprofile"},
		&cli.BoolFlag{Name: "dev"},
		&cli.BoolFlag{Name: "disable-strict-config"},
	}
}

// loadLiveKit runs LiveKit's own configuration path (cli flags from the environment, then
// config.NewConfig in strict mode, then ValidateKeys) on a YAML document and an environment.
func loadLiveKit(t *testing.T, yamlDoc string, env map[string]string) (*lkconfig.Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	base := liveKitBaseFlags()
	generated, err := lkconfig.GenerateCLIFlags(base, true)
	if err != nil {
		t.Fatalf("livekit GenerateCLIFlags: %v", err)
	}
	var conf *lkconfig.Config
	cmd := &cli.Command{
		Name: "livekit-server", Flags: append(base, generated...), Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(_ context.Context, c *cli.Command) error {
			var err error
			if conf, err = lkconfig.NewConfig(yamlDoc, true, c, base); err != nil {
				return err
			}
			return conf.ValidateKeys()
		},
	}
	if err := cmd.Run(context.Background(), []string{"livekit-server"}); err != nil {
		return nil, err
	}
	// Every variable the compose file sets must be one LiveKit reads, or it is silently lost.
	known := map[string]bool{}
	for _, f := range cmd.Flags {
		if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, name := range ev.GetEnvVars() {
				known[name] = true
			}
		}
	}
	for k := range env {
		if !known[k] {
			t.Errorf("livekit: environment variable %s is not read by livekit-server", k)
		}
	}
	return conf, nil
}

// liveKitYAML returns the host file the livekit service mounts as its --config.
func liveKitYAML(t *testing.T, d *deployment) string {
	t.Helper()
	lk := d.service(t, "livekit")
	cmd := strings.Join(lk.Command, " ")
	if !strings.HasPrefix(cmd, "--config ") {
		t.Fatalf("livekit command %q does not pass --config", cmd)
	}
	inContainer := strings.TrimPrefix(cmd, "--config ")
	for _, v := range lk.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == inContainer {
			data, err := os.ReadFile(filepath.Join(d.root, parts[0]))
			if err != nil {
				t.Fatalf("livekit mounts %s: %v", parts[0], err)
			}
			return string(data)
		}
	}
	t.Fatalf("livekit reads %s, which no volume mounts", inContainer)
	return ""
}

func TestLiveKitConfig(t *testing.T) {
	d := loadDeployment(t)
	doc := liveKitYAML(t, d)
	if strings.Contains(doc, "${") {
		t.Fatalf("deploy/livekit.yaml uses ${...}: LiveKit does not expand variables in its config file; pass values through its environment variables")
	}
	env := d.service(t, "livekit").Environment
	conf, err := loadLiveKit(t, doc, env)
	if err != nil {
		t.Fatalf("LiveKit refuses its configuration: %v", err)
	}
	key, secret := d.env["LIVEKIT_API_KEY"], d.env["LIVEKIT_API_SECRET"]
	if got := conf.Keys[key]; got != secret {
		t.Errorf("livekit keys[%s] = %q, want the .env secret", key, got)
	}
	if len(secret) < 32 {
		t.Errorf("the example LiveKit secret is %d characters; LiveKit wants 32", len(secret))
	}
	if conf.WebHook.APIKey != key {
		t.Errorf("webhook.api_key = %q, want %q (the key Parley verifies signatures with)", conf.WebHook.APIKey, key)
	}
	parley := d.service(t, "parley").Environment
	_, listenPort, _ := net.SplitHostPort(parley["PARLEY_SERVER_LISTEN"])
	wantHook := "http://parley:" + listenPort + "/api/livekit/webhook"
	if len(conf.WebHook.URLs) != 1 || conf.WebHook.URLs[0] != wantHook {
		t.Errorf("webhook.urls = %v, want [%s]", conf.WebHook.URLs, wantHook)
	}
	if conf.Redis.Address != "redis:6379" || conf.Redis.Password != d.env["REDIS_PASSWORD"] {
		t.Errorf("redis = %s (password set: %v), want redis:6379 with REDIS_PASSWORD", conf.Redis.Address, conf.Redis.Password != "")
	}
	if u, err := url.Parse(parley["PARLEY_LIVEKIT_INTERNAL_HOST"]); err != nil || u.Host != "livekit:7880" || conf.Port != 7880 {
		t.Errorf("parley's livekit.internalHost %q must reach the livekit service's port %d", parley["PARLEY_LIVEKIT_INTERNAL_HOST"], conf.Port)
	}
	rtc := conf.RTC
	if rtc.NodeIP.V4 != d.env["LIVEKIT_NODE_IP"] || rtc.UseExternalIP {
		t.Errorf("rtc node IP = %q (use_external_ip %v), want %s from NODE_IP", rtc.NodeIP.V4, rtc.UseExternalIP, d.env["LIVEKIT_NODE_IP"])
	}
	if rtc.TCPPort != 7881 || rtc.ICEPortRangeStart != 50000 || rtc.ICEPortRangeEnd != 60000 {
		t.Errorf("rtc ports = tcp %d, udp %d-%d; docs/scaling.md and the published ports say 7881, 50000-60000",
			rtc.TCPPort, rtc.ICEPortRangeStart, rtc.ICEPortRangeEnd)
	}
	if !conf.TURN.Enabled || conf.TURN.UDPPort != 3478 || conf.TURN.TLSPort != 5349 || conf.TURN.Domain != d.env["LIVEKIT_TURN_DOMAIN"] {
		t.Errorf("turn = %+v, want enabled on 3478/udp and 5349 for %s", conf.TURN, d.env["LIVEKIT_TURN_DOMAIN"])
	}
}

func TestLiveKitConfigStrict(t *testing.T) {
	// The proof above is worth something only if the loader refuses what LiveKit would refuse.
	d := loadDeployment(t)
	doc := liveKitYAML(t, d)
	env := d.service(t, "livekit").Environment
	for name, broken := range map[string]string{
		"unknown top-level key": doc + "\ntls:\n  cert: x\n",
		"unknown nested key":    strings.Replace(doc, "redis:\n", "redis:\n  adress: redis:6379\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadLiveKit(t, broken, env); err == nil {
				t.Fatalf("LiveKit's loader accepted a config with an %s", name)
			}
		})
	}
}

// egressConfig is the part of livekit/egress's ServiceConfig (pkg/config) this deployment
// sets; egress is not a Go dependency of Parley, so its loader cannot run here.
type egressConfig struct {
	APIKey              string `yaml:"api_key"`
	APISecret           string `yaml:"api_secret"`
	WSURL               string `yaml:"ws_url"`
	Insecure            bool   `yaml:"insecure"`
	HealthPort          int    `yaml:"health_port"`
	EnableChromeSandbox bool   `yaml:"enable_chrome_sandbox"`
	Logging             struct {
		Level string `yaml:"level"`
	} `yaml:"logging"`
	Redis struct {
		Address  string `yaml:"address"`
		Password string `yaml:"password"`
	} `yaml:"redis"`
	S3 struct {
		AccessKey      string `yaml:"access_key"`
		Secret         string `yaml:"secret"`
		Region         string `yaml:"region"`
		Endpoint       string `yaml:"endpoint"`
		Bucket         string `yaml:"bucket"`
		ForcePathStyle bool   `yaml:"force_path_style"`
	} `yaml:"s3"`
}

func TestEgressConfig(t *testing.T) {
	d := loadDeployment(t)
	body := d.service(t, "egress").Environment["EGRESS_CONFIG_BODY"]
	var eg egressConfig
	dec := yaml.NewDecoder(bytes.NewReader([]byte(body)))
	dec.KnownFields(true)
	if err := dec.Decode(&eg); err != nil {
		t.Fatalf("EGRESS_CONFIG_BODY (after substitution): %v", err)
	}
	parley := d.service(t, "parley").Environment
	checks := []struct{ what, got, want string }{
		{"api_key", eg.APIKey, d.env["LIVEKIT_API_KEY"]},
		{"api_secret", eg.APISecret, d.env["LIVEKIT_API_SECRET"]},
		{"ws_url", eg.WSURL, "ws://livekit:7880"},
		{"redis.address", eg.Redis.Address, "redis:6379"},
		{"redis.password", eg.Redis.Password, d.env["REDIS_PASSWORD"]},
		{"s3.bucket", eg.S3.Bucket, parley["PARLEY_RECORDING_STORAGE_BUCKET"]},
		{"s3.endpoint", eg.S3.Endpoint, parley["PARLEY_RECORDING_STORAGE_ENDPOINT"]},
		{"s3.access_key", eg.S3.AccessKey, parley["PARLEY_RECORDING_STORAGE_ACCESS_KEY_ID"]},
	}
	for _, c := range checks {
		if c.got != c.want || c.got == "" {
			t.Errorf("egress %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !eg.S3.ForcePathStyle {
		t.Errorf("egress s3.force_path_style must be true for MinIO")
	}
}
