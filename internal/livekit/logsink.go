package livekit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// logSink receives LiveKit's stdout and stderr, logs each line with component=livekit at
// its level, and keeps the recent lines to explain an exit.
type logSink struct {
	log  *slog.Logger
	mu   sync.Mutex
	buf  []byte
	tail []string // last lines that look like errors
	// dec and src read one JSON line at a time (under mu). jsontext reads a line's fields
	// one by one, each value as LiveKit wrote it: decoding lines into maps and then
	// encoding them again was the largest cost of Parley's own beside a busy LiveKit.
	dec   *jsontext.Decoder
	src   bytes.Reader
	attrs []slog.Attr
}

const tailLines = 8

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	rest := s.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		s.line(rest[:i])
		rest = rest[i+1:]
	}
	s.buf = append(s.buf[:0], rest...)
	if len(s.buf) > 64<<10 { // a line this long is logged in pieces rather than held forever
		s.line(s.buf)
		s.buf = s.buf[:0]
	}
	return len(p), nil
}

func (s *logSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		s.line(s.buf)
		s.buf = nil
	}
}

// line logs one line. JSON lines (logging.json) keep their level and fields; plain lines
// are LiveKit's fatal messages ("TURN domain required") or library output, logged as warnings.
func (s *logSink) line(l []byte) {
	l = bytes.TrimRight(l, "\r")
	if len(bytes.TrimSpace(l)) == 0 {
		return
	}
	if l[0] == '{' && s.jsonLine(l) {
		return
	}
	s.log.Warn(string(l))
	s.keep(string(l))
}

// jsonLine logs a JSON object line; false if l is not one (nothing was logged then). A line
// below the log's level is dropped once its level is read (zap writes it first).
func (s *logSink) jsonLine(l []byte) bool {
	s.src.Reset(l)
	// zap repeats a field given twice (a logger's fields and a call's): not an error here.
	if s.dec == nil {
		s.dec = jsontext.NewDecoder(&s.src, duplicatesAllowed)
	} else {
		s.dec.Reset(&s.src, duplicatesAllowed)
	}
	d := s.dec
	if t, err := d.ReadToken(); err != nil || t.Kind() != '{' {
		return false
	}
	lvl, msg, errText := slog.LevelInfo, "", ""
	s.attrs = s.attrs[:0]
	for d.PeekKind() != '}' {
		kt, err := d.ReadToken()
		if err != nil {
			return false
		}
		k := kt.String()
		if k == "ts" || k == "logger" { // Parley's record has its own time and component
			if d.SkipValue() != nil {
				return false
			}
			continue
		}
		if d.PeekKind() != '"' {
			v, err := d.ReadValue()
			if err != nil {
				return false
			}
			if k != "level" && k != "msg" {
				s.attrs = append(s.attrs, slog.Any(k, rawJSON(v)))
			}
			continue
		}
		vt, err := d.ReadToken()
		if err != nil {
			return false
		}
		v := vt.String()
		switch k {
		case "level":
			if lvl = zapLevel(v); !s.log.Enabled(context.Background(), lvl) {
				return true
			}
		case "msg":
			msg = v
		default:
			if k == "error" {
				errText = v
			}
			s.attrs = append(s.attrs, slog.String(k, v))
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return false
	}
	s.log.LogAttrs(context.Background(), lvl, msg, s.attrs...)
	if lvl >= slog.LevelError {
		if errText != "" {
			msg += ": " + errText
		}
		s.keep(msg)
	}
	return true
}

var duplicatesAllowed = jsontext.AllowDuplicateNames(true)

// rawJSON is a field's value as LiveKit wrote it (a number, true, an object): the same text
// in Parley's text log and the same JSON in its JSON log.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
func (r rawJSON) MarshalText() ([]byte, error) { return []byte(r), nil }

func (s *logSink) keep(l string) {
	s.tail = append(s.tail, l)
	if len(s.tail) > tailLines {
		s.tail = s.tail[1:]
	}
}

// reason is the last error-like line LiveKit printed.
func (s *logSink) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return ""
	}
	return s.tail[len(s.tail)-1]
}

func zapLevel(l string) slog.Level {
	switch strings.ToLower(l) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	default: // error, dpanic, panic, fatal
		return slog.LevelError
	}
}
