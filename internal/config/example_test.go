package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped example must load as it is: it documents every key with its default.
func TestExampleConfigLoads(t *testing.T) {
	cfg, _, err := Load(filepath.Join("..", "..", "config.yaml.example"), env(nil))
	if err != nil {
		t.Fatalf("config.yaml.example: %v", err)
	}
	def := Default()
	def.deriveDefaults()
	if Masked(cfg) != Masked(def) {
		t.Errorf("config.yaml.example drifted from the defaults:\n%s\nvs\n%s", Masked(cfg), Masked(def))
	}
}

// The README's configuration reference names every key and its environment variable.
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(readme), "`"+k.Key+"` | `"+k.Env+"`") {
			t.Errorf("README.md does not document %s (%s)", k.Key, k.Env)
		}
	}
}
