package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// SetTimer creates or replaces the timer (CaseID, Kind).
func (t *tx) SetTimer(ctx context.Context, tm bot.Timer) error {
	_, err := t.exec(ctx, `INSERT INTO timers (case_id, kind, round, due_at, experiment, variant)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, kind) DO UPDATE
		SET round = excluded.round, due_at = excluded.due_at,
		experiment = excluded.experiment, variant = excluded.variant`,
		tm.CaseID, tm.Kind, tm.Round, ms(tm.DueAt), tm.Experiment, tm.Variant)
	if err != nil {
		return writeErr(err, "set timer "+tm.Kind+" of case", tm.CaseID)
	}
	return t.notify(ctx) // idle instances sleep until the next timer they know of
}

// CancelTimer removes the timer (caseID, kind), if there is one.
func (t *tx) CancelTimer(ctx context.Context, caseID int64, kind string) error {
	if _, err := t.exec(ctx, `DELETE FROM timers WHERE case_id = $1 AND kind = $2`, caseID, kind); err != nil {
		return fmt.Errorf("store: cancel timer %s of case %d: %w", kind, caseID, err)
	}
	return nil
}

// TakeTimer deletes tm if it is still as tm says and no other transaction
// holds its row: FOR UPDATE SKIP LOCKED makes the row lock the claim of the
// instance firing it, held until its transaction ends (and dropped with it
// if the instance dies), and a second instance skips the timer instead of
// waiting to fire it again.
func (t *tx) TakeTimer(ctx context.Context, tm bot.Timer) (bool, error) {
	tag, err := t.exec(ctx, `DELETE FROM timers WHERE (case_id, kind) IN (
		SELECT case_id, kind FROM timers WHERE case_id = $1 AND kind = $2 AND round = $3 AND due_at = $4
		FOR UPDATE SKIP LOCKED)`, tm.CaseID, tm.Kind, tm.Round, ms(tm.DueAt))
	if err != nil {
		return false, fmt.Errorf("store: take timer %s of case %d: %w", tm.Kind, tm.CaseID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DueTimers lists timers due at or before now, earliest first; limit <= 0 means all.
func (t *tx) DueTimers(ctx context.Context, now time.Time, n int) ([]bot.Timer, error) {
	timers, err := collect(ctx, t, `SELECT case_id, kind, round, due_at, experiment, variant FROM timers
		WHERE due_at <= $1 ORDER BY due_at, case_id, kind LIMIT $2`, []any{ms(now), limit(n)},
		func(s scanner) (bot.Timer, error) {
			var tm bot.Timer
			var due int64
			err := s.Scan(&tm.CaseID, &tm.Kind, &tm.Round, &due, &tm.Experiment, &tm.Variant)
			tm.DueAt = msTime(due)
			return tm, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	return timers, nil
}
