//go:build !linux

package memtrim

func pageOutImage() {}
