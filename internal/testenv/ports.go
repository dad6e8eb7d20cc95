package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// Ports are picked by number and bound later by another process (Parley, LiveKit, Pebble), so a
// pick must stay unique until then. Three things could take it meanwhile, and each is ruled out:
//   - another pick in this process: every port handed out is remembered;
//   - another test binary (go test runs packages in parallel): a pick holds an flock on a file
//     named after the port until this process exits;
//   - the kernel, handing it to someone's outgoing connection or bind(":0"): picks come from
//     below Linux's ephemeral range (32768-60999), which the kernel never assigns on its own.
//
// The ranges also stay clear of a default Parley on the same machine (8090, 7880-7881,
// 3478/5349, UDP 50000-60000) and of LiveKit's TURN relays (30000-40000 by default).
const (
	tcpPortLow, tcpPortHigh = 10000, 20000 // FreePort
	udpPortLow, udpPortHigh = 20000, 30000 // FreeUDPRange
)

var picked struct {
	sync.Mutex
	ports map[int]bool
	locks []*os.File // kept open: closing one would release its flock
}

// claim reserves port for this process, or reports that someone already has it.
func claim(port int) bool {
	if picked.ports[port] {
		return false
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-test-ports-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	if picked.ports == nil {
		picked.ports = map[int]bool{}
	}
	picked.ports[port] = true
	picked.locks = append(picked.locks, f)
	return true
}

// bindable reports whether nothing on this machine holds port on any address.
func bindable(network string, port int) bool {
	addr := fmt.Sprintf(":%d", port)
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		return c.Close() == nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// FreePort returns a TCP port nobody holds, reserved for this test process.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := FreePortE()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreePortE is FreePort for callers without a testing.TB.
func FreePortE() (int, error) {
	picked.Lock()
	defer picked.Unlock()
	for attempt := 0; attempt < 200; attempt++ {
		p := tcpPortLow + rand.IntN(tcpPortHigh-tcpPortLow)
		if bindable("tcp", p) && bindable("udp", p) && claim(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free TCP port in %d-%d", tcpPortLow, tcpPortHigh)
}

// FreeUDPRange returns the first of n consecutive UDP ports nobody holds, reserved for this
// test process.
func FreeUDPRange(t testing.TB, n int) int {
	t.Helper()
	p, err := FreeUDPRangeE(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreeUDPRangeE is FreeUDPRange for callers without a testing.TB.
func FreeUDPRangeE(n int) (int, error) {
	picked.Lock()
	defer picked.Unlock()
	for attempt := 0; attempt < 200; attempt++ {
		start := udpPortLow + rand.IntN(udpPortHigh-udpPortLow-n)
		if rangeFree(start, n) {
			return start, nil
		}
	}
	return 0, fmt.Errorf("no free UDP range of %d ports in %d-%d", n, udpPortLow, udpPortHigh)
}

// rangeFree claims start..start+n-1 when all of them are free; a partly claimed range is kept
// claimed (the ports stay unused, which is harmless) rather than released for a racing process.
func rangeFree(start, n int) bool {
	for p := start; p < start+n; p++ {
		if picked.ports[p] || !bindable("udp", p) {
			return false
		}
	}
	for p := start; p < start+n; p++ {
		if !claim(p) {
			return false
		}
	}
	return true
}
