package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"
)

// SecretsFile is where generated secrets live inside the data directory.
const SecretsFile = "secrets.yaml"

type generatedSecrets struct {
	JWTSecret        string `yaml:"jwtSecret"`
	LiveKitAPIKey    string `yaml:"livekitApiKey"`
	LiveKitAPISecret string `yaml:"livekitApiSecret"`
}

// EnsureSecrets fills the secrets left empty (the JWT secret, and the LiveKit key pair in
// embedded mode) from <dataDir>/secrets.yaml, generating and persisting them (mode 0600)
// the first time, so a restart keeps sessions and tokens valid. It reports whether it wrote.
func EnsureSecrets(c *Config) (bool, error) {
	if err := PrivateDataDir(c.Server.DataDir); err != nil {
		return false, err
	}
	needLK := !c.LiveKit.External && (c.LiveKit.APIKey == "" || c.LiveKit.APISecret == "")
	if c.Auth.JWTSecret != "" && !needLK {
		return false, nil
	}
	path := filepath.Join(c.Server.DataDir, SecretsFile)
	var s generatedSecrets
	if data, err := os.ReadFile(path); err == nil {
		if err := yaml.Unmarshal(data, &s); err != nil {
			return false, fmt.Errorf("%s is corrupt (%v): fix or delete it (everyone will be logged out)", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return false, fmt.Errorf("%s is readable by others and could not be fixed: %w", path, err)
			}
		}
	} else if !os.IsNotExist(err) {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	before := s
	fill := func(v *string, n int, prefix string) error {
		if *v != "" {
			return nil
		}
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		*v = prefix + base64.RawURLEncoding.EncodeToString(b)
		return nil
	}
	if err := fill(&s.JWTSecret, 48, ""); err != nil {
		return false, err
	}
	if err := fill(&s.LiveKitAPIKey, 9, "API"); err != nil {
		return false, err
	}
	if err := fill(&s.LiveKitAPISecret, 36, ""); err != nil {
		return false, err
	}
	if c.Auth.JWTSecret == "" {
		c.Auth.JWTSecret = s.JWTSecret
	}
	if needLK {
		if c.LiveKit.APIKey == "" {
			c.LiveKit.APIKey = s.LiveKitAPIKey
		}
		if c.LiveKit.APISecret == "" {
			c.LiveKit.APISecret = s.LiveKitAPISecret
		}
	}
	if reflect.DeepEqual(before, s) {
		return false, nil
	}
	data, _ := yaml.Marshal(s)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return false, fmt.Errorf("write %s: %w", tmp, err)
	}
	return true, os.Rename(tmp, path)
}

// PrivateDataDir creates the data folder, or narrows an existing one, to 0700: it holds the
// database, the generated secrets and the recordings, whoever created it (an image's
// mkdir, an operator's umask).
func PrivateDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("server.dataDir %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("server.dataDir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("server.dataDir %s is not a directory: point server.dataDir at a folder", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("server.dataDir %s is open to other users and could not be made private (%w): chmod 700 it", dir, err)
		}
	}
	return nil
}

// Masked returns the effective configuration as YAML with every secret replaced by ****.
func Masked(c Config) string {
	_ = walk(reflect.ValueOf(&c).Elem(), "", func(key string, f reflect.Value, secret bool) error {
		if secret && f.Kind() == reflect.String && f.String() != "" {
			f.SetString("****")
		}
		return nil
	})
	// walk does not descend into lists; the providers' client secrets are the one secret there.
	c.Auth.OIDC = append([]OIDCProvider(nil), c.Auth.OIDC...)
	for i := range c.Auth.OIDC {
		if c.Auth.OIDC[i].ClientSecret != "" {
			c.Auth.OIDC[i].ClientSecret = "****"
		}
	}
	data, _ := yaml.Marshal(c)
	return string(data)
}
