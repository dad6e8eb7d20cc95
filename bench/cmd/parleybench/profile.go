package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profileRun saves a CPU profile of the main instance over the measured part (after its
// warm-up) of run i of figure as <profileDir>/<figure>-run<i>.pprof, so runs can be compared
// frame by frame (go tool pprof -diff_base). It returns at once; the returned func waits for
// the file. Without -profiles, or for figure "", it does nothing.
func (h *harness) profileRun(ctx context.Context, figure string, i int) (wait func()) {
	if h.profileDir == "" || figure == "" {
		return func() {}
	}
	name := fmt.Sprintf("%s-run%d", figure, i)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.fetchProfile(ctx, name); err != nil {
			fmt.Fprintf(os.Stderr, "   profile %s: %v\n", name, err)
		}
	}()
	return func() { <-done }
}

func (h *harness) fetchProfile(ctx context.Context, name string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(h.warmup):
	}
	secs := int(h.duration.Round(time.Second) / time.Second)
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", h.pprofAddr, max(secs, 1))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, res.StatusCode)
	}
	if err := os.MkdirAll(h.profileDir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(h.profileDir, name+".pprof"))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileName makes a figure's name a file name: "join (3 webhook endpoints)" is
// "join-3-webhook-endpoints".
func profileName(figure string) string {
	return strings.Join(strings.FieldsFunc(figure, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}), "-")
}
