package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// The dead-letter view: the outbox actions the relay gave up on, listed
// without their message text, and put back in the queue. Whether one may go
// out again is the core's decision (bot.Core.RetryDead); the store lists and
// requeues.

// deadWhere selects the dead actions f selects.
func deadWhere(f bot.DeadFilter) where {
	var w where
	w.add("state = ?", stateDead)
	w.addIf(f.Platform != "", "platform = ?", f.Platform)
	w.addIf(f.CaseID != 0, "case_id = ?", f.CaseID)
	w.addIf(f.Before != 0, "id < ?", f.Before)
	return w
}

// deadCols are the columns scanDead reads, in its order.
const deadCols = `id, coalesce(case_id, 0), platform, kind, place, msg_key, purpose, subject, attempts,
	last_err, created_at, done_at, msg IS NULL, state`

func scanDead(s scanner) (bot.DeadLetter, string, error) {
	var (
		d       bot.DeadLetter
		created int64
		done    sql.NullInt64
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

// DeadLetters lists the dead actions f selects, newest first, at most limit
// (<= 0: all), and the total matching.
func (t *tx) DeadLetters(ctx context.Context, f bot.DeadFilter, limit int) ([]bot.DeadLetter, int, error) {
	w := deadWhere(f)
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM outbox`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	rows, err := t.query(ctx, `SELECT `+deadCols+` FROM outbox`+w.sql()+` ORDER BY id DESC LIMIT ?`,
		append(w.args, sqlLimit(limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	defer rows.Close()
	var out []bot.DeadLetter
	for rows.Next() {
		d, _, err := scanDead(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: dead letters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	return out, total, nil
}

// DeadLetter returns action id: bot.ErrNotFound if there is none,
// bot.ErrConflict if it is not dead.
func (t *tx) DeadLetter(ctx context.Context, id int64) (bot.DeadLetter, error) {
	d, state, err := scanDead(t.queryRow(ctx, `SELECT `+deadCols+` FROM outbox WHERE id = ?`, id))
	if err != nil {
		return bot.DeadLetter{}, notFound(err, "outbox action", id)
	}
	if state != stateDead {
		return d, fmt.Errorf("store: outbox action %d is %s: %w", id, state, bot.ErrConflict)
	}
	return d, nil
}

const requeueSQL = `UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, done_at = NULL
	WHERE id = ? AND state = 'dead'`

// Requeue puts dead action id back in the queue, due now.
func (t *tx) Requeue(ctx context.Context, id int64) error {
	res, err := t.exec(ctx, requeueSQL, ms(t.now), id)
	if err != nil {
		return fmt.Errorf("store: requeue %d: %w", id, err)
	}
	return mustAffect(res, "requeue dead action", id)
}
