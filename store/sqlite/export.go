package sqlite

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// ExportCases calls fn with each case q selects (opened in [Since, Until), on
// Platform and Channel when set; GroupBy is ignored), oldest first, reading
// from one snapshot. It stops at fn's first error and returns it.
func (db *DB) ExportCases(ctx context.Context, q bot.FunnelQuery, fn func(bot.Case) error) error {
	w := funnelWhere(q)
	rows, err := db.read.QueryContext(ctx, `SELECT `+caseCols+` FROM cases c`+w.sql()+` ORDER BY c.id`, w.args...)
	if err != nil {
		return fmt.Errorf("store: export cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return fmt.Errorf("store: export cases: %w", err)
		}
		if err := fn(*c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export cases: %w", err)
	}
	return nil
}

// ExportEvents calls fn with each funnel event of the cases q selects, in the
// order they were recorded. It stops at fn's first error and returns it.
func (db *DB) ExportEvents(ctx context.Context, q bot.FunnelQuery, fn func(bot.CaseEvent) error) error {
	w := funnelWhere(q)
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventCols+` FROM case_events e
		JOIN cases c ON c.id = e.case_id`+w.sql()+` ORDER BY e.id`, w.args...)
	if err != nil {
		return fmt.Errorf("store: export events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("store: export events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export events: %w", err)
	}
	return nil
}
