package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

const setTimerSQL = `INSERT INTO timers (case_id, kind, round, due_at, experiment, variant)
	VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, kind) DO UPDATE
	SET round = excluded.round, due_at = excluded.due_at,
	experiment = excluded.experiment, variant = excluded.variant`

// SetTimer creates or replaces the timer (CaseID, Kind).
func (t *tx) SetTimer(ctx context.Context, tm bot.Timer) error {
	_, err := t.exec(ctx, setTimerSQL, tm.CaseID, tm.Kind, tm.Round, ms(tm.DueAt), tm.Experiment, tm.Variant)
	if err != nil {
		return writeErr(err, "set timer "+tm.Kind+" of case", tm.CaseID)
	}
	return nil
}

const cancelTimerSQL = `DELETE FROM timers WHERE case_id = ? AND kind = ?`

// CancelTimer removes the timer (caseID, kind), if there is one.
func (t *tx) CancelTimer(ctx context.Context, caseID int64, kind string) error {
	_, err := t.exec(ctx, cancelTimerSQL, caseID, kind)
	if err != nil {
		return fmt.Errorf("store: cancel timer %s of case %d: %w", kind, caseID, err)
	}
	return nil
}

const takeTimerSQL = `DELETE FROM timers WHERE case_id = ? AND kind = ? AND round = ? AND due_at = ?`

// TakeTimer deletes tm if it is still as tm says. One writer at a time: no
// other transaction can be taking it.
func (t *tx) TakeTimer(ctx context.Context, tm bot.Timer) (bool, error) {
	res, err := t.exec(ctx, takeTimerSQL, tm.CaseID, tm.Kind, tm.Round, ms(tm.DueAt))
	if err != nil {
		return false, fmt.Errorf("store: take timer %s of case %d: %w", tm.Kind, tm.CaseID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: take timer %s of case %d: %w", tm.Kind, tm.CaseID, err)
	}
	return n == 1, nil
}

const dueTimersSQL = `SELECT case_id, kind, round, due_at, experiment, variant FROM timers
	WHERE due_at <= ? ORDER BY due_at, case_id, kind LIMIT ?`

// DueTimers lists timers due at or before now, earliest first; limit <= 0 means all.
func (t *tx) DueTimers(ctx context.Context, now time.Time, limit int) ([]bot.Timer, error) {
	rows, err := t.query(ctx, dueTimersSQL, ms(now), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	defer rows.Close()
	var timers []bot.Timer
	for rows.Next() {
		var (
			tm  bot.Timer
			due int64
		)
		if err := rows.Scan(&tm.CaseID, &tm.Kind, &tm.Round, &due, &tm.Experiment, &tm.Variant); err != nil {
			return nil, fmt.Errorf("store: due timers: %w", err)
		}
		tm.DueAt = msTime(due)
		timers = append(timers, tm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	return timers, nil
}
