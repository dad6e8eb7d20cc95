package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Picks in one process never repeat, even once the port is free again.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 300; i++ {
		p := FreePort(t)
		if seen[p] || p < tcpPortLow || p >= tcpPortHigh {
			t.Fatalf("pick %d: port %d repeated or outside %d-%d", i, p, tcpPortLow, tcpPortHigh)
		}
		seen[p] = true
	}
	start := FreeUDPRange(t, 20)
	for p := start; p < start+20; p++ {
		if seen[p] {
			t.Fatalf("UDP range %d+20 overlaps TCP pick %d", start, p)
		}
	}
	if again := FreeUDPRange(t, 20); again < start+20 && again+20 > start {
		t.Fatalf("UDP ranges %d and %d overlap", start, again)
	}
}

// Another process cannot take a port this one picked: the child tries to claim it and fails.
func TestFreePortHeldAgainstOtherProcesses(t *testing.T) {
	if p := os.Getenv("PARLEY_TESTENV_CLAIM"); p != "" {
		n, _ := strconv.Atoi(p)
		picked.Lock()
		ok := claim(n)
		picked.Unlock()
		if ok {
			os.Stdout.WriteString("claimed\n")
		} else {
			os.Stdout.WriteString("refused\n")
		}
		return
	}
	p := FreePort(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreePortHeldAgainstOtherProcesses$")
	cmd.Env = append(os.Environ(), "PARLEY_TESTENV_CLAIM="+strconv.Itoa(p))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "refused") {
		t.Fatalf("another process claimed port %d this one holds: %s", p, out)
	}
}
