package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/memtrim"
	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost parameters.
//
// Passwords are hashed with argon2id rather than bcrypt because:
//   - bcrypt silently ignores everything after the 72nd byte, and Parley accepts passwords
//     of up to 1024 characters (long passphrases must count in full);
//   - argon2id is memory-hard, so each guess costs an attacker's GPU/ASIC memory as well as
//     time, and it is the first choice of RFC 9106 and OWASP.
//
// The defaults are OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): costly for a
// guesser, still quick enough for a login (bench/README.md). Each stored hash carries its
// parameters in the PHC string format ($argon2id$v=19$m=..,t=..,p=..$salt$hash), so raising
// them later keeps old hashes valid.
// Concurrent hashes are bounded (Config.MaxConcurrentHashes) so a login flood queues
// instead of allocating 19 MiB per request.
type HashParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// defaultHashParams are the production parameters (see HashParams), unexported so
// that no other package can weaken them for the whole process.
var defaultHashParams = HashParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var errBadHash = errors.New("unrecognised password hash")

type hasher struct {
	params HashParams
	sem    chan struct{}
	// free returns memory to the OS (memtrim.Release; tests count the calls).
	free   func()
	mu     sync.Mutex
	settle *time.Timer // runs free once no hash has ended for returnAfter
}

// returnAfter is how long hashing must have stopped before its memory is handed back.
// Each hash allocates MemoryKiB (19 MiB) that is garbage once it returns, and the runtime
// gives freed memory back to the OS only over minutes: a burst of sign-ups or logins would
// otherwise leave the process tens of MiB larger long after it ended. Returning it costs a
// full collection of a small heap, at most once per burst.
const returnAfter = time.Second

func newHasher(p HashParams, maxConcurrent int) *hasher {
	if p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		p = defaultHashParams
	}
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	return &hasher{params: p, sem: make(chan struct{}, maxConcurrent), free: memtrim.Release}
}

// acquire takes a hashing slot, or gives up when ctx ends.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives the slot back and, once hashing has stopped for returnAfter, the memory.
func (h *hasher) release() {
	<-h.sem
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.settle == nil {
		h.settle = time.AfterFunc(returnAfter, h.returnMemory)
		return
	}
	h.settle.Reset(returnAfter)
}

func (h *hasher) returnMemory() {
	if len(h.sem) > 0 {
		return // a hash is running: its release sets the timer again
	}
	h.free()
}

// hash returns the PHC string of password with a fresh salt.
func (h *hasher) hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// hashCtx is hash within the concurrency bound.
func (h *hasher) hashCtx(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash(password)
}

// verify reports whether password matches the PHC string encoded, in constant time.
func (h *hasher) verify(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 || p.MemoryKiB > 1<<22 || p.Time > 64 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
