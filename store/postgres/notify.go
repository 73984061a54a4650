package postgres

import (
	"context"
	"fmt"
	"time"
)

// outboxChannel is the LISTEN/NOTIFY channel on which a committed
// transaction that queued outbox actions or set a timer wakes every
// instance's relay and timers.
const outboxChannel = "advocate_outbox"

// notify queues the outbox notification, sent when t commits (once, however
// many actions and timers it queued).
func (t *tx) notify(ctx context.Context) error {
	if t.notified {
		return nil
	}
	if _, err := t.exec(ctx, `SELECT pg_notify($1, '')`, outboxChannel); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	t.notified = true
	return nil
}

// Listen calls wake whenever another transaction, of any instance, has
// committed outbox actions or timers, until ctx ends, and once as it starts
// listening (for what was committed before). It holds one connection of the
// pool, and takes a new one after an error.
func (db *DB) Listen(ctx context.Context, wake func()) error {
	for ctx.Err() == nil {
		err := db.listen(ctx, wake)
		if ctx.Err() != nil {
			break
		}
		db.log.Warn("outbox notifications lost; listening again", "err", err)
		wake() // something may have been queued meanwhile
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (db *DB) listen(ctx context.Context, wake func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+outboxChannel); err != nil {
		return err
	}
	wake()
	defer func() {
		// The connection goes back to the pool: stop listening on it.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "UNLISTEN *")
	}()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
