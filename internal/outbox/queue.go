package outbox

import (
	"context"
	"time"
)

// The reads of the delivery queues: one (endpoint, room) queue is its pending deliveries in
// id order.

const deliveryCols = `id, endpoint_id, event_id, event_type, room, payload, status, attempts, created_at, next_at,
	last_at, last_status, last_error, delivered_at, retry_from`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, int64, error) {
	var d Delivery
	var created, next, last, delivered, retryFrom int64
	err := sc.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.Room, &d.Payload, &d.Status, &d.Attempts,
		&created, &next, &last, &d.LastStatus, &d.LastError, &delivered, &retryFrom)
	d.CreatedAt = time.UnixMilli(created).UTC()
	opt := func(ms int64) *time.Time {
		if ms == 0 {
			return nil
		}
		t := time.UnixMilli(ms).UTC()
		return &t
	}
	d.LastAt, d.DeliveredAt = opt(last), opt(delivered)
	if d.Status == StatusPending {
		d.NextAt = opt(next)
	}
	return d, retryFrom, err
}

// due returns the head of every (endpoint, room) queue whose next attempt is due: a queue's
// later deliveries wait until its head is delivered or dead, which keeps each room in order.
// The heads come from one pass over the partial index of pending rows.
func (s store) due(ctx context.Context, now int64, limit int) ([]Delivery, []int64, error) {
	return s.queued(ctx, -1, `SELECT `+deliveryCols+` FROM outbox_deliveries
		WHERE id IN (SELECT MIN(id) FROM outbox_deliveries WHERE status = 'pending' GROUP BY endpoint_id, room)
			AND next_at <= ? ORDER BY id LIMIT ?`, now, limit)
}

// following returns up to limit deliveries after d in its queue, oldest first, stopping at
// the first that is not due: one read of the pending index serves a run of attempts.
func (s store) following(ctx context.Context, d Delivery, now int64, limit int) ([]Delivery, []int64, error) {
	return s.queued(ctx, now, `SELECT `+deliveryCols+` FROM outbox_deliveries
		WHERE endpoint_id = ? AND room = ? AND status = 'pending' AND id > ? ORDER BY id LIMIT ?`, d.EndpointID, d.Room, d.ID, limit)
}

// queued reads deliveries and their retry_from; with dueBy >= 0 it stops at the first not
// due by then.
func (s store) queued(ctx context.Context, dueBy int64, query string, args ...any) ([]Delivery, []int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []Delivery
	var from []int64
	for rows.Next() {
		d, rf, err := scanDelivery(rows)
		if err != nil {
			return nil, nil, err
		}
		if dueBy >= 0 && d.NextAt != nil && d.NextAt.UnixMilli() > dueBy {
			break
		}
		out, from = append(out, d), append(from, rf)
	}
	return out, from, rows.Err()
}
