package sqlite

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes what the store needs only for a while: inbound event IDs
// recorded before cutoff (platforms retry for minutes, not days) and outbox
// actions delivered before cutoff. Dead actions stay for an operator to see.
// It returns how many event IDs and actions it deleted.
func (db *DB) Prune(ctx context.Context, cutoff time.Time) (events, actions int, err error) {
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: prune: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	counts := [2]int{}
	for i, q := range []string{
		`DELETE FROM processed_events WHERE at < ?`,
		`DELETE FROM outbox WHERE state = 'delivered' AND done_at < ?`,
	} {
		res, err := t.ExecContext(ctx, q, ms(cutoff))
		if err != nil {
			return 0, 0, fmt.Errorf("store: prune: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, fmt.Errorf("store: prune: %w", err)
		}
		counts[i] = int(n)
	}
	if err := t.Commit(); err != nil {
		return 0, 0, fmt.Errorf("store: prune: %w", err)
	}
	return counts[0], counts[1], nil
}
