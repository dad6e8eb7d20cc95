package live

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LastWebhookAt is when the newest verified webhook still in the log (ids are kept an hour)
// was received, zero when there is none. It reads the database rather than this process's
// memory, so `parley doctor`, a process of its own, sees what the running server received.
func LastWebhookAt(ctx context.Context, sqlDB *sql.DB) (time.Time, error) {
	var ms sql.NullInt64
	if err := sqlDB.QueryRowContext(ctx, `SELECT MAX(received_at) FROM live_webhook_events`).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("live: last webhook: %w", err)
	}
	if !ms.Valid || ms.Int64 == 0 {
		return time.Time{}, nil
	}
	return msTime(ms.Int64), nil
}
