package outbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley/parley/internal/jsonw"
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
		b = jsonw.AppendString(b, k)
		b = append(b, ':')
		var v any = ev.Room
		if k != "room" || ev.Room == "" {
			v = ev.Data[k]
		}
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
	b = append(b, `},"timestamp":`...)
	b = jsonw.AppendString(b, at.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"type":`...)
	b = jsonw.AppendString(b, ev.Type)
	return append(b, '}'), nil
}
