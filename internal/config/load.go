package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Source says where the configuration came from, for the startup log.
type Source struct {
	File string // "" when only defaults and environment were used
}

// Load builds the effective configuration: defaults < file < environment. path is the
// --config flag; when empty, ./config.yaml is used if it exists. getenv reads the environment.
func Load(path string, getenv func(string) string) (Config, Source, error) {
	cfg := Default()
	src := Source{}
	explicit := path != ""
	if !explicit {
		if _, err := os.Stat("config.yaml"); err == nil {
			path = "config.yaml"
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, src, fmt.Errorf("config: read %s: %w", path, err)
		}
		if err := decodeStrict(data, &cfg); err != nil {
			return cfg, src, fmt.Errorf("config %s: %w", path, err)
		}
		src.File = path
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, src, err
	}
	cfg.deriveDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, src, err
	}
	return cfg, src, nil
}

// decodeStrict refuses unknown keys, naming the key and its line.
func decodeStrict(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s", strings.Join(humanizeYAML(te.Errors), "; "))
		}
		return err
	}
	return nil
}

// humanizeYAML turns yaml.v3's "field x not found in type config.Server" into the key name.
func humanizeYAML(errs []string) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		if i := strings.Index(e, " not found in type "); i > 0 && strings.Contains(e, ": field ") {
			line := e[:strings.Index(e, ": field ")]
			key := e[strings.Index(e, ": field ")+len(": field ") : i]
			section := strings.TrimPrefix(e[i+len(" not found in type "):], "config.")
			e = fmt.Sprintf("%s: unknown key %q (in section %s); see config.yaml.example or the README's Configuration section for the known keys", line, key, section)
		}
		out = append(out, e)
	}
	return out
}

// applyEnv walks the struct and applies PARLEY_* variables, and their _FILE variants for secrets.
func applyEnv(cfg *Config, getenv func(string) string) error {
	if v := getenv("LIVEKIT_CONFIG_PATH"); v != "" && getenv(EnvName("livekit.configPath")) == "" {
		cfg.LiveKit.ConfigPath = v
	}
	return walk(reflect.ValueOf(cfg).Elem(), "", func(key string, f reflect.Value, secret bool) error {
		name := EnvName(key)
		val, ok := getenv(name), getenv(name) != ""
		if secret {
			if file := getenv(name + "_FILE"); file != "" && !ok {
				data, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("config: %s_FILE: %w", name, err)
				}
				val, ok = strings.TrimRight(string(data), "\r\n"), true
			}
		}
		if !ok {
			return nil
		}
		if err := setFromString(f, val); err != nil {
			return fmt.Errorf("config: environment %s=%q: %v", name, maskIf(secret, val), err)
		}
		return nil
	})
}

func maskIf(secret bool, v string) string {
	if secret {
		return "****"
	}
	return v
}

// walk visits every leaf key with its dotted path.
func walk(v reflect.Value, prefix string, fn func(key string, f reflect.Value, secret bool) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			if err := walk(f, key, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(key, f, sf.Tag.Get("secret") == "true"); err != nil {
			return err
		}
	}
	return nil
}

var durationType = reflect.TypeOf(Duration(0))

func setFromString(f reflect.Value, s string) error {
	if f.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (use e.g. \"30s\", \"15m\")")
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean (use true or false)")
		}
		f.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		f.SetInt(int64(n))
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("a list of settings: set it in the config file")
		}
		var items []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}

// EnvName maps a dotted key to its environment variable: livekit.apiKey -> PARLEY_LIVEKIT_API_KEY.
func EnvName(key string) string {
	var parts []string
	for _, seg := range strings.Split(key, ".") {
		parts = append(parts, splitCamel(seg)...)
	}
	return "PARLEY_" + strings.ToUpper(strings.Join(parts, "_"))
}

// splitCamel splits "skipTLSVerify" into skip, TLS, Verify and "accessKeyID" into access, Key, ID.
func splitCamel(s string) []string {
	r := []rune(s)
	var out []string
	start := 0
	for i := 1; i < len(r); i++ {
		upper := unicode.IsUpper(r[i])
		prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
		nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
		if upper && (prevLower || (unicode.IsUpper(r[i-1]) && nextLower)) {
			out = append(out, string(r[start:i]))
			start = i
		}
	}
	return append(out, string(r[start:]))
}

// Keys lists every key with its environment name, default and whether it is a secret.
func Keys() []KeyInfo {
	var out []KeyInfo
	d := Default()
	_ = walk(reflect.ValueOf(&d).Elem(), "", func(key string, f reflect.Value, secret bool) error {
		out = append(out, KeyInfo{Key: key, Env: EnvName(key), Default: fmt.Sprint(f.Interface()), Secret: secret})
		return nil
	})
	return out
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	Key, Env, Default string
	Secret            bool
}
