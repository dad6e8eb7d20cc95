package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// instanceFile holds this data directory's instance id: the built-in recorder records on
// the instance whose data directory holds the track files, so the id must survive a new
// hostname (a re-created container) as long as the data directory does.
const instanceFile = "instance-id"

// dataDirInstance reads the data directory's instance id, creating it on first use.
func dataDirInstance(dataDir string) (string, error) {
	p := filepath.Join(dataDir, instanceFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("server.dataDir: read %s: %w", p, err)
	}
	id := "parley-" + uuid.NewString()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("server.dataDir %s: %w", dataDir, err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server.dataDir: write %s: %w (the directory must be writable)", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("server.dataDir: write %s: %w", p, err)
	}
	return id, nil
}
