// Package testenv tells tests what this machine offers: the local PostgreSQL and Redis, the
// livekit-server binary, free ports. Absent services skip loudly, or fail when
// PARLEY_REQUIRE_SERVICES=1 (CI sets it).
package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Required reports whether absent services must fail tests instead of skipping them.
func Required() bool { return os.Getenv("PARLEY_REQUIRE_SERVICES") == "1" }

// SkipOrFail skips (loudly) or fails the test because a service is missing.
func SkipOrFail(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("!!! %s is not available (%v): SKIPPING. Set PARLEY_REQUIRE_SERVICES=1 to make this a failure.", what, err)
	if Required() {
		t.Fatalf("%s is required (PARLEY_REQUIRE_SERVICES=1) but not available: %v", what, err)
	}
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
}

// PostgresBaseDSN is the local PostgreSQL of developer and CI machines.
func PostgresBaseDSN() string {
	if v := os.Getenv("PARLEY_TEST_POSTGRES_DSN"); v != "" {
		return v
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// RedisAddr is the local Redis; RequireRedis skips or fails when it does not answer.
func RedisAddr() string {
	if v := os.Getenv("PARLEY_TEST_REDIS_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:6379"
}

// RequireRedis skips or fails the test when Redis does not accept connections.
func RequireRedis(t testing.TB) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", RedisAddr(), time.Second)
	if err != nil {
		SkipOrFail(t, "Redis", err)
	}
	c.Close()
	return RedisAddr()
}

// RepoRoot is the module root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// LiveKitBinary returns bin/livekit-server, or fails the test telling how to build it.
func LiveKitBinary(t testing.TB) string {
	t.Helper()
	if v := os.Getenv("PARLEY_LIVEKIT_BIN"); v != "" {
		return v
	}
	p := filepath.Join(RepoRoot(), "bin", "livekit-server")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make livekit` first (make test does it)", p)
	}
	return p
}
