//go:build pprof

package main

// Built only with -tags pprof: a net/http/pprof listener for profiling under load, at the
// address in PARLEY_PPROF_ADDR (loopback only; never in a release build).

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PARLEY_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { slog.Warn("pprof listener stopped", "err", http.ListenAndServe(addr, nil)) }()
}
