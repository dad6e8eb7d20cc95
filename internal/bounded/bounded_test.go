package bounded

import "testing"

func fill(n int) map[int]int {
	m := make(map[int]int, n)
	for i := range n {
		m[i] = i
	}
	return m
}

func TestPruneLeavesSmallMaps(t *testing.T) {
	m := fill(Limit)
	Prune(m, func(int) bool { return true })
	if len(m) != Limit {
		t.Fatalf("len = %d, want %d untouched", len(m), Limit)
	}
}

func TestPruneDropsStaleFirst(t *testing.T) {
	m := fill(Limit + 10)
	Prune(m, func(v int) bool { return v%2 == 0 })
	if len(m) != (Limit+10)/2 {
		t.Fatalf("len = %d, want only the odd entries", len(m))
	}
	if _, ok := m[1]; !ok {
		t.Fatal("a live entry was dropped")
	}
}

func TestPruneClearsWhenNothingIsStale(t *testing.T) {
	for _, stale := range []func(int) bool{nil, func(int) bool { return false }} {
		m := fill(Limit + 1)
		Prune(m, stale)
		if len(m) != 0 {
			t.Fatalf("len = %d, want a cleared map", len(m))
		}
	}
}
