package edge

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
)

// errTooManyFiles is the accept error worth waiting out (file descriptors run short).
var errTooManyFiles = syscall.EMFILE

// stunMagicCookie is at bytes 4..8 of every STUN message (RFC 5389), and so of the first
// message a TURN client sends.
const stunMagicCookie = 0x2112A442

type connKind int

const (
	kindDrop connKind = iota
	kindHTTP
	kindTURN
)

// IsSTUN reports whether b starts like a STUN message: the two top bits of the first byte
// zero and the magic cookie at bytes 4..8. An HTTP request starts with an ASCII letter
// (top bits 01), so the first byte alone tells most connections apart.
func IsSTUN(b []byte) bool {
	return len(b) >= 8 && b[0]&0xC0 == 0 && binary.BigEndian.Uint32(b[4:8]) == stunMagicCookie
}

// sniff reads the first bytes of a connection and says what it carries. It returns as soon
// as the first byte rules STUN out; everything read is replayed to whoever gets the
// connection. A client that sends nothing before the deadline is HTTP (an idle
// browser preconnect).
func sniff(c net.Conn) ([]byte, connKind) {
	buf := make([]byte, 0, 512)
	for {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > 0 && buf[0]&0xC0 != 0:
			return buf, kindHTTP
		case len(buf) >= 8:
			if IsSTUN(buf) {
				return buf, kindTURN
			}
			return buf, kindHTTP
		}
		if err != nil {
			var ne net.Error
			if len(buf) == 0 && errors.As(err, &ne) && ne.Timeout() {
				return nil, kindHTTP
			}
			return nil, kindDrop // closed, or a few bytes that are neither and then silence
		}
	}
}
