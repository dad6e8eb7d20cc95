package memtrim

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pageOutImage asks the kernel (MADV_PAGEOUT) to reclaim the read-only pages of Parley's
// own executable. Start-up reads a large part of a binary this size once (package
// initialisation, protobuf descriptors, migrations) and never again, yet those pages stay
// counted in the process's RSS until memory runs short; what is still in use comes back on
// its next access, a read from the page cache or the disk. Writable mappings are left
// alone: their pages are the program's data. An older kernel without MADV_PAGEOUT answers
// EINVAL, which changes nothing.
func pageOutImage() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	for _, r := range imageRanges(exe) {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_PAGEOUT)
	}
}

// imageRanges lists [start, end) of the read-only mappings of the file exe in
// /proc/self/maps.
func imageRanges(exe string) [][2]uintptr {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && end > start {
			out = append(out, [2]uintptr{uintptr(start), uintptr(end)})
		}
	}
	return out
}
