package builtin

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Usage is this process's resource use at one moment; benchmarks take two and compare.
type Usage struct {
	At time.Time
	// CPU is user+system time of this process; ChildCPU that of its reaped children (ffmpeg).
	CPU, ChildCPU time.Duration
	RSSBytes      int64
}

// ReadUsage samples getrusage and /proc/self/statm.
func ReadUsage() (Usage, error) {
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return Usage{}, err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		return Usage{}, err
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return Usage{}, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return Usage{}, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Usage{}, err
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return Usage{At: time.Now(), CPU: tv(self.Utime) + tv(self.Stime), ChildCPU: tv(children.Utime) + tv(children.Stime),
		RSSBytes: pages * int64(os.Getpagesize())}, nil
}

// CPUPercent is the CPU this process used between a and b, in % of one core.
func CPUPercent(a, b Usage) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.CPU-a.CPU) / float64(wall)
}
