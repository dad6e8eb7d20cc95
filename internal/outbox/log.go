package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The delivery log: what the admin routes read and replay.

// listDeliveries is an endpoint's delivery log, newest first, from the cursor (an id) on.
func (s store) listDeliveries(ctx context.Context, endpointID, status string, before int64, limit int) ([]Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM outbox_deliveries WHERE endpoint_id = ?`
	args := []any{endpointID}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, _, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s store) delivery(ctx context.Context, endpointID string, id int64) (Delivery, error) {
	d, _, err := scanDelivery(s.db.QueryRowContext(ctx, s.q(`SELECT `+deliveryCols+` FROM outbox_deliveries
		WHERE endpoint_id = ? AND id = ?`), endpointID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, fmt.Errorf("delivery %d of webhook endpoint %q: %w", id, endpointID, ErrNotFound)
	}
	return d, err
}

// requeue makes a delivery pending again, due now, with a new retry window: it keeps its
// place in its room's queue, so a replayed event is still delivered before later ones.
func (s store) requeue(ctx context.Context, endpointID string, id, now int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox_deliveries SET status = 'pending', next_at = ?, retry_from = ?
		WHERE endpoint_id = ? AND id = ?`), now, now, endpointID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delivery %d of webhook endpoint %q: %w", id, endpointID, ErrNotFound)
	}
	return nil
}

// counts returns pending and dead deliveries per endpoint.
func (s store) counts(ctx context.Context) (map[string][2]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT endpoint_id, status, COUNT(*) FROM outbox_deliveries
		WHERE status <> 'delivered' GROUP BY endpoint_id, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]int{}
	for rows.Next() {
		var id, status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return nil, err
		}
		c := out[id]
		if status == StatusPending {
			c[0] = n
		} else {
			c[1] = n
		}
		out[id] = c
	}
	return out, rows.Err()
}
