package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// deadWhere selects the dead actions f selects.
func deadWhere(f bot.DeadFilter) *where {
	w := &where{}
	w.add("state = 'dead'")
	if f.Platform != "" {
		w.add("platform = " + w.arg(f.Platform))
	}
	if f.CaseID != 0 {
		w.add("case_id = " + w.arg(f.CaseID))
	}
	if f.Before != 0 {
		w.add("id < " + w.arg(f.Before))
	}
	return w
}

// deadCols are the columns scanDead reads, in its order.
const deadCols = `id, coalesce(case_id, 0), platform, kind, place, msg_key, purpose, subject, attempts,
	last_err, created_at, done_at, msg IS NULL, state`

func scanDead(s scanner) (bot.DeadLetter, string, error) {
	var (
		d       bot.DeadLetter
		created int64
		done    *int64
		state   string
	)
	err := s.Scan(&d.ID, &d.CaseID, &d.Platform, &d.Kind, &d.Place, &d.Key, &d.Purpose, &d.Subject,
		&d.Attempts, &d.LastErr, &created, &done, &d.Erased, &state)
	if err != nil {
		return bot.DeadLetter{}, "", err
	}
	d.CreatedAt, d.DiedAt = msTime(created), fromMs(done)
	return d, state, nil
}

// DeadLetters lists the dead actions f selects, newest first, at most n
// (<= 0: all), and the total matching.
func (t *tx) DeadLetters(ctx context.Context, f bot.DeadFilter, n int) ([]bot.DeadLetter, int, error) {
	w := deadWhere(f)
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM outbox`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	q := `SELECT ` + deadCols + ` FROM outbox` + w.sql() + ` ORDER BY id DESC LIMIT ` + w.arg(limit(n))
	out, err := collect(ctx, t, q, w.args, func(s scanner) (bot.DeadLetter, error) {
		d, _, err := scanDead(s)
		return d, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	return out, total, nil
}

// DeadLetter returns action id: bot.ErrNotFound if there is none,
// bot.ErrConflict if it is not dead.
func (t *tx) DeadLetter(ctx context.Context, id int64) (bot.DeadLetter, error) {
	d, state, err := scanDead(t.queryRow(ctx, `SELECT `+deadCols+` FROM outbox WHERE id = $1`, id))
	if err != nil {
		return bot.DeadLetter{}, notFound(err, "outbox action", id)
	}
	if state != "dead" {
		return d, fmt.Errorf("store: outbox action %d is %s: %w", id, state, bot.ErrConflict)
	}
	return d, nil
}

// Requeue puts dead action id back in the queue, due now.
func (t *tx) Requeue(ctx context.Context, id int64) error {
	tag, err := t.exec(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_at = $1, done_at = NULL
		WHERE id = $2 AND state = 'dead'`, ms(t.now), id)
	if err != nil {
		return fmt.Errorf("store: requeue %d: %w", id, err)
	}
	if err := mustAffect(tag, "requeue dead action", id); err != nil {
		return err
	}
	return t.notify(ctx)
}
