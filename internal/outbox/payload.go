package outbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley/parley/internal/jsonw"
)

// payload is an event's body: {"data": {...data, "identity", "room"}, "timestamp", "type"},
// keys in order, as encoding/json writes maps. It runs inside the webhook writer's
// transaction, the one serial step of ingestion, for every event: string values (nearly all
// of them) are written directly, only others go through encoding/json, whose map encoding
// (reflection, key sorting, copies) was most of the outbox's share of that step
// (bench/README.md). The event's own fields (identity, room) are written beside the map's,
// replacing a key of the same name, so that callers need not copy their maps to add them.
func payload(ev Event) ([]byte, error) {
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	var ownArr [2][2]string
	own := ownArr[:0]
	if ev.Identity != "" {
		own = append(own, [2]string{"identity", ev.Identity})
	}
	if ev.Room != "" {
		own = append(own, [2]string{"room", ev.Room})
	}
	keys := make([]string, 0, len(ev.Data)+len(own))
	for k := range ev.Data {
		if _, mine := ownValue(own, k); !mine {
			keys = append(keys, k)
		}
	}
	for _, f := range own {
		keys = append(keys, f[0])
	}
	slices.Sort(keys)
	b := make([]byte, 0, 96+32*len(keys))
	b = append(b, `{"data":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, k)
		b = append(b, ':')
		if v, mine := ownValue(own, k); mine {
			b = jsonw.AppendString(b, v)
			continue
		}
		v := ev.Data[k]
		if str, ok := v.(string); ok {
			b = jsonw.AppendString(b, str)
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("outbox: %s payload: %w", ev.Type, err)
		}
		b = append(b, enc...)
	}
	// An RFC 3339 time has nothing to escape.
	b = append(b, `},"timestamp":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = jsonw.AppendString(b, ev.Type)
	return append(b, '}'), nil
}

// ownValue finds key among the event's own fields.
func ownValue(own [][2]string, key string) (string, bool) {
	for _, f := range own {
		if f[0] == key {
			return f[1], true
		}
	}
	return "", false
}
