package livekit

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDefaultRoute(t *testing.T) {
	const table = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth1	00000000	0101A8C0	0003	0	0	600	00000000	0	0	0
eth0	00000000	010011AC	0003	0	0	100	00000000	0	0	0
eth0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
wg0	00000000	00000000	0000	0	0	0	00000000	0	0	0
`
	got, err := parseDefaultRoute(strings.NewReader(table))
	if err != nil || got != "eth0" {
		t.Fatalf("parseDefaultRoute = %q, %v; want eth0 (lowest metric, up)", got, err)
	}
	if _, err := parseDefaultRoute(strings.NewReader("Iface\tDestination\n")); err == nil {
		t.Errorf("no default route: want an error")
	}
}

func TestResolveNodeIPOrder(t *testing.T) {
	if n := ResolveNodeIP("10.9.8.7", "203.0.113.1"); n.IP != "10.9.8.7" || n.Source != "livekit.nodeIP" {
		t.Errorf("override: %+v", n)
	}
	if n := ResolveNodeIP("", "203.0.113.1"); n.IP != "203.0.113.1" || n.Source != "public host" {
		t.Errorf("public IP literal: %+v", n)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "meet.example.com", "[::1]"} {
		n := ResolveNodeIP("", host)
		if net.ParseIP(n.IP) == nil || n.Source == "public host" {
			t.Errorf("host %q: %+v, want the default-route address or the loopback fallback", host, n)
		}
		if n.Source == "fallback" && n.Warning == "" {
			t.Errorf("fallback without a warning")
		}
	}
}

func TestFindBinary(t *testing.T) {
	dir := t.TempDir()
	exeDir, wd := filepath.Join(dir, "exe"), filepath.Join(dir, "wd")
	for _, d := range []string{exeDir, filepath.Join(wd, "bin")} {
		os.MkdirAll(d, 0o755)
	}
	write := func(p string) string {
		os.WriteFile(p, []byte("#!/bin/sh\necho livekit-server version 9.9.9\n"), 0o755)
		return p
	}
	noEnv := func(string) string { return "" }
	t.Setenv("PATH", dir) // nothing on PATH

	_, err := FindBinary("", noEnv, filepath.Join(exeDir, "parley"), wd)
	if !errors.Is(err, ErrBinaryNotFound) || !strings.Contains(err.Error(), "make livekit") ||
		!strings.Contains(err.Error(), filepath.Join(wd, "bin", "livekit-server")) || !strings.Contains(err.Error(), "PATH") {
		t.Fatalf("nothing found: err = %v, want the places searched and `make livekit`", err)
	}
	inWD := write(filepath.Join(wd, "bin", "livekit-server"))
	if got, err := FindBinary("", noEnv, filepath.Join(exeDir, "parley"), wd); err != nil || got != inWD {
		t.Errorf("working directory: got %q %v", got, err)
	}
	beside := write(filepath.Join(exeDir, "livekit-server"))
	if got, _ := FindBinary("", noEnv, filepath.Join(exeDir, "parley"), wd); got != beside {
		t.Errorf("beside the executable should win over the working directory: got %q", got)
	}
	envBin := write(filepath.Join(dir, "env-livekit"))
	env := func(k string) string {
		if k == BinaryEnv {
			return envBin
		}
		return ""
	}
	if got, _ := FindBinary("", env, filepath.Join(exeDir, "parley"), wd); got != envBin {
		t.Errorf("$%s should win: got %q", BinaryEnv, got)
	}
	if got, _ := FindBinary(inWD, env, "", ""); got != inWD {
		t.Errorf("livekit.binary should win: got %q", got)
	}
	if _, err := FindBinary(filepath.Join(dir, "missing"), env, "", ""); err == nil || !strings.Contains(err.Error(), "livekit.binary") {
		t.Errorf("configured but missing: err = %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o755)
	if _, err := FindBinary(empty, noEnv, "", ""); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("empty placeholder binary: err = %v", err)
	}
	if v, err := BinaryVersion(t.Context(), envBin); err != nil || v != "9.9.9" {
		t.Errorf("BinaryVersion = %q, %v", v, err)
	}
}

func TestCheckStaticConfig(t *testing.T) {
	dir := t.TempDir()
	const secret = "static-secret-0123456789-0123456789-xyz"
	cases := []struct {
		name, yaml, want string
		port             int
	}{
		{"ok", "port: 7990\nkeys:\n  k1: " + secret + "\n", "", 7990},
		{"default port", "keys:\n  k1: " + secret + "\n", "", 7880},
		{"top-level tls", "tls:\n  cert: x\nkeys:\n  k1: " + secret + "\n", `top-level "tls:" block`, 0},
		{"key missing", "keys:\n  other: " + secret + "\n", `does not list Parley's API key "k1"`, 0},
		{"secret differs", "keys:\n  k1: nope-nope-nope-nope-nope-nope-nope-nope\n", "different secret", 0},
		{"not yaml", "keys: [\n", "not valid YAML", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			port, err := CheckStaticConfig(p, "k1", secret)
			if tc.want == "" {
				if err != nil || port != tc.port {
					t.Fatalf("got %d, %v; want %d", port, err, tc.port)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLogSinkLevelsAndReason(t *testing.T) {
	logs := &logBuf{}
	s := &logSink{log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	s.Write([]byte(`{"level":"debug","ts":1,"logger":"livekit","msg":"dbg line","a":1}` + "\n" + `{"level":"warn","msg":"careful"}` + "\n"))
	s.Write([]byte(`{"level":"error","msg":"could not start","error":"boom"}` + "\n" + "TURN domain"))
	s.Write([]byte(" required\n"))
	out := logs.String()
	for _, want := range []string{`level=DEBUG msg="dbg line" a=1`, `level=WARN msg=careful`, `level=ERROR msg="could not start" error=boom`, `level=WARN msg="TURN domain required"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if r := s.reason(); r != "TURN domain required" {
		t.Errorf("reason = %q", r)
	}
}

// Fields keep LiveKit's text (a large integer is not turned into a float), in its order,
// repeated names included; a JSON log gets the same values as JSON; a line below the log's
// level is dropped; a line that only looks like JSON is logged whole.
func TestLogSinkKeepsLiveKitsValues(t *testing.T) {
	line := `{"level":"info","ts":1.5,"msg":"forwarding","room":"a","timestamp":2168455907,"ok":false,"track":{"sid":"TR_1","muted":true},"room":"b"}` + "\n"
	text := &logBuf{}
	s := &logSink{log: slog.New(slog.NewTextHandler(text, nil))}
	s.Write([]byte(line + `{"level":"debug","msg":"hidden"}` + "\n" + `{"level":"info","msg":"cut` + "\n"))
	for _, want := range []string{`msg=forwarding room=a timestamp=2168455907 ok=false track="{\"sid\":\"TR_1\",\"muted\":true}" room=b`,
		`level=WARN msg="{\"level\":\"info\",\"msg\":\"cut"`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text log lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text.String(), "hidden") || strings.Contains(text.String(), "ts=") {
		t.Errorf("text log has a debug line or LiveKit's ts:\n%s", text)
	}
	js := &logBuf{}
	s = &logSink{log: slog.New(slog.NewJSONHandler(js, nil))}
	s.Write([]byte(line))
	if want := `"msg":"forwarding","room":"a","timestamp":2168455907,"ok":false,"track":{"sid":"TR_1","muted":true},"room":"b"}`; !strings.Contains(js.String(), want) {
		t.Errorf("JSON log lacks %s:\n%s", want, js)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := backoff(i, 30*time.Second); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestHintsForKnownFatalMessages(t *testing.T) {
	for reason, want := range map[string]string{
		"TURN domain required": "livekit.turn.domain",
		"could not parse config: yaml: unmarshal errors:\n  line 1: field tls not found in type config.Config": "no top-level tls",
		"listen tcp 127.0.0.1:7880: bind: address already in use":                                              "livekit.port",
		"unable to connect to redis: dial tcp 127.0.0.1:1: connect: connection refused":                        "livekit.redis.address",
		"could not resolve external IP":                                                                        "livekit.nodeIP",
	} {
		if h := hint(reason); !strings.Contains(h, want) {
			t.Errorf("hint(%q) = %q, want it to mention %q", reason, h, want)
		}
	}
}

func TestNewValidatesSchemes(t *testing.T) {
	base := Options{External: true, HTTPURL: "http://lk:7880", PublicURL: "wss://lk.example.com", APIKey: "k", APISecret: "s"}
	for name, mod := range map[string]func(o *Options){
		"internalHost ws": func(o *Options) { o.HTTPURL = "ws://lk:7880" },
		"host http":       func(o *Options) { o.PublicURL = "http://lk.example.com" },
		"no key":          func(o *Options) { o.APIKey = "" },
	} {
		o := base
		mod(&o)
		if _, err := New(o); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New err = %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(base); err != nil {
		t.Errorf("valid external options: %v", err)
	}
}
