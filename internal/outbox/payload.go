package outbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// payload is an event's body: {"data": {...data, "room"}, "timestamp", "type"}, keys in
// order, as encoding/json writes maps. It runs inside the webhook writer's transaction,
// the one serial step of ingestion, for every event: string values (nearly all of them) are
// written directly, only others go through encoding/json, whose map encoding (reflection,
// key sorting, copies) was most of the outbox's share of that step (bench/README.md).
func payload(ev Event) ([]byte, error) {
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	keys := make([]string, 0, len(ev.Data)+1)
	for k := range ev.Data {
		if k != "room" || ev.Room == "" {
			keys = append(keys, k)
		}
	}
	if ev.Room != "" {
		keys = append(keys, "room")
	}
	slices.Sort(keys)
	b := make([]byte, 0, 96+32*len(keys))
	b = append(b, `{"data":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var v any = ev.Room
		if k != "room" || ev.Room == "" {
			v = ev.Data[k]
		}
		if str, ok := v.(string); ok {
			b = appendString(b, str)
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("outbox: %s payload: %w", ev.Type, err)
		}
		b = append(b, enc...)
	}
	b = append(b, `},"timestamp":`...)
	b = appendString(b, at.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"type":`...)
	b = appendString(b, ev.Type)
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json escapes it (HTML
// characters, U+2028 and U+2029 included; invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
