// Package bounded holds the one rule Parley's in-process lookup maps share: they are caches,
// never records, so they stay under a fixed size instead of growing with traffic.
package bounded

// Limit is how many entries a map may hold before Prune makes room.
const Limit = 10000

// Prune makes room in m before an insert. Past Limit entries it deletes those stale reports
// as dead (nil: none); when that is not enough it clears m, because losing a cache entry
// costs one extra lookup while an unbounded map costs the process.
func Prune[K comparable, V any](m map[K]V, stale func(V) bool) {
	if len(m) <= Limit {
		return
	}
	if stale != nil {
		for k, v := range m {
			if stale(v) {
				delete(m, k)
			}
		}
		if len(m) <= Limit {
			return
		}
	}
	clear(m)
}
