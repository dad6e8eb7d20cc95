package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The test binary's own pages are found and reclaimed: its file-backed RSS falls.
func TestReleaseDropsImagePages(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if len(imageRanges(exe)) == 0 {
		t.Fatalf("no read-only mapping of %s in /proc/self/maps", exe)
	}
	before := rssFileKiB(t)
	Release()
	after := rssFileKiB(t)
	if after >= before {
		t.Fatalf("RssFile %d KiB before Release, %d KiB after: nothing was reclaimed", before, after)
	}
	t.Logf("RssFile %d KiB -> %d KiB", before, after)
}

func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
