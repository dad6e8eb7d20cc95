// Package memtrim hands memory the server no longer uses back to the OS when it falls idle.
package memtrim

import "runtime/debug"

// Release returns the heap's free memory to the OS (debug.FreeOSMemory) and, where the OS
// allows it, drops the pages of the executable that only start-up or a finished burst read
// (see pageOutImage). Call it when work ends, not on a hot path: it costs a full
// collection, and the code the next request needs is read back in.
func Release() {
	debug.FreeOSMemory()
	pageOutImage()
}
